import { createHash } from 'node:crypto';

/**
 * Stable identifiers derived from names, so the same fabric always gets the
 * same VRRP router ids and MAC addresses and two fabrics rarely share one.
 */
function digest(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** A VRRP router id in 1..255 derived from the fabric and VIP names. */
export function derivedRouterId(fabricName: string, vipName: string): number {
  return (digest(`vrrp/${fabricName}/${vipName}`).readUInt16BE(0) % 255) + 1;
}

/** A MAC address with the platform's prefix, derived from fabric, node and NIC names. */
export function derivedMac(prefix: string, fourthOctetMask: number, fabricName: string, nodeName: string, nic: string): string {
  const bytes = digest(`mac/${fabricName}/${nodeName}/${nic}`);
  const tail = [bytes[0] & fourthOctetMask, bytes[1], bytes[2]];
  return `${prefix}:${tail.map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(text: unknown): text is string {
  return typeof text === 'string' && DNS_LABEL.test(text);
}

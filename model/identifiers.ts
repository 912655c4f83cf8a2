import { createHash } from 'node:crypto';

/**
 * Stable identifiers derived from names, so the same fabric always gets the
 * same VRRP router ids and MAC addresses and two fabrics rarely share one.
 */
function digest(seed: string): Buffer {
  return createHash('sha256').update(seed).digest();
}

/** 8 hex digits of the SHA-256 of a text: a short, stable name for a value that cannot name a thing itself (a URL, a path). */
export function shortDigest(text: string): string {
  return digest(text).toString('hex').slice(0, 8);
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

const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const DNS_LABEL = new RegExp(`^${LABEL}$`);
/** Dot-separated DNS labels, at most 253 characters in all. */
const DOMAIN_NAME = `^(?=.{1,253}$)(${LABEL})(\\.${LABEL})*$`;
const LOWER_CASE_DOMAIN_NAME = new RegExp(DOMAIN_NAME);
const ANY_CASE_DOMAIN_NAME = new RegExp(DOMAIN_NAME, 'i');

export function isDnsLabel(text: unknown): text is string {
  return typeof text === 'string' && DNS_LABEL.test(text);
}

/** A domain name in lower case, e.g. a search domain. */
export function isDomainName(text: unknown): text is string {
  return typeof text === 'string' && LOWER_CASE_DOMAIN_NAME.test(text);
}

/** A host name in any case, e.g. an NTP server's. */
export function isHostName(text: unknown): text is string {
  return typeof text === 'string' && ANY_CASE_DOMAIN_NAME.test(text);
}

/**
 * Debian's adduser NAME_REGEX, at most 32 characters (useradd's limit): the
 * name reaches a unit's User= and cloud-init's user list.
 */
const SYSTEM_USER_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

export function isSystemUserName(text: unknown): text is string {
  return typeof text === 'string' && SYSTEM_USER_NAME.test(text);
}

/** cloud-init's instance-id of a node: stable for the node's life, so a reboot does not re-run first-boot modules. */
export function instanceIdOf(fabricName: string, nodeName: string): string {
  return `${fabricName}-${nodeName}`;
}

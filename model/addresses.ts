import * as ipaddr from 'ipaddr.js';

/** An IPv4 network, parsed from CIDR notation. */
export interface Ipv4Network {
  readonly address: ipaddr.IPv4;
  readonly prefixLength: number;
  readonly networkAddress: string;
  readonly broadcastAddress: string;
}

/** Strict dotted-quad IPv4 (ipaddr.js alone also accepts `10.1` and octal forms). */
export function isIpv4(text: unknown): text is string {
  return typeof text === 'string' && ipaddr.IPv4.isValidFourPartDecimal(text);
}

export function parseIpv4Cidr(text: unknown): Ipv4Network | undefined {
  if (typeof text !== 'string' || !text.includes('/')) return undefined;
  const [addr, prefix] = text.split('/');
  if (!isIpv4(addr) || !/^\d{1,2}$/.test(prefix)) return undefined;
  try {
    const [address, prefixLength] = ipaddr.IPv4.parseCIDR(text);
    return {
      address,
      prefixLength,
      networkAddress: ipaddr.IPv4.networkAddressFromCIDR(text).toString(),
      broadcastAddress: ipaddr.IPv4.broadcastAddressFromCIDR(text).toString(),
    };
  } catch {
    return undefined;
  }
}

export function inNetwork(address: string, network: Ipv4Network): boolean {
  return ipaddr.IPv4.parse(address).match(network.address, network.prefixLength);
}

/** The address `offset` places after `address`, or undefined past 255.255.255.255. */
export function offsetIpv4(address: string, offset: number): string | undefined {
  const value = ipaddr.IPv4.parse(address).toByteArray().reduce((acc, octet) => acc * 256 + octet, 0) + offset;
  if (value < 0 || value > 0xffffffff) return undefined;
  return ipaddr.IPv4.parse(String(value >>> 0)).toString();
}

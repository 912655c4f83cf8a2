/** Small checks more than one cluster's builder makes; each adds a problem naming `where` when the value fails. */
import { inNetwork, Ipv4Network, offsetIpv4 } from '../addresses';
import { ProblemCollector } from '../errors';

/** A list of appliance names: each one an appliance of this fabric (`known`), none twice. */
export function checkMembers(where: string, cluster: string, members: unknown, known: ReadonlyMap<string, number>, problems: ProblemCollector): void {
  if (!Array.isArray(members)) {
    problems.add(where, `members of the ${cluster} are not a list`, 'give a list of appliance names');
    return;
  }
  const seen = new Set<string>();
  members.forEach((m, i) => {
    if (!known.has(m)) {
      problems.add(`${where}[${i}]`, `'${String(m)}' in the ${cluster} is not an appliance of this fabric`, `use one of: ${[...known.keys()].join(', ')}`);
    } else if (seen.has(m)) {
      problems.add(`${where}[${i}]`, `'${m}' is listed twice in the ${cluster}`, 'list every member once');
    }
    seen.add(m);
  });
}

/** A host address of `subnet`: inside it, neither its network nor its broadcast address. */
export function checkHostAddress(where: string, what: string, address: string, subnet: Ipv4Network, problems: ProblemCollector, networkName = 'management network'): void {
  const cidr = `${subnet.networkAddress}/${subnet.prefixLength}`;
  if (!inNetwork(address, subnet)) {
    problems.add(where, `${what} '${address}' is outside the ${networkName} ${cidr}`, `choose an address inside ${cidr}`);
  } else if (address === subnet.networkAddress) {
    problems.add(where, `${what} '${address}' is the network address of ${cidr}`, `choose a host address between ${offsetIpv4(subnet.networkAddress, 1)} and ${offsetIpv4(subnet.broadcastAddress, -1)}`);
  } else if (address === subnet.broadcastAddress) {
    problems.add(where, `${what} '${address}' is the broadcast address of ${cidr}`, `choose a host address between ${offsetIpv4(subnet.networkAddress, 1)} and ${offsetIpv4(subnet.broadcastAddress, -1)}`);
  }
}

/** Whether the value is a TCP port; says what is wrong when it is not. */
export function isTcpPort(where: string, port: number, problems: ProblemCollector): boolean {
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return true;
  problems.add(where, `port ${String(port)} is not a TCP port`, 'use a whole number from 1 to 65535');
  return false;
}

export function nonNegativeInteger(where: string, value: number, problems: ProblemCollector): number {
  if (!Number.isInteger(value) || value < 0) {
    problems.add(where, `${String(value)} is not a whole number of seconds`, 'give 0 or a positive whole number');
  }
  return value;
}

export function positiveInteger(where: string, value: number, problems: ProblemCollector): number {
  if (!Number.isInteger(value) || value <= 0) {
    problems.add(where, `${String(value)} is not a positive whole number`, 'give a positive whole number');
  }
  return value;
}

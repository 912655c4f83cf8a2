import { isIpv4, parseIpv4Cidr } from '../addresses';
import { ProblemCollector } from '../errors';
import { FabricSpec } from '../fabric-spec';
import { isDomainName, isHostName } from '../identifiers';
import { checkHostAddress } from './checks';
import { BuildContext } from './context';

/** The guest's management NIC. */
export const GUEST_INTERFACE = 'eth0';

/** The management network: sets `context.network` and `context.subnet` when it is usable. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): void {
  const net = spec.managementNetwork;
  if (!net || typeof net !== 'object') {
    problems.add('managementNetwork', 'the management network is missing', "give managementNetwork with at least cidr and gateway, e.g. { cidr: '198.51.100.0/24', gateway: '198.51.100.1' }");
    return;
  }
  const subnet = parseIpv4Cidr(net.cidr);
  if (!subnet) {
    problems.add('managementNetwork.cidr', `'${String(net.cidr)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '198.51.100.0/24'");
  } else {
    if (subnet.address.toString() !== subnet.networkAddress) {
      problems.add('managementNetwork.cidr', `'${net.cidr}' has host bits set`, `write the network address: '${subnet.networkAddress}/${subnet.prefixLength}'`);
    }
    if (subnet.prefixLength > 29) {
      problems.add('managementNetwork.cidr', `'${net.cidr}' is too small for a fabric (a /${subnet.prefixLength} has at most ${2 ** (32 - subnet.prefixLength)} addresses)`, 'use a /29 or larger network');
    }
  }
  if (!isIpv4(net.gateway)) {
    problems.add('managementNetwork.gateway', `gateway '${String(net.gateway)}' is not an IPv4 address`, "give the router's address inside the management network");
  } else if (subnet) {
    checkHostAddress('managementNetwork.gateway', 'gateway', net.gateway, subnet, problems);
  }
  (net.dnsServers ?? []).forEach((s, i) => {
    if (!isIpv4(s)) problems.add(`managementNetwork.dnsServers[${i}]`, `DNS server '${String(s)}' is not an IPv4 address`, 'list resolvers by address');
  });
  (net.ntpServers ?? []).forEach((s, i) => {
    if (!isIpv4(s) && !isHostName(s)) {
      problems.add(`managementNetwork.ntpServers[${i}]`, `NTP server '${String(s)}' is neither an IPv4 address nor a host name`, 'list NTP servers by address or host name');
    }
  });
  (net.searchDomains ?? []).forEach((d, i) => {
    if (!isDomainName(d)) {
      problems.add(`managementNetwork.searchDomains[${i}]`, `search domain '${String(d)}' is not a domain name`, "use lower-case labels separated by dots, e.g. 'fabric.example.net'");
    }
  });
  if (!subnet) return;
  context.network = {
    interfaceName: GUEST_INTERFACE,
    cidr: `${subnet.networkAddress}/${subnet.prefixLength}`,
    networkAddress: subnet.networkAddress,
    prefixLength: subnet.prefixLength,
    gateway: net.gateway,
    dnsServers: net.dnsServers ?? [],
    searchDomains: net.searchDomains ?? [],
    ntpServers: net.ntpServers ?? [],
  };
  context.subnet = parseIpv4Cidr(context.network.cidr);
}

import { inNetwork, isIpv4, offsetIpv4, parseIpv4Cidr } from '../addresses';
import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { DeviceNetworkModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { derivedMac } from '../identifiers';
import { buildServerChecks } from '../server-checks';
import { checkHostAddress, isTcpPort } from './checks';
import { BuildContext } from './context';
import { vrrpInstance } from './high-availability';

/** The device-management NIC keeps the original's name. */
const DEVICE_INTERFACE = 'eth3';

/** A node's place on the device network. */
export interface DeviceAddress {
  readonly deviceAddress: string;
  readonly deviceMac: string;
}

/** The device network, derived once the whole fabric is valid, and each node's address on it. */
export interface DeviceNetworkDraft {
  model(): DeviceNetworkModel;
  addressOf(node: string): DeviceAddress;
}

/** The device-management network, when the fabric has one: a second NIC per node, and a VIP the load-balancer cluster holds. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): DeviceNetworkDraft | undefined {
  const { appliances, platform, vips } = context;
  const dn = spec.deviceNetwork;
  if (dn === undefined) {
    appliances.forEach((a, i) => {
      if (a.deviceAddress !== undefined) problems.add(`appliances[${i}].deviceAddress`, `appliance '${a.name}' has a device address but the fabric has no deviceNetwork`, 'add deviceNetwork (cidr and firstAddress), or remove deviceAddress');
    });
    return undefined;
  }
  const subnet = parseIpv4Cidr(dn.cidr);
  if (!subnet) {
    problems.add('deviceNetwork.cidr', `'${String(dn.cidr)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '203.0.113.0/24'");
    return undefined;
  }
  const cidr = `${subnet.networkAddress}/${subnet.prefixLength}`;
  const mgmt = parseIpv4Cidr(spec.managementNetwork?.cidr);
  if (mgmt && (inNetwork(subnet.networkAddress, mgmt) || inNetwork(mgmt.networkAddress, subnet))) {
    problems.add('deviceNetwork.cidr', `device network ${cidr} overlaps the management network ${spec.managementNetwork.cidr}`, 'use a separate network for device management');
  }
  if (dn.gateway !== undefined) {
    if (!isIpv4(dn.gateway)) problems.add('deviceNetwork.gateway', `gateway '${String(dn.gateway)}' is not an IPv4 address`, 'give the router address on the device network');
    else checkHostAddress('deviceNetwork.gateway', 'device gateway', dn.gateway, subnet, problems, 'device network');
  }
  (dn.routes ?? []).forEach((r, i) => {
    if (!parseIpv4Cidr(r)) problems.add(`deviceNetwork.routes[${i}]`, `route '${String(r)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '10.20.0.0/16'");
  });
  if ((dn.routes ?? []).length > 0 && dn.gateway === undefined) {
    problems.add('deviceNetwork.routes', 'routes are given without a gateway', 'give deviceNetwork.gateway');
  }
  const addresses = new Map<string, string>();
  const seen = new Map<string, string>();
  appliances.forEach((a, i) => {
    const address = a.deviceAddress ?? (dn.firstAddress !== undefined && isIpv4(dn.firstAddress) ? offsetIpv4(dn.firstAddress, i) : undefined);
    const where = a.deviceAddress !== undefined ? `appliances[${i}].deviceAddress` : 'deviceNetwork.firstAddress';
    if (address === undefined) {
      problems.add(where, `appliance '${a.name}' has no device address`, 'give deviceNetwork.firstAddress or a deviceAddress for every appliance');
      return;
    }
    if (!isIpv4(address)) {
      problems.add(where, `device address '${address}' of appliance '${a.name}' is not an IPv4 address`, 'give a dotted-quad address inside the device network');
      return;
    }
    checkHostAddress(where, `device address of appliance '${a.name}'`, address, subnet, problems, 'device network');
    if (seen.has(address)) problems.add(where, `device address '${address}' of appliance '${a.name}' is already used by '${seen.get(address)}'`, 'give every appliance its own device address');
    seen.set(address, a.name);
    if (address === dn.gateway) problems.add(where, `device address '${address}' of appliance '${a.name}' is the device gateway`, 'choose a free address');
    vips.nodeAddress(address, where, a.name);
    addresses.set(a.name, address);
  });
  if (dn.vip !== undefined) vips.vip('deviceNetwork.vip', 'device VIP', dn.vip, subnet, dn.gateway ?? '', 'device network');
  const tcpPorts = dn.tcpPorts ?? [];
  if (!Array.isArray(tcpPorts)) {
    problems.add('deviceNetwork.tcpPorts', `'${String(tcpPorts)}' is not a list of ports`, 'give a list of TCP ports, e.g. [4334, 6514]');
  } else {
    if (tcpPorts.length > 0 && dn.vip === undefined) {
      problems.add('deviceNetwork.tcpPorts', `ports [${tcpPorts.join(', ')}] are given but the device network has no VIP to listen on`, 'give deviceNetwork.vip, or leave tcpPorts out');
    }
    const seenPorts = new Set<number>();
    tcpPorts.forEach((port, i) => {
      if (!isTcpPort(`deviceNetwork.tcpPorts[${i}]`, port, problems)) return;
      if (seenPorts.has(port)) problems.add(`deviceNetwork.tcpPorts[${i}]`, `port ${port} is listed twice`, 'list every port once');
      seenPorts.add(port);
    });
  }
  const serverChecks = buildServerChecks('deviceNetwork.serverChecks', dn.serverChecks, problems);
  const routerId = dn.vip !== undefined ? context.routerIds.request('device', 'deviceNetwork.virtualRouterId', 'the device VIP', dn.virtualRouterId) : undefined;

  return {
    model: () => ({
      interfaceName: DEVICE_INTERFACE,
      cidr,
      prefixLength: subnet.prefixLength,
      gateway: dn.gateway,
      routes: dn.routes ?? [],
      // The load-balancer cluster holds the device VIP too.
      vrrp: routerId
        ? vrrpInstance(
            context.ha,
            { name: 'device_vip', vip: dn.vip!, prefixLength: subnet.prefixLength, interfaceName: DEVICE_INTERFACE, virtualRouterId: routerId.id, members: context.members.get('load-balancer')!, purpose: 'device' },
            (m) => addresses.get(m)!,
          )
        : undefined,
      tcpPorts: Array.isArray(tcpPorts) ? tcpPorts : [],
      serverChecks,
      closeSessionsOnServerDown: dn.closeSessionsOnServerDown ?? D.DEFAULT_DEVICE_CLOSE_SESSIONS_ON_SERVER_DOWN,
      serverTcpKeepAlive: dn.serverTcpKeepAlive ?? D.DEFAULT_DEVICE_SERVER_TCP_KEEPALIVE,
    }),
    addressOf: (node) => ({
      deviceAddress: addresses.get(node)!,
      deviceMac: derivedMac(platform.macPrefix, platform.macFourthOctetMask ?? 0xff, spec.name, node, DEVICE_INTERFACE),
    }),
  };
}

import { FabricModel, NodeModel } from '../model/fabric-model';
import { instanceIdOf } from '../model/identifiers';

/**
 * cloud-init network-config version 2 for the node's static management
 * address. The NIC is matched by the MAC the platform gives it and renamed
 * eth0, so keepalived and HAProxy can name the interface on any hypervisor.
 */
export function networkConfigOf(model: FabricModel, node: NodeModel): Record<string, unknown> {
  const net = model.network;
  const nameservers: Record<string, string[]> = {};
  if (net.dnsServers.length > 0) nameservers.addresses = [...net.dnsServers];
  if (net.searchDomains.length > 0) nameservers.search = [...net.searchDomains];
  return {
    version: 2,
    ethernets: {
      [net.interfaceName]: {
        match: { macaddress: node.managementMac },
        'set-name': net.interfaceName,
        dhcp4: false,
        dhcp6: false,
        addresses: [`${node.managementAddress}/${net.prefixLength}`],
        routes: [{ to: '0.0.0.0/0', via: net.gateway }],
        ...(Object.keys(nameservers).length > 0 ? { nameservers } : {}),
      },
      ...deviceInterfaceOf(model, node),
    },
  };
}

/** The device-management NIC (eth3 in the original), matched by its own MAC. */
function deviceInterfaceOf(model: FabricModel, node: NodeModel): Record<string, unknown> {
  const dn = model.deviceNetwork;
  if (!dn || !node.deviceAddress) return {};
  return {
    [dn.interfaceName]: {
      match: { macaddress: node.deviceMac },
      'set-name': dn.interfaceName,
      dhcp4: false,
      dhcp6: false,
      addresses: [`${node.deviceAddress}/${dn.prefixLength}`],
      ...(dn.gateway && dn.routes.length > 0 ? { routes: dn.routes.map((to) => ({ to, via: dn.gateway })) } : {}),
    },
  };
}

/** NoCloud / vSphere meta-data: a stable instance id, so a reboot does not re-run first-boot modules. */
export function metaDataOf(model: FabricModel, node: NodeModel): Record<string, unknown> {
  return { 'instance-id': instanceIdOf(model.name, node.name), 'local-hostname': node.name };
}

/**
 * The guestinfo keys cloud-init's VMware datasource overwrites with `---`
 * once it has read them (`redact` in the meta-data): the user-data holds
 * every secret of the node, and guestinfo can be read by any process in the
 * guest (vmware-rpctool) and by anyone with read rights on the VM in vCenter.
 */
export const REDACTED_GUESTINFO_KEYS = ['userdata', 'vendordata'];

/** vSphere guestinfo meta-data: the NoCloud meta-data, the network-config, and the keys to clear after reading. */
export function guestinfoMetaDataOf(model: FabricModel, node: NodeModel, network: unknown): Record<string, unknown> {
  return { ...metaDataOf(model, node), network, redact: [...REDACTED_GUESTINFO_KEYS] };
}

import { FabricModel, NodeModel, nodeByName, VrrpInstance } from '../model/fabric-model';
import { CASSANDRA_NATIVE_PORT, CASSANDRA_STORAGE_PORT } from './cassandra';
import { vrrpInstancesOf } from './keepalived';
import { generatedHeader, RenderedFile } from './rendered-file';
import { SSH_PORT } from './ssh';

/** Where Debian's nftables.service reads the ruleset from, at boot before the network comes up. */
export const FIREWALL_CONFIG = '/etc/nftables.conf';
export const FIREWALL_UNIT = 'nftables.service';
/** The one table the fabric owns; a reload replaces it and leaves every other table alone. */
export const FIREWALL_TABLE = 'inet appliance_fabric';

/**
 * VRRP by number: nft resolves a protocol name through /etc/protocols, which
 * a minimal image lacks (no netbase), and the whole ruleset then fails to load.
 */
const VRRP = 112;

export function firewallFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!model.firewall.enabled) return [];
  // 0755 with its #! line, as Debian ships the file.
  return [{ path: FIREWALL_CONFIG, content: renderFirewall(model, node), permissions: '0755' }];
}

/**
 * The node's nftables ruleset. Input is dropped unless a rule below lets it
 * in: what this node's clusters need from their peers, what clients need from
 * the VIPs it may hold, and what the operator networks need. Output and
 * forwarding are not filtered. Every rule on the management network names
 * its interface, so nothing meant for it is reachable from the device network.
 */
export function renderFirewall(model: FabricModel, node: NodeModel): string {
  const fw = model.firewall;
  const mgmt = model.network.interfaceName;
  const on = (iface: string) => `iifname "${iface}"`;
  const addresses = (names: readonly string[]) => names.filter((n) => n !== node.name).map((n) => nodeByName(model, n).managementAddress);
  const rules: string[] = [];
  const section = (comment: string, ...lines: string[]) => {
    if (lines.length === 0) return;
    rules.push('', `        # ${comment}`, ...lines.map((l) => `        ${l}`));
  };

  // One rule per peer, under a comment naming every instance it carries adverts for (a database
  // pair that is also the monitoring pair has one peer for both VIPs).
  const vrrpRules = new Map<string, VrrpInstance[]>();
  for (const instance of vrrpInstancesOf(model, node)) {
    for (const p of vrrpPeers(model, node, instance)) {
      const rule = `${on(instance.interfaceName)} ip protocol ${VRRP} ip saddr ${p.address} ether saddr ${p.mac} accept`;
      vrrpRules.set(rule, [...(vrrpRules.get(rule) ?? []), instance]);
    }
  }
  const vrrp: string[] = [];
  let lastGroup = '';
  for (const [rule, instances] of vrrpRules) {
    const group = `${instances.map((i) => `${i.name} (${i.vip})`).join(' and ')} on ${instances[0].interfaceName}`;
    if (group !== lastGroup) {
      vrrp.push(...(instances.length > 1 ? [`        # ${group}:`, '        # their peers only, each by address and MAC.'] : [`        # ${group}: its peers only, each by address and MAC.`]));
    }
    lastGroup = group;
    vrrp.push(`        ${rule}`);
  }
  section(`SSH from the operator networks (firewall.adminCidrs).`, `${on(mgmt)} tcp dport ${SSH_PORT} ip saddr @admin_networks accept`);

  const lb = model.loadBalancer;
  const balancers = addresses(lb.members);
  if (node.roles.includes('load-balancer')) {
    section(`GUI and NBI clients on the fabric VIP: anyone on the management network.`, `${on(mgmt)} ip daddr ${model.vip} tcp dport ${portSet([lb.guiPort, ...lb.nbiPorts])} accept`);
    section(`HAProxy's stats page and Prometheus metrics (password-protected too): the operator networks.`, `${on(mgmt)} ip daddr ${node.managementAddress} tcp dport ${lb.statsPort} ip saddr @admin_networks accept`);
  }
  const service = model.applicationServers.service;
  if (node.roles.includes('application-server') && balancers.length > 0) {
    section(`The application service ${service.name}: HAProxy on the balancers (requests and health checks).`, `${on(mgmt)} tcp dport ${service.port} ip saddr ${addressSet(balancers)} accept`);
    const dn = model.deviceNetwork;
    if (dn?.vrrp && dn.tcpPorts.length > 0) {
      section(`Device connections HAProxy passes through from the device VIP.`, `${on(mgmt)} tcp dport ${portSet(dn.tcpPorts)} ip saddr ${addressSet(balancers)} accept`);
    }
  }

  const mon = model.monitoring;
  if (mon.members.includes(node.name)) {
    if (mon.dedicated) {
      section(`The monitoring service ${mon.service.name}: its clients (firewall.monitoringClientCidrs).`, `${on(mgmt)} tcp dport ${mon.service.port} ip saddr @monitoring_clients accept`);
    } else {
      section(
        `The monitoring service ${mon.service.name}: its clients on the fabric VIP, and HAProxy on the other balancer.`,
        `${on(mgmt)} ip daddr ${model.vip} tcp dport ${mon.service.port} ip saddr @monitoring_clients accept`,
        ...(balancers.length > 0 ? [`${on(mgmt)} ip daddr ${node.managementAddress} tcp dport ${mon.service.port} ip saddr ${addressSet(balancers)} accept`] : []),
      );
    }
  }

  const db = model.database;
  if (db && node.roles.includes('database')) {
    const clients = [...new Set([...addresses(model.applicationServers.members), ...addresses(db.members)])];
    section(
      `MariaDB: the application servers and the database peer (replication and its hooks)${fw.databaseClientCidrs.length > 0 ? ', and firewall.databaseClientCidrs' : ''}.`,
      ...(clients.length > 0 ? [`${on(mgmt)} tcp dport ${db.port} ip saddr ${addressSet(clients)} accept`] : []),
      ...(fw.databaseClientCidrs.length > 0 ? [`${on(mgmt)} tcp dport ${db.port} ip saddr @database_clients accept`] : []),
    );
  }

  const cassandra = model.cassandra;
  if (cassandra && node.roles.includes('cassandra')) {
    const members = addresses(cassandra.members);
    const clients = addresses(model.applicationServers.members);
    section(
      'Cassandra: internode traffic from its members, CQL from the application servers.',
      ...(members.length > 0 ? [`${on(mgmt)} tcp dport ${CASSANDRA_STORAGE_PORT} ip saddr ${addressSet(members)} accept`] : []),
      ...(clients.length > 0 ? [`${on(mgmt)} tcp dport ${CASSANDRA_NATIVE_PORT} ip saddr ${addressSet(clients)} accept`] : []),
    );
  }

  const dn = model.deviceNetwork;
  if (dn?.vrrp && node.roles.includes('load-balancer') && dn.tcpPorts.length > 0) {
    section(`Managed devices (${dn.interfaceName}): the device VIP's passed-through ports, nothing else.`, `${on(dn.interfaceName)} ip daddr ${dn.vrrp.vip} tcp dport ${portSet(dn.tcpPorts)} accept`);
  }

  const sets = [
    namedSet('admin_networks', 'firewall.adminCidrs: SSH, HAProxy stats and metrics.', fw.adminCidrs),
    ...(mon.members.includes(node.name) ? [namedSet('monitoring_clients', 'firewall.monitoringClientCidrs: the monitoring service.', fw.monitoringClientCidrs)] : []),
    ...(db && node.roles.includes('database') && fw.databaseClientCidrs.length > 0 ? [namedSet('database_clients', 'firewall.databaseClientCidrs: MariaDB besides the fabric.', fw.databaseClientCidrs)] : []),
  ];

  return [
    '#!/usr/sbin/nft -f',
    generatedHeader(model, node, 'Host firewall'),
    '#',
    '# Input is dropped unless a rule below lets it in; output and forwarding are not filtered.',
    `# ${FIREWALL_UNIT} loads this file at boot, before the network comes up; a configuration`,
    '# bundle that changes it is loaded with nft -f (one transaction: established connections',
    '# stay). Only this table is replaced: other tables on the node are left alone.',
    '',
    `table ${FIREWALL_TABLE}`,
    `delete table ${FIREWALL_TABLE}`,
    '',
    `table ${FIREWALL_TABLE} {`,
    ...sets.flatMap((s) => [...s, '']),
    '    chain input {',
    '        type filter hook input priority filter; policy drop;',
    '',
    '        iif "lo" accept',
    '',
    '        # VRRP (IP protocol 112) has no authentication: an advert from anyone but a peer,',
    '        # at a higher priority, would take a VIP (and promote a database). It is matched',
    "        # before conntrack, which would take an advert claiming a peer's address for the",
    "        # reply to this node's own adverts.",
    ...vrrp,
    `        ip protocol ${VRRP} drop`,
    '',
    '        ct state established,related accept',
    '        ct state invalid drop',
    '        # Ping, rate-limited: the database hooks ping their peer to tell its death from their own isolation.',
    '        icmp type echo-request limit rate 20/second burst 40 packets accept',
    ...rules,
    '',
    '        # The rest is dropped; a few of each minute are logged.',
    '        limit rate 6/minute burst 6 packets log prefix "appliance-fabric dropped: " level info',
    '    }',
    '}',
    '',
  ].join('\n');
}

/** The peers of `node` in one VRRP instance: their address and MAC on the instance's network. */
function vrrpPeers(model: FabricModel, node: NodeModel, instance: VrrpInstance): { address: string; mac: string }[] {
  const device = model.deviceNetwork?.interfaceName === instance.interfaceName && instance.interfaceName !== model.network.interfaceName;
  return instance.members
    .filter((m) => m.node !== node.name)
    .map((m) => {
      const peer = nodeByName(model, m.node);
      const mac = device ? peer.deviceMac : peer.managementMac;
      if (!mac) throw new Error(`internal: ${peer.name} has no MAC on ${instance.interfaceName}`);
      return { address: m.address, mac };
    });
}

function namedSet(name: string, comment: string, cidrs: readonly string[]): string[] {
  return [
    `    # ${comment}`,
    `    set ${name} {`,
    '        type ipv4_addr',
    '        flags interval',
    // An empty set takes no elements line.
    ...(cidrs.length > 0 ? [`        elements = { ${cidrs.join(', ')} }`] : []),
    '    }',
  ];
}

function addressSet(addresses: readonly string[]): string {
  return addresses.length === 1 ? addresses[0] : `{ ${addresses.join(', ')} }`;
}

function portSet(ports: readonly number[]): string {
  const unique = [...new Set(ports)].sort((a, b) => a - b);
  return unique.length === 1 ? String(unique[0]) : `{ ${unique.join(', ')} }`;
}

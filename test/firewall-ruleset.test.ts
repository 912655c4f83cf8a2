import { parse } from 'yaml';
import { renderNodeCloudInit } from '../cloud-init/cloud-config';
import { FIREWALL_CONFIG, renderFirewall } from '../cloud-init/firewall';
import { buildFabricModel } from '../model/build-model';
import { FabricValidationError } from '../model/errors';
import { FabricModel, nodeByName } from '../model/fabric-model';
import { FabricSpec } from '../model/fabric-spec';
import { FIVE_APPLIANCES, TEST_PLATFORM, TEST_DATABASE_SECRETS, threeNodeSpec } from './fixtures';

const DB_SECRETS = TEST_DATABASE_SECRETS;
const modelOf = (spec: FabricSpec): FabricModel => buildFabricModel(spec, TEST_PLATFORM, 'stack/Fabric');
/** The rules of one node's input chain, without comments and blank lines. */
const rulesOf = (model: FabricModel, node: string): string[] =>
  renderFirewall(model, nodeByName(model, node))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
const problemsOf = (spec: FabricSpec): string[] => {
  try {
    modelOf(spec);
  } catch (e) {
    if (e instanceof FabricValidationError) return e.problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
    throw e;
  }
  return [];
};

/** Five nodes: the balancers node1/node2 (also application servers with node3), a dedicated database pair db1/db2, Cassandra on node1-node3. */
const fullSpec = (overrides: Partial<FabricSpec> = {}): FabricSpec =>
  threeNodeSpec({
    appliances: FIVE_APPLIANCES,
    applicationServers: { members: ['node1', 'node2', 'node3'] },
    database: { members: ['db1', 'db2'], vip: '198.51.100.20' },
    cassandra: { members: ['node1', 'node2', 'node3'] },
    ...overrides,
  });

describe('the host firewall ruleset (cloud-init/firewall.ts)', () => {
  const model = modelOf(fullSpec({ firewall: { adminCidrs: ['192.0.2.0/28', '203.0.113.7'], databaseClientCidrs: ['203.0.113.64/26'] } }));

  it('drops input by default, takes loopback and established traffic, and replaces only its own table', () => {
    const text = renderFirewall(model, nodeByName(model, 'node3'));
    expect(text.startsWith('#!/usr/sbin/nft -f\n')).toBe(true);
    const rules = rulesOf(model, 'node3');
    expect(rules.slice(0, 3)).toEqual(['table inet appliance_fabric', 'delete table inet appliance_fabric', 'table inet appliance_fabric {']);
    expect(rules).toContain('type filter hook input priority filter; policy drop;');
    expect(rules).toContain('iif "lo" accept');
    expect(rules).toContain('ct state established,related accept');
    expect(text).not.toMatch(/flush ruleset/);
  });

  it('lets VRRP in from each peer by address and MAC, before conntrack could take a forged advert for a reply', () => {
    const rules = rulesOf(model, 'node1');
    const node2 = nodeByName(model, 'node2');
    const peerRule = `iifname "eth0" ip protocol 112 ip saddr ${node2.managementAddress} ether saddr ${node2.managementMac} accept`;
    expect(rules).toContain(peerRule);
    expect(rules.indexOf(peerRule)).toBeLessThan(rules.indexOf('ip protocol 112 drop'));
    expect(rules.indexOf('ip protocol 112 drop')).toBeLessThan(rules.indexOf('ct state established,related accept'));
    // No VRRP rule names the node itself or a node outside the instance.
    expect(rules.filter((r) => r.includes('ip protocol 112 ip saddr'))).toEqual([peerRule]);
  });

  it('renders one VRRP rule per peer when two instances share it, under a comment naming both', () => {
    // db1 and db2 are both the database pair and the monitoring pair (as in kvm-fabric-full): two instances, one peer.
    const model = modelOf(fullSpec({ monitoring: { members: ['db1', 'db2'], vip: '198.51.100.30' } }));
    const db2 = nodeByName(model, 'db2');
    const text = renderFirewall(model, nodeByName(model, 'db1'));
    expect(rulesOf(model, 'db1').filter((r) => r.includes('ip protocol 112 ip saddr'))).toEqual([`iifname "eth0" ip protocol 112 ip saddr ${db2.managementAddress} ether saddr ${db2.managementMac} accept`]);
    expect(text).toContain(`# database_vip (${model.database!.vrrp.vip}) and monitoring_vip (${model.monitoring.vrrp!.vip}) on eth0:\n        # their peers only`);
    for (const node of model.nodes) {
      const rules = rulesOf(model, node.name).filter((r) => / (accept|drop)$/.test(r));
      expect(rules.length - new Set(rules).size).toBe(0);
    }
  });

  it('opens MariaDB to the application servers, the peer and databaseClientCidrs only', () => {
    const rules = rulesOf(model, 'db1');
    expect(rules.filter((r) => r.includes('dport 3306'))).toEqual([
      'iifname "eth0" tcp dport 3306 ip saddr { 198.51.100.11, 198.51.100.12, 198.51.100.13, 198.51.100.22 } accept',
      'iifname "eth0" tcp dport 3306 ip saddr @database_clients accept',
    ]);
    expect(rules).toContain('elements = { 203.0.113.64/26 }');
    // Database nodes are no balancers: no GUI port, no stats port.
    expect(rules.some((r) => r.includes(`dport ${model.loadBalancer.statsPort}`))).toBe(false);
    expect(rulesOf(model, 'node3').some((r) => r.includes('3306'))).toBe(false);
  });

  it("opens Cassandra's internode port to the other members and CQL to the application servers", () => {
    expect(rulesOf(model, 'node3').filter((r) => /dport (7000|9042)/.test(r))).toEqual([
      'iifname "eth0" tcp dport 7000 ip saddr { 198.51.100.11, 198.51.100.12 } accept',
      'iifname "eth0" tcp dport 9042 ip saddr { 198.51.100.11, 198.51.100.12 } accept',
    ]);
    expect(rulesOf(model, 'db1').some((r) => /dport (7000|9042)/.test(r))).toBe(false);
  });

  it('gives SSH and the stats port to the operator networks, GUI and NBI to anyone, the application port to the balancers', () => {
    const rules = rulesOf(model, 'node1');
    expect(rules).toContain('elements = { 192.0.2.0/28, 203.0.113.7/32 }');
    expect(rules).toContain('iifname "eth0" tcp dport 22 ip saddr @admin_networks accept');
    expect(rules).toContain(`iifname "eth0" ip daddr 198.51.100.11 tcp dport ${model.loadBalancer.statsPort} ip saddr @admin_networks accept`);
    expect(rules).toContain(`iifname "eth0" ip daddr ${model.vip} tcp dport { ${[model.loadBalancer.guiPort, ...model.loadBalancer.nbiPorts].sort((a, b) => a - b).join(', ')} } accept`);
    expect(rulesOf(model, 'node3')).toContain(`iifname "eth0" tcp dport ${model.applicationServers.service.port} ip saddr { 198.51.100.11, 198.51.100.12 } accept`);
  });

  it('lets only the device VIP\'s passed-through ports in on the device network', () => {
    const withDevices = modelOf(
      threeNodeSpec({ managementNetwork: { cidr: '198.51.100.0/25', gateway: '198.51.100.1' }, deviceNetwork: { cidr: '198.51.100.128/25', firstAddress: '198.51.100.131', vip: '198.51.100.140', tcpPorts: [6514, 4334] } }),
    );
    const onDevice = rulesOf(withDevices, 'node1').filter((r) => r.includes('"eth3"'));
    const peer = nodeByName(withDevices, 'node2');
    expect(onDevice).toEqual([
      `iifname "eth3" ip protocol 112 ip saddr ${peer.deviceAddress} ether saddr ${peer.deviceMac} accept`,
      'iifname "eth3" ip daddr 198.51.100.140 tcp dport { 4334, 6514 } accept',
    ]);
    // An application server that is no balancer takes the passed-through ports from the balancers, on the management network.
    expect(rulesOf(withDevices, 'node3')).toContain('iifname "eth0" tcp dport { 4334, 6514 } ip saddr { 198.51.100.11, 198.51.100.12 } accept');
    expect(rulesOf(withDevices, 'node3').some((r) => r.includes('"eth3"'))).toBe(false);
  });

  it('is loaded first by the runcmd, ships nftables, and is a bundle file; with enabled: false there is none of it', () => {
    const on = parse(renderNodeCloudInit(model, nodeByName(model, 'node1'), DB_SECRETS).userData);
    const runcmd = on.runcmd.map((c: string[]) => c.join(' '));
    expect(runcmd.indexOf('systemctl restart nftables.service')).toBeGreaterThan(runcmd.indexOf('systemctl daemon-reload'));
    expect(runcmd.indexOf('systemctl restart nftables.service')).toBeLessThan(runcmd.findIndex((c: string) => c.startsWith('systemctl restart ') && c !== 'systemctl restart nftables.service'));
    expect(on.packages).toContain('nftables');
    expect(on.write_files.find((f: { path: string }) => f.path === FIREWALL_CONFIG)?.permissions).toBe('0755');

    const offModel = modelOf(fullSpec({ firewall: { enabled: false } }));
    const off = renderNodeCloudInit(offModel, nodeByName(offModel, 'node1'), DB_SECRETS);
    expect(off.files.some((f) => f.path === FIREWALL_CONFIG)).toBe(false);
    const offDoc = parse(off.userData);
    expect(offDoc.packages).not.toContain('nftables');
    expect(offDoc.runcmd.filter((c: string[]) => c.join(' ').includes('nftables'))).toEqual([]);
  });
});

describe('firewall props: validation', () => {
  it('defaults the operator and monitoring networks to the management network, and database clients to none', () => {
    expect(modelOf(threeNodeSpec()).firewall).toEqual({ enabled: true, adminCidrs: ['198.51.100.0/24'], databaseClientCidrs: [], monitoringClientCidrs: ['198.51.100.0/24'] });
  });

  it('names the entry, the value and the fix for a bad network, host bits and a useless database list', () => {
    expect(problemsOf(threeNodeSpec({ firewall: { adminCidrs: ['192.0.2.0/33', '192.0.2.5/24'], databaseClientCidrs: ['192.0.2.0/28'] } }))).toEqual([
      "stack/Fabric/firewall.adminCidrs[0]: '192.0.2.0/33' is neither an IPv4 network in CIDR notation nor an IPv4 address. Fix: write it as address/prefix, e.g. '192.0.2.0/28', or as one address",
      "stack/Fabric/firewall.adminCidrs[1]: '192.0.2.5/24' has host bits set. Fix: write the network address: '192.0.2.0/24'",
      'stack/Fabric/firewall.databaseClientCidrs: the fabric has no database cluster, so these networks would open nothing. Fix: remove firewall.databaseClientCidrs, or add the database cluster',
    ]);
  });

  it("refuses operator networks that leave out the delivery's bastion", () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator';
    const spec = threeNodeSpec({
      sshAuthorizedKeys: [key],
      configurationDelivery: { bastion: { host: '192.0.2.9', hostKey: key } },
      firewall: { adminCidrs: ['192.0.2.16/28'] },
    });
    expect(problemsOf(spec)).toEqual([
      "stack/Fabric/firewall.adminCidrs: the delivery's bastion 192.0.2.9 is in none of [192.0.2.16/28], so the nodes' firewall would refuse its SSH connections. Fix: add '192.0.2.9/32' to firewall.adminCidrs",
    ]);
    expect(problemsOf({ ...spec, firewall: { adminCidrs: ['192.0.2.16/28', '192.0.2.9'] } })).toEqual([]);
    expect(problemsOf({ ...spec, configurationDelivery: {}, firewall: { adminCidrs: [] } })).toEqual([
      'stack/Fabric/firewall.adminCidrs: the list is empty while configuration delivery is on, so the firewall would refuse every SSH connection Terraform makes. Fix: add the network of the host that runs terraform apply (or the bastion), or set configurationDelivery.enabled to false',
    ]);
    // Console only: no keys, no delivery, nobody on SSH.
    expect(problemsOf(threeNodeSpec({ firewall: { adminCidrs: [] } }))).toEqual([]);
  });
});

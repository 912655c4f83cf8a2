import { buildFabricModel } from '../model/build-model';
import { FabricValidationError } from '../model/errors';
import { FabricSpec } from '../model/fabric-spec';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

const PATH = 'stack/Fabric';

function problemsOf(spec: FabricSpec): string[] {
  try {
    buildFabricModel(spec, TEST_PLATFORM, PATH);
  } catch (err) {
    expect(err).toBeInstanceOf(FabricValidationError);
    return (err as FabricValidationError).problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
  }
  throw new Error('expected a FabricValidationError');
}

const withAppliances = (...addresses: [string, string][]) =>
  threeNodeSpec({ appliances: addresses.map(([name, managementAddress]) => ({ name, managementAddress })) });

describe('fabric validation', () => {
  it('accepts the reference fabric', () => {
    const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, PATH);
    expect(model.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
    expect(model.loadBalancer.members).toEqual(['node1', 'node2']);
    expect(model.applicationServers.members).toEqual(['node1', 'node2', 'node3']);
  });

  it.each<[string, FabricSpec, RegExp]>([
    ['a single-node load-balancer cluster', withAppliances(['node1', '198.51.100.11']), /stack\/Fabric\/loadBalancer.members: the load-balancer cluster has 1 node\(s\) \[node1\] but .* needs 2\. Fix: add appliances/],
    ['a VIP outside the subnet', threeNodeSpec({ vip: '203.0.113.10' }), /stack\/Fabric\/vip: VIP '203.0.113.10' is outside the management network 198.51.100.0\/24\. Fix: choose an address inside 198.51.100.0\/24/],
    ['a VIP equal to a node address', threeNodeSpec({ vip: '198.51.100.12' }), /appliances\[1\].managementAddress: management address '198.51.100.12' of appliance 'node2' equals the fabric VIP/],
    ['the network address as VIP', threeNodeSpec({ vip: '198.51.100.0' }), /vip: VIP '198.51.100.0' is the network address of 198.51.100.0\/24\. Fix: choose a host address between 198.51.100.1 and 198.51.100.254/],
    ['the broadcast address as VIP', threeNodeSpec({ vip: '198.51.100.255' }), /vip: VIP '198.51.100.255' is the broadcast address/],
    ['duplicate names', withAppliances(['node1', '198.51.100.11'], ['node1', '198.51.100.12']), /appliances\[1\].name: appliance name 'node1' is used twice \(also appliances\[0\]\)\. Fix: give every appliance its own name/],
    ['duplicate addresses', withAppliances(['node1', '198.51.100.11'], ['node2', '198.51.100.11']), /appliances\[1\].managementAddress: management address '198.51.100.11' of appliance 'node2' is already used by appliances\[0\]/],
    ['an invalid CIDR', threeNodeSpec({ managementNetwork: { cidr: '198.51.100.0/33', gateway: '198.51.100.1' } }), /managementNetwork.cidr: '198.51.100.0\/33' is not an IPv4 network in CIDR notation\. Fix: write it as address\/prefix/],
    ['an invalid address', withAppliances(['node1', '198.51.100.300'], ['node2', '198.51.100.12']), /appliances\[0\].managementAddress: management address '198.51.100.300' of appliance 'node1' is not an IPv4 address/],
    ['a hostname that is not a DNS label', withAppliances(['Node_1', '198.51.100.11'], ['node2', '198.51.100.12']), /appliances\[0\].name: appliance name 'Node_1' is not a DNS label\. Fix: use lower-case letters, digits and '-'/],
    ['a router id above 255', threeNodeSpec({ loadBalancer: { virtualRouterId: 256 } }), /loadBalancer.virtualRouterId: VRRP router id 256 is outside 1..255/],
    ['a router id of 0', threeNodeSpec({ loadBalancer: { virtualRouterId: 0 } }), /loadBalancer.virtualRouterId: VRRP router id 0 is outside 1..255/],
    ['zero vCPUs', threeNodeSpec({ sizing: { vcpus: 0 } }), /sizing.vcpus: vcpus 0 is not a positive whole number/],
    ['negative memory on one appliance', threeNodeSpec({ appliances: [{ name: 'node1', managementAddress: '198.51.100.11', sizing: { memoryMiB: -1 } }, { name: 'node2', managementAddress: '198.51.100.12' }] }), /appliances\[0\].sizing.memoryMiB: memoryMiB -1 is not a positive whole number/],
    ['a gateway outside the subnet', threeNodeSpec({ managementNetwork: { cidr: '198.51.100.0/24', gateway: '198.51.101.1' } }), /managementNetwork.gateway: gateway '198.51.101.1' is outside the management network/],
    ['an unknown load-balancer member', threeNodeSpec({ loadBalancer: { members: ['node1', 'node9'] } }), /loadBalancer.members\[1\]: 'node9' in the load-balancer cluster is not an appliance of this fabric\. Fix: use one of: node1, node2, node3/],
    ['clashing ports', threeNodeSpec({ loadBalancer: { statsPort: 8080 } }), /applicationServers.service.port: port 8080 is already taken by loadBalancer.statsPort/],
    ['an advert interval VRRPv3 cannot carry', threeNodeSpec({ highAvailability: { advertIntervalSeconds: 0.005 } }), /highAvailability.advertIntervalSeconds: advert interval 0.005 s is outside VRRPv3's range/],
    ['a private key in place of a public one', threeNodeSpec({ sshAuthorizedKeys: ['-----BEGIN OPENSSH PRIVATE KEY-----'] }), /sshAuthorizedKeys\[0\]: this is a private key, not a public one/],
    ['both appliances and an address plan', threeNodeSpec({ addressPlan: { count: 3, firstAddress: '198.51.100.11' } }), /appliances: both appliances and addressPlan are given/],
  ])('rejects %s with the path, value and fix', (_what, spec, expected) => {
    const problems = problemsOf(spec);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(threeNodeSpec({ name: 'Bad_Name', vip: 'nope', sizing: { diskGiB: 0 } }));
    expect(problems).toHaveLength(3);
  });

  it('expands an address plan into consecutive appliances', () => {
    const spec = threeNodeSpec({ appliances: undefined, addressPlan: { count: 4, firstAddress: '198.51.100.20', namePrefix: 'app' } });
    const model = buildFabricModel(spec, TEST_PLATFORM, PATH);
    expect(model.nodes.map((n) => `${n.name}=${n.managementAddress}`)).toEqual(['app1=198.51.100.20', 'app2=198.51.100.21', 'app3=198.51.100.22', 'app4=198.51.100.23']);
  });

  it('derives a stable router id and unique priorities', () => {
    const a = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, PATH);
    const b = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, PATH);
    const other = buildFabricModel(threeNodeSpec({ name: 'otherfab' }), TEST_PLATFORM, PATH);
    expect(a.loadBalancer.vrrp.virtualRouterId).toBe(b.loadBalancer.vrrp.virtualRouterId);
    expect(a.loadBalancer.vrrp.virtualRouterId).toBeGreaterThanOrEqual(1);
    expect(a.loadBalancer.vrrp.virtualRouterId).toBeLessThanOrEqual(255);
    expect(other.loadBalancer.vrrp.virtualRouterId).not.toBe(a.loadBalancer.vrrp.virtualRouterId);
    expect(a.loadBalancer.vrrp.members.map((m) => m.priority)).toEqual([150, 140]);
  });

  it('gives VMware MACs inside the static range', () => {
    const model = buildFabricModel(threeNodeSpec(), { kind: 'vsphere', watchdogModule: 'wdat_wdt', macPrefix: '00:50:56', macFourthOctetMask: 0x3f }, PATH);
    for (const n of model.nodes) {
      expect(n.managementMac).toMatch(/^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    }
    expect(new Set(model.nodes.map((n) => n.managementMac)).size).toBe(3);
  });
});

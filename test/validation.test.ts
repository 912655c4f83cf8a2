import { generateKeyPairSync } from 'node:crypto';
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

const cassandraSpec = (cassandra: Partial<NonNullable<FabricSpec['cassandra']>>) => threeNodeSpec({ cassandra: { members: ['node1', 'node2'], ...cassandra } });

const withAppliances = (...addresses: [string, string][]) =>
  threeNodeSpec({ appliances: addresses.map(([name, managementAddress]) => ({ name, managementAddress })) });

/** An OpenSSH `ssh-rsa` public key line of the given size (RFC 4253 6.6 wire format), made with Node's crypto. */
function rsaAuthorizedKey(bits: number): string {
  const jwk = generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' });
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => (b.length >>> (24 - 8 * i)) & 0xff)), b]);
  const mpint = (b64url: string) => {
    const b = Buffer.from(b64url, 'base64url');
    return field(b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
  };
  return `ssh-rsa ${Buffer.concat([field(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]).toString('base64')} operator@example`;
}

describe('fabric validation', () => {
  it('accepts the reference fabric', () => {
    const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, PATH);
    expect(model.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
    expect(model.loadBalancer.members).toEqual(['node1', 'node2']);
    expect(model.applicationServers.members).toEqual(['node1', 'node2', 'node3']);
  });

  it.each<[string, FabricSpec, RegExp]>([
    ['a single-node load-balancer cluster', withAppliances(['node1', '198.51.100.11']), /stack\/Fabric\/loadBalancer.members: the load-balancer cluster has 1 node\(s\) \[node1\] but .* needs 2\. Fix: add appliances/],
    ['a VIP outside the subnet', threeNodeSpec({ vip: '203.0.113.10' }), /stack\/Fabric\/vip: fabric VIP '203.0.113.10' is outside the management network 198.51.100.0\/24\. Fix: choose an address inside 198.51.100.0\/24/],
    ['a VIP equal to a node address', threeNodeSpec({ vip: '198.51.100.12' }), /stack\/Fabric\/vip: fabric VIP '198.51.100.12' equals the address of appliance 'node2'\. Fix: a VIP must be an address no node owns/],
    ['the network address as VIP', threeNodeSpec({ vip: '198.51.100.0' }), /vip: fabric VIP '198.51.100.0' is the network address of 198.51.100.0\/24\. Fix: choose a host address between 198.51.100.1 and 198.51.100.254/],
    ['the broadcast address as VIP', threeNodeSpec({ vip: '198.51.100.255' }), /vip: fabric VIP '198.51.100.255' is the broadcast address/],
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
    ['a check interval of zero', threeNodeSpec({ highAvailability: { checkIntervalSeconds: 0 } }), /highAvailability.checkIntervalSeconds: 0 is not a positive whole number/],
    ['the address owner\'s VRRP priority', threeNodeSpec({ highAvailability: { topPriority: 255 } }), /highAvailability.topPriority: VRRP priority 255 is outside 2 to 254\. Fix: give a whole number from 2 to 254 \(default 250/],
    ['a priority step that runs out of priorities', threeNodeSpec({ highAvailability: { topPriority: 10, priorityStep: 20 } }), /highAvailability.priorityStep: a step of 20 from priority 10 leaves the last of 2 VRRP members at -10\. Fix: use a step of at most 9, or a higher topPriority/],
    ['an advert interval VRRPv3 cannot carry', threeNodeSpec({ highAvailability: { advertIntervalSeconds: 0.005 } }), /highAvailability.advertIntervalSeconds: advert interval 0.005 s is outside VRRPv3's range/],
    ['a private key in place of a public one', threeNodeSpec({ sshAuthorizedKeys: ['-----BEGIN OPENSSH PRIVATE KEY-----'] }), /sshAuthorizedKeys\[0\]: this is a private key, not a public one/],
    ['a database pair of three', threeNodeSpec({ database: { vip: '198.51.100.20', members: ['node1', 'node2', 'node3'] } }), /database.members: the database cluster has 3 node\(s\) \[node1, node2, node3\]\. Fix: name exactly two appliances/],
    ['a negative password generation', threeNodeSpec({ database: { vip: '198.51.100.20', passwordGeneration: -1 } }), /database.passwordGeneration: password generation -1 is not a whole number from 0 to 1000000\. Fix: give the generation the fabric runs at, raised by one for each rotation/],
    ['a fractional password generation', threeNodeSpec({ database: { vip: '198.51.100.20', passwordGeneration: 1.5 } }), /database.passwordGeneration: password generation 1.5 is not a whole number/],
    ['a database VIP equal to the fabric VIP', threeNodeSpec({ database: { vip: '198.51.100.10' } }), /database.vip: database VIP '198.51.100.10' equals the fabric VIP\. Fix: give every VIP its own address/],
    ['a database VIP equal to a node', threeNodeSpec({ database: { vip: '198.51.100.13' } }), /database.vip: database VIP '198.51.100.13' equals the address of appliance 'node3'/],
    ['a database VIP outside its network', threeNodeSpec({ database: { vip: '203.0.113.20' } }), /database.vip: database VIP '203.0.113.20' is outside the management network 198.51.100.0\/24/],
    ['three monitoring nodes', threeNodeSpec({ monitoring: { members: ['node1', 'node2', 'node3'] } }), /monitoring.members: the monitoring cluster has 3 nodes .*Fix: name zero, one or two/],
    ['a monitoring pair without a VIP', threeNodeSpec({ monitoring: { members: ['node2', 'node3'] } }), /monitoring.vip: two monitoring nodes form a pair but no monitoring VIP is given/],
    ['a monitoring node that is also an application server', threeNodeSpec({ monitoring: { members: ['node3'] }, applicationServers: { members: ['node1', 'node3'] } }), /'node3' is a dedicated monitoring node and cannot also be an application server/],
    ['clashing router ids', threeNodeSpec({ loadBalancer: { virtualRouterId: 42 }, database: { vip: '198.51.100.20', virtualRouterId: 42 } }), /database.virtualRouterId: VRRP router id 42 of the database VIP is already used by the fabric VIP on the same network/],
    ['Cassandra on one node', threeNodeSpec({ cassandra: { members: ['node1'] } }), /cassandra.members: Cassandra is enabled with 1 member\(s\)\. Fix: name at least two appliances/],
    ['a Cassandra seed that is not a member', threeNodeSpec({ cassandra: { members: ['node1', 'node2'], seeds: ['node3'] } }), /cassandra.seeds\[0\]: seed 'node3' is not a member/],
    ['a device network overlapping management', threeNodeSpec({ deviceNetwork: { cidr: '198.51.100.128/25', firstAddress: '198.51.100.130' } }), /deviceNetwork.cidr: device network 198.51.100.128\/25 overlaps the management network/],
    ['a device VIP outside the device network', threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '198.51.100.99' } }), /deviceNetwork.vip: device VIP '198.51.100.99' is outside the device network 203.0.113.0\/24/],
    ['device ports without a device VIP', threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', tcpPorts: [4334] } }), /deviceNetwork.tcpPorts: ports \[4334\] are given but the device network has no VIP to listen on\. Fix: give deviceNetwork.vip/],
    ['a device port out of range', threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334, 70000] } }), /deviceNetwork.tcpPorts\[1\]: port 70000 is not a TCP port/],
    ['a device port listed twice', threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [6514, 6514] } }), /deviceNetwork.tcpPorts\[1\]: port 6514 is listed twice/],
    ['a check interval under 50 ms', threeNodeSpec({ loadBalancer: { serverChecks: { intervalSeconds: 0.01 } } }), /loadBalancer\.serverChecks\.intervalSeconds: check interval 0\.01 s is not between 0\.05 and 60 s in whole milliseconds\. Fix: give e\.g\. 0\.2/],
    ['a fall of zero', threeNodeSpec({ loadBalancer: { serverChecks: { fall: 0 } } }), /loadBalancer\.serverChecks\.fall: 0 is not a whole number of checks from 1 to 10/],
    ['a fractional rise', threeNodeSpec({ deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', serverChecks: { rise: 1.5 } } }), /deviceNetwork\.serverChecks\.rise: 1\.5 is not a whole number of checks/],
    ['checks that a 0.3 s stall would mark DOWN', threeNodeSpec({ loadBalancer: { serverChecks: { intervalSeconds: 0.1, fall: 1 } } }), /loadBalancer\.serverChecks: checks every 0\.1 s with fall 1 mark a server DOWN after a stall of 0\.1 s .*Fix: raise fall or intervalSeconds/],
    ['a zero server timeout', threeNodeSpec({ loadBalancer: { serverTimeoutSeconds: 0 } }), /loadBalancer.serverTimeoutSeconds: 0 is not a positive whole number\. Fix: give a positive whole number/],
    ['both appliances and an address plan', threeNodeSpec({ addressPlan: { count: 3, firstAddress: '198.51.100.11' } }), /appliances: both appliances and addressPlan are given/],
    // The review's demonstrations: each reached a root script, a config file or a world-readable file.
    ['a shell command in the Cassandra key URL', cassandraSpec({ aptSource: { keyUrl: "'; id > /tmp/pwned; echo '" } }), /cassandra\.aptSource\.keyUrl: Cassandra signing key URL "'; id > \/tmp\/pwned; echo '" is not a plain https URL\. Fix: give an https:\/\/ URL/],
    ['a plain http repository', cassandraSpec({ aptSource: { url: 'http://debian.cassandra.apache.org' } }), /cassandra\.aptSource\.url: Cassandra repository URL "http:\/\/debian\.cassandra\.apache\.org" is not a plain https URL/],
    ['a query string in a URL', cassandraSpec({ aptSource: { keyUrl: 'https://example.org/KEYS?x=$(id)' } }), /cassandra\.aptSource\.keyUrl: .* is not a plain https URL/],
    ['a newline in the Cassandra datacenter', cassandraSpec({ datacenter: 'dc1\nprefer_local=false' }), /cassandra\.datacenter: Cassandra datacenter "dc1\\nprefer_local=false" is not a plain name\. Fix: use 1-64 letters/],
    ['a quote in the Cassandra cluster name', cassandraSpec({ clusterName: "it's" }), /cassandra\.clusterName: Cassandra cluster name "it's" is not a plain name/],
    ['a space in the repository suite', cassandraSpec({ aptSource: { suite: '50x main' } }), /cassandra\.aptSource\.suite: Cassandra repository suite "50x main" is not a plain name/],
    ['a long key ID in place of a fingerprint', cassandraSpec({ aptSource: { keyFingerprints: ['A278B781FE4B2BDA'] } }), /cassandra\.aptSource\.keyFingerprints\[0\]: signing key fingerprint "A278B781FE4B2BDA" is a key ID, not a fingerprint: a key made to share an ID is easy to forge\. Fix: give the key's full fingerprint, 40 hex digits without spaces: run 'gpg --show-keys --with-colons KEYS'/],
    ['a fingerprint written with spaces', cassandraSpec({ aptSource: { keyFingerprints: ['A26E 528B 271F 19B9 E5D8  E19E A278 B781 FE4B 2BDA'] } }), /cassandra\.aptSource\.keyFingerprints\[0\]: signing key fingerprint "A26E 528B .*" has spaces or a 0x prefix\. Fix: write it as 40 hex digits and nothing else: 'A26E528B271F19B9E5D8E19EA278B781FE4B2BDA'/],
    ['a shell command as a fingerprint', cassandraSpec({ aptSource: { keyFingerprints: ["A26E528B271F19B9E5D8E19EA278B781FE4B2BDA'; id; '"] } }), /cassandra\.aptSource\.keyFingerprints\[0\]: signing key fingerprint .* is not an OpenPGP v4 fingerprint \(40 hex digits\)\. Fix: give the key's full fingerprint/],
    ['a 64-digit (v5) fingerprint', cassandraSpec({ aptSource: { keyFingerprints: ['A'.repeat(64)] } }), /cassandra\.aptSource\.keyFingerprints\[0\]: .* is not an OpenPGP v4 fingerprint/],
    ['no pinned key at all', cassandraSpec({ aptSource: { keyFingerprints: [] } }), /cassandra\.aptSource\.keyFingerprints: \[\] pins no signing key, so apt could trust no key of the repository\. Fix: list the full fingerprint of each key/],
    ['one fingerprint not in a list', cassandraSpec({ aptSource: { keyFingerprints: 'A26E528B271F19B9E5D8E19EA278B781FE4B2BDA' as unknown as string[] } }), /cassandra\.aptSource\.keyFingerprints: "A26E528B271F19B9E5D8E19EA278B781FE4B2BDA" is not a list of fingerprints\. Fix: write a list, even of one/],
    ['a fingerprint listed twice', cassandraSpec({ aptSource: { keyFingerprints: ['A26E528B271F19B9E5D8E19EA278B781FE4B2BDA', 'a26e528b271f19b9e5d8e19ea278b781fe4b2bda'] } }), /cassandra\.aptSource\.keyFingerprints\[1\]: signing key fingerprint 'a26e528b271f19b9e5d8e19ea278b781fe4b2bda' is listed twice \(also cassandra\.aptSource\.keyFingerprints\[0\]\)\. Fix: list each key once/],
    [
      "a '#' in a health path (a comment in haproxy.cfg)",
      threeNodeSpec({ applicationServers: { service: { healthCheck: { path: '/healthz#x' } } } } as Partial<FabricSpec>),
      /applicationServers\.service\.healthCheck\.path: health check path "\/healthz#x" is not a plain absolute URL path\. Fix: start it with '\/'/,
    ],
    [
      "a '|' in a command health check (the watchdog's record separator)",
      threeNodeSpec({ applicationServers: { service: { healthCheck: { type: 'command', command: 'pgrep -f app | grep -q .' } } } } as Partial<FabricSpec>),
      /applicationServers\.service\.healthCheck\.command: health check command "pgrep -f app \| grep -q \." holds '\|' or a line break, which separate the watchdog's probe records\. Fix: put a pipeline/,
    ],
    [
      'the secret placeholder in a health path',
      threeNodeSpec({ applicationServers: { service: { healthCheck: { path: '/__appliance_fabric_secret_statsPassword__' } } } } as Partial<FabricSpec>),
      /applicationServers\.service\.healthCheck\.path: the value "\/__appliance_fabric_secret_statsPassword__" holds '__appliance_fabric_secret_', which appliance-fabric replaces with secrets\. Fix: remove '__appliance_fabric_secret_' from it/,
    ],
  ])('rejects %s with the path, value and fix', (_what, spec, expected) => {
    const problems = problemsOf(spec);
    expect(problems.join('\n')).toMatch(expected);
  });

  it('refuses login keys sshd on the nodes would refuse: DSA, and RSA under 3072 bits', () => {
    const problems = problemsOf(threeNodeSpec({ sshAuthorizedKeys: [rsaAuthorizedKey(2048), 'ssh-dss AAAAB3NzaC1kc3MAAACBAP8= old@example', rsaAuthorizedKey(3072)] }));
    expect(problems).toEqual([
      expect.stringMatching(/^stack\/Fabric\/sshAuthorizedKeys\[0\]: 'ssh-rsa .*' is an RSA key of 2048 bits; sshd on the nodes refuses RSA keys under 3072 bits\. Fix: make an Ed25519 key/),
      expect.stringMatching(/^stack\/Fabric\/sshAuthorizedKeys\[1\]: 'ssh-dss .*' is a DSA key, which sshd on the nodes refuses\. Fix: make an Ed25519 key \(ssh-keygen -t ed25519\)/),
    ]);
  });

  it("refuses a service user that is no system user name, or the fabric's own users", () => {
    const service = (s: object) => threeNodeSpec({ applicationServers: { service: { execStart: '/usr/bin/myapp', ...s } } });
    expect(problemsOf(service({ user: 'App User' }))).toEqual([
      `stack/Fabric/applicationServers.service.user: "App User" is not a system user name. Fix: set user to a name of lower-case letters, digits, '_' and '-', starting with a letter, at most 32 characters (or 'root', not recommended)`,
    ]);
    expect(problemsOf(service({ user: 'fabric-admin' }))).toEqual([
      "stack/Fabric/applicationServers.service.user: 'fabric-admin' is the fabric's own operator login (with sudo). Fix: give the service a user of its own (set user)",
    ]);
    // A service of your own runs as a user named after it: a unit name that is no user name needs one given.
    expect(problemsOf(service({ name: 'My.App' }))).toEqual([
      `stack/Fabric/applicationServers.service.user: the service "My.App" would run as a user named after it, which is not a system user name. Fix: set user to a name of lower-case letters, digits, '_' and '-', starting with a letter, at most 32 characters (or 'root', not recommended)`,
    ]);
    expect(problemsOf({ ...service({ user: 'keepalived_script' }), monitoring: { service: { execStart: '/usr/bin/mon', name: 'x'.repeat(33) } } })).toEqual([
      expect.stringMatching(/^stack\/Fabric\/applicationServers\.service\.user: 'keepalived_script' is the fabric's own user for keepalived's scripts\./),
      expect.stringMatching(/^stack\/Fabric\/monitoring\.service\.user: the service "x{33}" would run as a user named after it/),
    ]);
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
    expect(a.loadBalancer.vrrp.members.map((m) => m.priority)).toEqual([250, 240]);
  });

  it('takes the VRRP priorities from topPriority and priorityStep', () => {
    const m = buildFabricModel(threeNodeSpec({ loadBalancer: { members: ['node1', 'node2', 'node3'] }, highAvailability: { topPriority: 200, priorityStep: 25 } }), TEST_PLATFORM, PATH);
    expect(m.loadBalancer.vrrp.members.map((x) => x.priority)).toEqual([200, 175, 150]);
  });

  it('derives distinct router ids for every VIP on one segment', () => {
    const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' }, monitoring: { members: ['node3'] } }), TEST_PLATFORM, PATH);
    expect(model.database!.vrrp.virtualRouterId).not.toBe(model.loadBalancer.vrrp.virtualRouterId);
    expect(model.monitoring.members).toEqual(['node3']);
    expect(model.applicationServers.members).toEqual(['node1', 'node2']);
  });

  it('gives VMware MACs inside the static range', () => {
    const model = buildFabricModel(threeNodeSpec(), { kind: 'vsphere', watchdogModule: 'wdat_wdt', macPrefix: '00:50:56', macFourthOctetMask: 0x3f }, PATH);
    for (const n of model.nodes) {
      expect(n.managementMac).toMatch(/^00:50:56:[0-3][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$/);
    }
    expect(new Set(model.nodes.map((n) => n.managementMac)).size).toBe(3);
  });
});

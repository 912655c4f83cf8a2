import fc from 'fast-check';
import { FabricSpec, ServerChecksSpec } from '../model/fabric-spec';
import { PlatformTraits } from '../model/fabric-model';

export const PLATFORMS: PlatformTraits[] = [
  { kind: 'vsphere', watchdogModule: 'wdat_wdt', macPrefix: '00:50:56', macFourthOctetMask: 0x3f },
  { kind: 'libvirt', watchdogModule: 'i6300esb', macPrefix: '52:54:00' },
];

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?$/);

/** Valid fabrics inside 198.51.100.0/24 (or a /25 of it), with every optional knob exercised. */
export const validFabricSpec: fc.Arbitrary<FabricSpec> = fc
  .record({
    name: label,
    upperHalf: fc.boolean(),
    prefix: fc.constantFrom(24, 25),
    count: fc.integer({ min: 2, max: 6 }),
    firstHost: fc.integer({ min: 20, max: 90 }),
    vipHost: fc.integer({ min: 2, max: 19 }),
    namePrefix: fc.option(label, { nil: undefined }),
    advert: fc.constantFrom(0.1, 0.2, 0.4, 0.5, 1, 2.5),
    vrrpMode: fc.constantFrom<'unicast' | 'multicast'>('unicast', 'multicast'),
    preempt: fc.boolean(),
    routerId: fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
    ports: fc.uniqueArray(fc.integer({ min: 1024, max: 65000 }), { minLength: 5, maxLength: 5 }).filter((p) => !p.includes(8405)),
    nbiCount: fc.integer({ min: 0, max: 2 }),
    serverTimeoutSeconds: fc.option(fc.integer({ min: 1, max: 3600 }), { nil: undefined }),
    // At most 1 s, so that it stays within any serverTimeoutSeconds above.
    readTimeoutSeconds: fc.option(fc.constantFrom(0.1, 0.25, 1), { nil: undefined }),
    serverChecks: fc.option(fc.constantFrom<ServerChecksSpec>({ intervalSeconds: 0.5, fall: 3, rise: 1 }, { intervalSeconds: 2 }, { fall: 4 }, { intervalSeconds: 0.15, fall: 2, rise: 10 }), { nil: undefined }),
    deviceServerChecks: fc.option(fc.constantFrom<ServerChecksSpec>({ intervalSeconds: 1, fall: 1 }, { intervalSeconds: 0.1, fall: 3 }), { nil: undefined }),
    deviceCloseSessions: fc.option(fc.boolean(), { nil: undefined }),
    deviceServerTcpKeepAlive: fc.option(fc.boolean(), { nil: undefined }),
    longRequestPaths: fc.option(fc.constantFrom<string[]>(['/reports/'], ['/export', '/api/v1/download/', '/a.b~c%20d']), { nil: undefined }),
    health: fc.constantFrom<'http' | 'tcp'>('http', 'tcp'),
    healthPath: fc.constantFrom('/healthz', '/status', '/api/v1/health?full=1'),
    customService: fc.boolean(),
    searchDomain: fc.option(fc.constantFrom('fabric.example.net', 'ops.example.org'), { nil: undefined }),
    ntp: fc.constantFrom<string[]>([], ['198.51.100.123'], ['ntp1.example.net', '198.51.100.124']),
    watchdog: fc.record({
      probeIntervalSeconds: fc.integer({ min: 1, max: 5 }),
      failuresBeforeRestart: fc.integer({ min: 1, max: 6 }),
      restartsBeforeFailover: fc.integer({ min: 1, max: 6 }),
    }),
    lbFromEnd: fc.boolean(),
    database: fc.constantFrom<'none' | 'default' | 'last-two'>('none', 'default', 'last-two'),
    monitoringCount: fc.integer({ min: 0, max: 2 }),
    cassandraCount: fc.integer({ min: 0, max: 6 }),
    device: fc.constantFrom<'none' | 'plain' | 'vip' | 'vip-ports'>('none', 'plain', 'vip', 'vip-ports'),
  })
  .map((r) => {
    const base = r.prefix === 25 && r.upperHalf ? 128 : 0;
    const addr = (host: number) => `198.51.100.${base + host}`;
    const names = Array.from({ length: r.count }, (_, i) => `${r.namePrefix ?? 'node'}${i + 1}`);
    const [guiPort, statsPort, appPort, nbi1, nbi2] = r.ports;
    // Dedicated monitoring nodes come from the end, leaving at least two others; the balancers then come from the front.
    const monitoring = names.slice(names.length - Math.min(r.monitoringCount, r.count - 2));
    const lbFromEnd = r.lbFromEnd && monitoring.length === 0;
    const cassandra = names.slice(0, Math.min(r.cassandraCount, r.count));
    return {
      name: r.name,
      managementNetwork: {
        cidr: `198.51.100.${base}/${r.prefix}`,
        gateway: addr(1),
        dnsServers: [addr(1)],
        searchDomains: r.searchDomain ? [r.searchDomain] : [],
        ntpServers: r.ntp,
      },
      vip: addr(r.vipHost),
      appliances: names.map((name, i) => ({ name, managementAddress: addr(r.firstHost + i) })),
      highAvailability: { advertIntervalSeconds: r.advert, vrrpMode: r.vrrpMode, preempt: r.preempt },
      ...(r.database === 'none' ? {} : { database: { vip: addr(100 + (r.vipHost % 20)), members: r.database === 'last-two' ? names.slice(-2) : undefined } }),
      ...(monitoring.length > 0 ? { monitoring: { members: monitoring, vip: monitoring.length === 2 ? addr(121 + (r.vipHost % 5)) : undefined } } : {}),
      ...(cassandra.length >= 2 ? { cassandra: { members: cassandra } } : {}),
      ...(r.device === 'none' ? {} : { deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: r.device === 'plain' ? undefined : '203.0.113.10', tcpPorts: r.device === 'vip-ports' ? [appPort, guiPort] : undefined, serverChecks: r.deviceServerChecks, closeSessionsOnServerDown: r.deviceCloseSessions, serverTcpKeepAlive: r.deviceServerTcpKeepAlive } }),
      loadBalancer: {
        members: lbFromEnd ? names.slice(-2).reverse() : undefined,
        virtualRouterId: r.routerId,
        guiPort,
        statsPort,
        nbiPorts: [nbi1, nbi2].slice(0, r.nbiCount),
        serverTimeoutSeconds: r.serverTimeoutSeconds,
        readTimeoutSeconds: r.readTimeoutSeconds,
        longRequestPaths: r.longRequestPaths,
        serverChecks: r.serverChecks,
      },
      applicationServers: {
        service: {
          port: appPort,
          healthCheck: { type: r.health, path: r.healthPath },
          ...(r.customService ? { name: 'myapp', execStart: '/usr/bin/python3 -m http.server ' + appPort, packages: ['python3'] } : {}),
        },
      },
      watchdog: r.watchdog,
    } satisfies FabricSpec;
  });

type Corruption = (spec: FabricSpec) => FabricSpec;

/** One thing wrong at a time: each must be a synth-time FabricValidationError. */
export const corruptions: [string, Corruption][] = [
  ['VIP outside the network', (s) => ({ ...s, vip: '203.0.113.7' })],
  ['VIP equal to a node', (s) => ({ ...s, vip: s.appliances![0].managementAddress })],
  ['VIP not an address', (s) => ({ ...s, vip: '198.51.100' })],
  ['duplicate node name', (s) => ({ ...s, appliances: [...s.appliances!, { ...s.appliances![0], managementAddress: '198.51.100.99' }] })],
  ['duplicate address', (s) => ({ ...s, appliances: [...s.appliances!, { name: 'extra', managementAddress: s.appliances![0].managementAddress }] })],
  ['bad hostname', (s) => ({ ...s, appliances: [{ ...s.appliances![0], name: 'bad.name' }, ...s.appliances!.slice(1)] })],
  ['bad CIDR', (s) => ({ ...s, managementNetwork: { ...s.managementNetwork, cidr: '198.51.100.0/40' } })],
  ['router id out of range', (s) => ({ ...s, loadBalancer: { ...s.loadBalancer, virtualRouterId: 300 } })],
  ['zero memory', (s) => ({ ...s, sizing: { memoryMiB: 0 } })],
  ['one-node load balancer', (s) => ({ ...s, loadBalancer: { ...s.loadBalancer, members: [s.appliances![0].name] } })],
  ['clashing ports', (s) => ({ ...s, loadBalancer: { ...s.loadBalancer, statsPort: s.loadBalancer!.guiPort } })],
  ['port out of range', (s) => ({ ...s, applicationServers: { service: { port: 70000 } } })],
  ['advert interval too long', (s) => ({ ...s, highAvailability: { advertIntervalSeconds: 41 } })],
  ['fractional check interval', (s) => ({ ...s, highAvailability: { checkIntervalSeconds: 0.5 } })],
  ['health path without slash', (s) => ({ ...s, applicationServers: { service: { healthCheck: { type: 'http', path: 'healthz' } } } })],
  ['unit name with .service', (s) => ({ ...s, applicationServers: { service: { name: 'app.service' } } })],
  ['negative probe interval', (s) => ({ ...s, watchdog: { probeIntervalSeconds: -1 } })],
  ['private SSH key', (s) => ({ ...s, sshAuthorizedKeys: ['-----BEGIN RSA PRIVATE KEY-----\nabc'] })],
  ['unknown VRRP mode', (s) => ({ ...s, highAvailability: { vrrpMode: 'broadcast' as 'unicast' } })],
  ['three database nodes', (s) => ({ ...s, database: { vip: '198.51.100.199', members: s.appliances!.slice(0, 2).map((a) => a.name).concat('nosuchnode') } })],
  ['database VIP equal to the fabric VIP', (s) => ({ ...s, database: { vip: s.vip } })],
  ['database VIP outside the network', (s) => ({ ...s, database: { vip: '203.0.113.99' } })],
  ['three monitoring nodes', (s) => ({ ...s, monitoring: { members: s.appliances!.slice(0, 3).map((a) => a.name).concat(['x', 'y']).slice(0, 3) } })],
  ['monitoring pair without a VIP', (s) => ({ ...s, monitoring: { members: s.appliances!.slice(-2).map((a) => a.name) } })],
  ['Cassandra on one node', (s) => ({ ...s, cassandra: { members: [s.appliances![0].name] } })],
  ['device ports without a device VIP', (s) => ({ ...s, deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', tcpPorts: [4334] } })],
  ['device port listed twice', (s) => ({ ...s, deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334, 4334] } })],
  ['server checks that a short stall marks DOWN', (s) => ({ ...s, loadBalancer: { ...s.loadBalancer, serverChecks: { intervalSeconds: 0.05, fall: 2 } } })],
  ['device network overlapping management', (s) => ({ ...s, deviceNetwork: { cidr: '198.51.100.0/24', firstAddress: '198.51.100.200' } })],
  ['clashing explicit router ids', (s) => ({ ...s, loadBalancer: { ...s.loadBalancer, virtualRouterId: 42 }, database: { vip: '198.51.100.199', virtualRouterId: 42 } })],
];

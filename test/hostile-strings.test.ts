import { renderNodeCloudInit } from '../cloud-init/cloud-config';
import { buildFabricModel } from '../model/build-model';
import { FabricValidationError } from '../model/errors';
import { FabricSpec } from '../model/fabric-spec';
import { TEST_PLATFORM, TEST_DATABASE_SECRETS } from './fixtures';

/**
 * Every string prop of a fabric that sets them all, given a hostile suffix
 * (quotes, command substitution, a line break, a pipe, Terraform
 * interpolation...): synth either refuses it, naming the prop, or renders
 * files in which the value appears nowhere (it went into data a renderer
 * quotes, or nowhere). Only the props that are root shell commands by design
 * (`execStart`, a command health check) may appear as given, and a line break
 * is refused there too: it would add lines to a unit or a probe record.
 * The Terraform side is covered by escaping the whole user-data once
 * (constructs/terraform-strings.ts, test/synth.test.ts).
 */
const HOSTILE = ["'", '"', '$(id)', '`id`', '\nInjected yes', '|x', '${file("/etc/passwd")}', '%{if true}x%{endif}', '; id', ' x', '\\'];
/** Props that are shell commands on purpose (README "Security model"). */
const SHELL_BY_DESIGN = [/\.execStart$/, /\.healthCheck\.command$/];

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl operator';
const DB_SECRETS = TEST_DATABASE_SECRETS;

/** A fabric with every cluster and every string prop set. */
function everyStringSpec(healthCheck: 'http' | 'command'): FabricSpec {
  return {
    name: 'hostile',
    managementNetwork: { cidr: '198.51.100.0/25', gateway: '198.51.100.1', dnsServers: ['198.51.100.53'], searchDomains: ['fabric.example.net'], ntpServers: ['ntp.example.net'] },
    vip: '198.51.100.10',
    appliances: [
      { name: 'node1', managementAddress: '198.51.100.11', host: 'kvm1' },
      { name: 'node2', managementAddress: '198.51.100.12', host: 'kvm2' },
      { name: 'node3', managementAddress: '198.51.100.13' },
      { name: 'db1', managementAddress: '198.51.100.21' },
      { name: 'db2', managementAddress: '198.51.100.22', deviceAddress: '198.51.100.150' },
    ],
    sshAuthorizedKeys: [KEY],
    configurationDelivery: { bastion: { host: '198.51.100.5', user: 'jump', hostKey: KEY } },
    loadBalancer: { stickyCookieName: 'FABRICSRV', longRequestPaths: ['/reports/'] },
    applicationServers: {
      members: ['node1', 'node2', 'node3'],
      service: {
        name: 'fabric-app',
        healthCheck: healthCheck === 'http' ? { type: 'http', path: '/healthz' } : { type: 'command', command: 'curl -fsS http://127.0.0.1:8080/healthz' },
        execStart: '/usr/bin/python3 -m http.server 8080',
        packages: ['python3'],
        user: 'app-runner',
      },
    },
    database: { members: ['db1', 'db2'], vip: '198.51.100.20', databaseName: 'fabric' },
    cassandra: { members: ['node1', 'node2', 'node3'], seeds: ['node1'], clusterName: 'fabric', datacenter: 'dc1', aptSource: { url: 'https://debian.cassandra.apache.org', suite: '50x', keyUrl: 'https://downloads.apache.org/cassandra/KEYS', keyFingerprints: ['A26E528B271F19B9E5D8E19EA278B781FE4B2BDA'] } },
    monitoring: { members: ['db1', 'db2'], vip: '198.51.100.30', service: { name: 'fabric-monitor', healthCheck: { type: 'http', path: '/' }, packages: ['python3'], user: 'monitor' } },
    deviceNetwork: { cidr: '198.51.100.128/25', gateway: '198.51.100.129', routes: ['203.0.113.0/24'], firstAddress: '198.51.100.131', vip: '198.51.100.140' },
    firewall: { adminCidrs: ['198.51.100.0/28', '198.51.100.5'], databaseClientCidrs: ['198.51.100.64/26'], monitoringClientCidrs: ['198.51.100.0/25'] },
    replaceAppliances: ['node3'],
  };
}

/** Every string leaf: its path as the validation names it, and a setter. */
function stringLeaves(value: unknown, where = ''): string[] {
  if (typeof value === 'string') return [where];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, where ? `${where}.${k}` : k));
  return [];
}

function withLeaf(spec: FabricSpec, leaf: string, suffix: string): { spec: FabricSpec; value: string } {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  const keys = leaf.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  const value = `${String(at[last])}${suffix}`;
  at[last] = value;
  return { spec: copy as unknown as FabricSpec, value };
}

/** What became of one hostile value: refused (the problem's path names the prop) or where it appears as given. */
function outcome(spec: FabricSpec, leaf: string, value: string): string {
  let model;
  try {
    model = buildFabricModel(spec, TEST_PLATFORM, 'stack/Fabric');
  } catch (e) {
    if (!(e instanceof FabricValidationError)) return `threw ${(e as Error).message}`;
    const base = leaf.replace(/\[\d+\]$/, '');
    return e.problems.some((p) => p.path.startsWith(`stack/Fabric/${base}`) || p.path === `stack/Fabric/${leaf}`) ? 'refused' : `refused under another path: ${e.problems.map((p) => p.path).join(', ')}`;
  }
  const raw = model.nodes.flatMap((node) =>
    renderNodeCloudInit(model, node, DB_SECRETS)
      .files.filter((f) => !f.base64 && f.content.includes(value))
      .map((f) => `${node.name}:${f.path}`),
  );
  if (raw.length === 0) return 'inert';
  return SHELL_BY_DESIGN.some((r) => r.test(leaf)) && !value.includes('\n') ? 'shell by design' : `raw in ${[...new Set(raw.map((r) => r.split(':')[1]))].join(', ')}`;
}

describe('hostile strings in every string prop', () => {
  for (const healthCheck of ['http', 'command'] as const) {
    const spec = everyStringSpec(healthCheck);
    const leaves = stringLeaves(spec);

    it(`the ${healthCheck}-check fabric is valid as given and sets ${leaves.length} string props`, () => {
      expect(() => buildFabricModel(spec, TEST_PLATFORM, 'stack/Fabric')).not.toThrow();
      expect(leaves.length).toBeGreaterThan(40);
    });

    it(`(${healthCheck} check) each is refused with its path, or appears in no rendered file as given`, () => {
      const unsafe: string[] = [];
      for (const leaf of leaves) {
        for (const suffix of HOSTILE) {
          const { spec: hostile, value } = withLeaf(spec, leaf, suffix);
          const result = outcome(hostile, leaf, value);
          if (!['refused', 'inert', 'shell by design'].includes(result)) unsafe.push(`${leaf} + ${JSON.stringify(suffix)}: ${result}`);
        }
      }
      expect(unsafe).toEqual([]);
    });
  }
});

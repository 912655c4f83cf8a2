// One source for every configuration key: the TypeScript types. The JSON
// Schemas (schema/), the YAML reader's checks, the README's configuration
// reference and the defaults are generated from them or checked against them.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { parse, stringify } from 'yaml';
import { FabricValidationError } from '../model/errors';
import { KvmFabricConfig, KvmFabricStack } from '../stacks/kvm-fabric-stack';
import { closest, readStackConfig } from '../stacks/stack-config';
import { VsphereFabricConfig } from '../stacks/vsphere-fabric-stack';
import { testApp } from './synth-helpers';

const ROOT = path.resolve(__dirname, '..');
const CONFIG_DIR = path.join(ROOT, 'stacks', 'config');

interface SchemaNode {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  default?: unknown;
}
interface Schema {
  $ref: string;
  definitions: Record<string, SchemaNode>;
}
interface Generator {
  CONFIG_KINDS: { file: string; platformKey: string }[];
  README_START: string;
  README_END: string;
  generatedFiles(): Map<string, string>;
  readSchemas(): Record<string, Schema>;
  renderConfigReference(schemas: Record<string, Schema>): string;
  spliceReadme(readme: string, reference: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const generator = require('../scripts/generate-config-schema.js') as Generator;

const example = (name: string) => parse(readFileSync(path.join(CONFIG_DIR, name), 'utf8'));

describe('YAML stack configs against the schema', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afschema-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, data: unknown) => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof data === 'string' ? data : stringify(data));
    return file;
  };
  const problemsOf = (file: string, platform: 'vsphere' | 'libvirt'): string[] => {
    try {
      readStackConfig(file, platform);
    } catch (err) {
      expect(err).toBeInstanceOf(FabricValidationError);
      return (err as FabricValidationError).problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
    }
    throw new Error('expected a FabricValidationError');
  };
  /** The kvm-fabric example with `edit` applied to its parsed data. */
  const kvm = (edit: (c: KvmFabricConfig & Record<string, any>) => void) => {
    const config = example('kvm-fabric.yaml');
    edit(config);
    return write('kvm.yaml', config);
  };

  it('accepts every example as it is', () => {
    expect(() => readStackConfig(path.join(CONFIG_DIR, 'vsphere-fabric.yaml'), 'vsphere')).not.toThrow();
    expect(() => readStackConfig(path.join(CONFIG_DIR, 'kvm-fabric.yaml'), 'libvirt')).not.toThrow();
    expect(() => readStackConfig(path.join(CONFIG_DIR, 'kvm-fabric-full.yaml'), 'libvirt')).not.toThrow();
  });

  it('accepts checkIntervalSeconds, serverTimeoutSeconds and tcpPorts, and the model gets them', () => {
    const config = example('kvm-fabric-full.yaml');
    config.fabric.highAvailability = { ...config.fabric.highAvailability, checkIntervalSeconds: 5 };
    config.fabric.loadBalancer = { serverTimeoutSeconds: 30 };
    config.fabric.deviceNetwork.tcpPorts = [4334, 6514];
    const read = readStackConfig<KvmFabricConfig>(write('full.yaml', config), 'libvirt');
    const { model } = new KvmFabricStack(testApp(), 'kvm', read).fabric;
    expect(model.loadBalancer.vrrp.checkIntervalSeconds).toBe(5);
    expect(model.loadBalancer.serverTimeoutSeconds).toBe(30);
    expect(model.deviceNetwork?.tcpPorts).toEqual([4334, 6514]);

    const vsphere = example('vsphere-fabric.yaml');
    vsphere.fabric.highAvailability.checkIntervalSeconds = 5;
    vsphere.fabric.loadBalancer = { serverTimeoutSeconds: 30 };
    vsphere.fabric.deviceNetwork = { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334] };
    vsphere.vsphere.deviceNetwork = 'fabric-devices';
    expect(readStackConfig<VsphereFabricConfig>(write('vsphere.yaml', vsphere), 'vsphere').fabric.deviceNetwork?.tcpPorts).toEqual([4334]);
  });

  it('accepts replaceAppliances and an appliance image, and the model gets them', () => {
    const config = example('kvm-fabric.yaml');
    config.fabric.replaceAppliances = ['node3'];
    config.fabric.appliances[1].image = { source: 'https://images.example.net/appliance/debian-12-v2.qcow2', sha256: 'b2'.repeat(32) };
    const read = readStackConfig<KvmFabricConfig>(write('day2.yaml', config), 'libvirt');
    const { model } = new KvmFabricStack(testApp(), 'kvm', read).fabric;
    expect(model.replaceAppliances).toEqual(['node3']);
    expect(model.nodes[1].image).toEqual(config.fabric.appliances[1].image);
  });

  it('reports an appliance image that mixes a template with a KVM image', () => {
    const config = example('kvm-fabric.yaml');
    config.fabric.appliances[0].image = { template: 'debian12-v2', volumeName: 'debian12.qcow2' };
    const file = write('mixed.yaml', config);
    expect(problemsOf(file, 'libvirt')).toEqual([`${file}: fabric.appliances[0].image: gives template and volumeName. Fix: give exactly one of template, source or volumeName`]);
  });

  it('names a misspelt key with the file, the key path and the key it probably means', () => {
    const file = kvm((c) => {
      (c.fabric.highAvailability as Record<string, unknown>).advertIntervall = 0.5;
    });
    expect(problemsOf(file, 'libvirt')).toEqual([`${file}: fabric.highAvailability.advertIntervall: unknown key. Fix: did you mean advertIntervalSeconds?`]);
  });

  it.each<[string, 'vsphere' | 'libvirt', (c: Record<string, any>) => void, string[]]>([
    ['a host key in the wrong case', 'libvirt', (c) => (c.libvirt.hosts[0].storagepool = { name: 'x' }), ['libvirt.hosts[0].storagepool: unknown key. Fix: did you mean storagePool?']],
    ['a misspelt platform key', 'libvirt', (c) => ((c.libvirt.host = c.libvirt.hosts), delete c.libvirt.hosts), ['libvirt.hosts: required key is missing. Fix: add hosts: the KVM hosts, one libvirt connection each', 'libvirt.host: unknown key. Fix: did you mean hosts?']],
    ['a misspelt vSphere key', 'vsphere', (c) => (c.vsphere.datacentre = 'dc1'), ['vsphere.datacentre: unknown key. Fix: did you mean datacenter?']],
    ['a misspelt top-level key', 'vsphere', (c) => ((c.vsphre = c.vsphere), delete c.vsphere), ["vsphere: required key is missing. Fix: add vsphere: the vSphere platform and the provider's connection", 'vsphre: unknown key. Fix: did you mean vsphere?']],
    ['an unknown key with nothing close', 'libvirt', (c) => (c.fabric.database.color = 'blue'), ['fabric.database.color: unknown key. Fix: use one of members, vip, port, virtualRouterId, databaseName, passwordGeneration']],
    ['a quoted boolean', 'libvirt', (c) => (c.fabric.highAvailability.preempt = 'yes'), ["fabric.highAvailability.preempt: 'yes' is a string, not a boolean. Fix: write true or false, without quotes"]],
    ['a quoted number', 'libvirt', (c) => (c.fabric.loadBalancer = { serverTimeoutSeconds: '30' }), ["fabric.loadBalancer.serverTimeoutSeconds: '30' is a string, not a number. Fix: write a number without quotes (default 60)"]],
    ['a port instead of a list', 'libvirt', (c) => (c.fabric.deviceNetwork = { cidr: '203.0.113.0/24', tcpPorts: 4334 }), ['fabric.deviceNetwork.tcpPorts: 4334 is a number, not a list. Fix: write a list: [4334]']],
    ['a number where a string goes', 'libvirt', (c) => (c.fabric.cassandra = { members: ['node1', 'node2'], aptSource: { suite: 50 } }), ["fabric.cassandra.aptSource.suite: 50 is a number, not a string. Fix: quote it: '50'"]],
    ['a key with no value', 'libvirt', (c) => (c.fabric.vip = null), ['fabric.vip: has no value. Fix: give a string']],
    ['a missing required key', 'libvirt', (c) => delete c.fabric.managementNetwork.gateway, ['fabric.managementNetwork.gateway: required key is missing. Fix: add gateway: default gateway, inside the network']],
    ['a VRRP mode that does not exist', 'libvirt', (c) => (c.fabric.highAvailability.vrrpMode = 'broadcast'), ["fabric.highAvailability.vrrpMode: 'broadcast' is not an allowed value. Fix: use 'unicast' or 'multicast'"]],
    ['a misspelt anti-affinity', 'vsphere', (c) => (c.vsphere.antiAffinity = 'mandatroy'), ["vsphere.antiAffinity: 'mandatroy' is not an allowed value. Fix: did you mean 'mandatory'? (allowed: 'mandatory', 'preferred', 'off')"]],
  ])('reports %s in one line with the path and the fix', (_what, platform, edit, expected) => {
    const config = example(platform === 'vsphere' ? 'vsphere-fabric.yaml' : 'kvm-fabric.yaml');
    edit(config);
    const file = write(`${platform}.yaml`, config);
    expect(problemsOf(file, platform)).toEqual(expected.map((e) => `${file}: ${e}`));
  });

  it.each<[string, (host: Record<string, any>) => void, string[]]>([
    ['two network attachments', (h) => (h.network = { bridge: 'br0', libvirtNetwork: 'default' }), ['network: gives bridge and libvirtNetwork. Fix: give exactly one of bridge, libvirtNetwork or create']],
    ['no network attachment', (h) => (h.network = {}), ['network: gives none of bridge, libvirtNetwork or create. Fix: give exactly one of bridge, libvirtNetwork or create']],
    ['a misspelt attachment', (h) => (h.network = { bridg: 'br0' }), ['network.bridg: unknown key. Fix: did you mean bridge?']],
    ['a network to create with a bad mode and a misspelt key', (h) => (h.network = { create: { name: 'n', mode: 'bridged', mtuu: 1500 } }), ['network.create.mtuu: unknown key. Fix: did you mean mtu?', "network.create.mode: 'bridged' is not an allowed value. Fix: did you mean 'bridge'? (allowed: 'bridge', 'route')"]],
    ['an attachment that is a string', (h) => (h.deviceNetwork = 'br-dev'), ["deviceNetwork: 'br-dev' is a string, not a mapping. Fix: give a mapping with exactly one of bridge or libvirtNetwork"]],
    ['both image kinds', (h) => (h.baseImage = { source: 'a.qcow2', volumeName: 'b' }), ['baseImage: gives source and volumeName. Fix: give exactly one of source or volumeName']],
    ['a key of the other image kind', (h) => (h.baseImage = { source: 'a.qcow2', pool: 'p' }), ['baseImage.pool: applies only with volumeName, not with source. Fix: remove pool: with source the keys are source, sha256, name']],
  ])('reports %s of a union as one problem, not one per alternative', (_what, edit, expected) => {
    const file = kvm((c) => edit(c.libvirt.hosts[1] as Record<string, any>));
    expect(problemsOf(file, 'libvirt')).toEqual(expected.map((e) => `${file}: libvirt.hosts[1].${e}`));
  });

  it('reports every problem of a file at once, in the order of the file', () => {
    const file = kvm((c) => {
      const f = c.fabric as Record<string, any>;
      f.nmae = 'x';
      f.highAvailability.preempt = 'no';
      (c.libvirt.hosts[0] as Record<string, any>).network = { bridge: 'a', create: { name: 'n', mode: 'route' } };
    });
    expect(problemsOf(file, 'libvirt').map((p) => p.slice(file.length + 2).split(':')[0])).toEqual(['fabric.nmae', 'fabric.highAvailability.preempt', 'libvirt.hosts[0].network']);
  });

  it('says so when the file is empty or not a mapping', () => {
    expect(problemsOf(write('empty.yaml', ''), 'vsphere')).toEqual([`${path.join(dir, 'empty.yaml')}: the config is empty. Fix: write a mapping with the keys fabric: or vsphere:`]);
    expect(problemsOf(write('list.yaml', '- a\n'), 'libvirt')).toEqual([`${path.join(dir, 'list.yaml')}: the config is a list, not a YAML mapping. Fix: write a mapping with the keys fabric: or libvirt:`]);
  });

  it('suggests a key only when one is close', () => {
    expect(closest('advertIntervall', ['advertIntervalSeconds', 'vrrpMode'])).toBe('advertIntervalSeconds');
    expect(closest('tcpport', ['tcpPorts', 'vip'])).toBe('tcpPorts');
    expect(closest('color', ['members', 'vip', 'port'])).toBeUndefined();
  });
});

describe('generated from the types', () => {
  it('the committed schema/ and README reference are what npm run schema gives now', () => {
    const stale = [...generator.generatedFiles()].filter(([file, text]) => readFileSync(file, 'utf8') !== text).map(([file]) => path.relative(ROOT, file));
    expect(stale).toEqual([]);
  }, 120_000);

  it('the README reference is rendered from the schema', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const reference = generator.renderConfigReference(generator.readSchemas());
    expect(generator.spliceReadme(readme, reference)).toBe(readme);
    // Every key of every schema has its row.
    for (const key of ['fabric.highAvailability.checkIntervalSeconds', 'fabric.loadBalancer.serverTimeoutSeconds', 'fabric.deviceNetwork.tcpPorts', 'vsphere.allowUnverifiedSsl', 'libvirt.hosts[].network.create.mtu']) {
      expect(reference).toContain(`| \`${key}\` |`);
    }
  });

  it('every example YAML names its schema on its first line, and that schema exists', () => {
    const kinds = new Map(generator.CONFIG_KINDS.map((k) => [k.platformKey, k.file]));
    for (const name of readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.yaml'))) {
      const text = readFileSync(path.join(CONFIG_DIR, name), 'utf8');
      const platform = Object.keys(parse(text)).find((k) => k !== 'fabric')!;
      expect([name, text.split('\n')[0]]).toEqual([name, `# yaml-language-server: $schema=../../schema/${kinds.get(platform)}`]);
    }
  });
});

describe('defaults', () => {
  interface Declared {
    constant: string;
    file: string;
    keys: string[];
    value: unknown;
  }
  /**
   * Every exported constant that says `@defaultOf Type.key`, anywhere in the
   * library, and which interface extends which (the schema flattens an
   * inherited key into the subtype: VsphereStackProps has VspherePlatformProps' keys).
   */
  const scan = () => {
    const declared: Declared[] = [];
    const supertypes = new Map<string, string[]>();
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
    for (const file of ['model', 'constructs', 'stacks'].flatMap((d) => walk(path.join(ROOT, d)))) {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      for (const statement of source.statements) {
        if (ts.isInterfaceDeclaration(statement)) {
          supertypes.set(statement.name.text, (statement.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(source))));
        }
        if (!ts.isVariableStatement(statement)) continue;
        const declaration = statement.declarationList.declarations[0];
        const keys = ts
          .getJSDocTags(declaration)
          .filter((t) => t.tagName.text === 'defaultOf')
          .flatMap((t) => String(ts.getTextOfJSDocComment(t.comment) ?? '').split(/[\s,]+/).filter(Boolean));
        if (keys.length === 0) continue;
        const constant = declaration.name.getText(source);
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        declared.push({ constant, file: path.relative(ROOT, file), keys, value: (require(file) as Record<string, unknown>)[constant] });
      }
    }
    const ancestors = (type: string): string[] => [type, ...(supertypes.get(type) ?? []).flatMap(ancestors)];
    return { declared, ancestors };
  };
  const definitions = () => Object.assign({}, ...Object.values(generator.readSchemas()).map((s) => s.definitions)) as Record<string, SchemaNode>;

  it("each @default in the types states its constant's value", () => {
    const defs = definitions();
    const { declared, ancestors } = scan();
    expect(declared.length).toBeGreaterThan(30);
    for (const { constant, file, keys, value } of declared) {
      for (const key of keys) {
        const [type, property] = key.split('.');
        // The key in every schema definition that is this type or extends it.
        const schemas = Object.keys(defs)
          .filter((d) => ancestors(d).includes(type))
          .map((d) => defs[d].properties?.[property]);
        expect({ key, inSchema: schemas.length > 0 && schemas.every((s) => s !== undefined) }).toEqual({ key, inSchema: true });
        for (const schema of schemas) expect({ key, constant, file, default: schema!.default }).toEqual({ key, constant, file, default: value });
      }
    }
  });

  it('every value @default has its constant (an empty list, meaning none, needs none)', () => {
    const { declared, ancestors } = scan();
    const claimed = new Set(declared.flatMap((d) => d.keys));
    const unclaimed: string[] = [];
    for (const [type, definition] of Object.entries(definitions())) {
      for (const [property, schema] of Object.entries(definition.properties ?? {})) {
        const isEmptyList = Array.isArray(schema.default) && schema.default.length === 0;
        if ('default' in schema && !isEmptyList && !ancestors(type).some((t) => claimed.has(`${t}.${property}`))) unclaimed.push(`${type}.${property}`);
      }
    }
    expect(unclaimed).toEqual([]);
  });
});

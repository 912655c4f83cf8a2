// Keeps providers/libvirt/schema.json (the committed dmacvicar/libvirt 0.8.3
// provider schema) and the bindings generated from it in
// .gen/providers/libvirt in agreement, and pins the parts of the schema the
// constructs rely on.
import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const REPO_ROOT = path.resolve(__dirname, '..');
const SCHEMA_FILE = path.join(REPO_ROOT, 'providers', 'libvirt', 'schema.json');
const GENERATOR = path.join(REPO_ROOT, 'scripts', 'generate-libvirt-bindings.js');
const GEN_DIR = path.join(REPO_ROOT, '.gen', 'providers', 'libvirt');
const FQPN = 'registry.terraform.io/dmacvicar/libvirt';

// ---------------------------------------------------------------------------
// Schema model (the subset of `terraform providers schema -json` used here)

type TfType = string | [string, TfType] | ['object', Record<string, TfType>];

interface SchemaAttribute {
  type: TfType;
  description?: string;
  description_kind?: string;
  deprecated?: boolean;
  required?: boolean;
  optional?: boolean;
  computed?: boolean;
  sensitive?: boolean;
}

interface SchemaBlock {
  attributes?: Record<string, SchemaAttribute>;
  block_types?: Record<string, SchemaBlockType>;
  description_kind?: string;
}

interface SchemaBlockType {
  nesting_mode: 'list' | 'set' | 'single' | 'map' | 'group';
  block: SchemaBlock;
  min_items?: number;
  max_items?: number;
}

interface SchemaEntry {
  version: number;
  block: SchemaBlock;
}

interface ProviderSchema {
  provider: SchemaEntry;
  resource_schemas: Record<string, SchemaEntry>;
  data_source_schemas: Record<string, SchemaEntry>;
}

const schemaText = fs.readFileSync(SCHEMA_FILE, 'utf8');
const schemaJson = JSON.parse(schemaText) as {
  format_version: string;
  provider_schemas: Record<string, ProviderSchema>;
};
const libvirt = schemaJson.provider_schemas[FQPN];

const camel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const isComputedOnly = (a: SchemaAttribute): boolean => !!a.computed && !a.optional && !a.required;

// TypeScript type the generator emits for a settable attribute in a config struct.
function expectedTsType(t: TfType): string | undefined {
  if (t === 'string') return 'string';
  if (t === 'number') return 'number';
  if (t === 'bool') return 'boolean | cdktf.IResolvable';
  if (Array.isArray(t) && (t[0] === 'list' || t[0] === 'set')) {
    if (t[1] === 'string') return 'string[]';
    if (t[1] === 'number') return 'number[]';
    const inner = expectedTsType(t[1] as TfType);
    return inner && inner.startsWith('{') ? `${inner}[] | cdktf.IResolvable` : undefined;
  }
  if (Array.isArray(t) && t[0] === 'map' && t[1] === 'string') return '{ [key: string]: string }';
  return undefined; // not used by this provider; no type assertion
}

// ---------------------------------------------------------------------------
// Generated code model, read with the TypeScript parser (no import needed)

interface GenProperty {
  optional: boolean;
  type: string;
}

interface GenClass {
  name: string;
  base: string;
  tfResourceType?: string;
  configType?: string;
  getters: Set<string>;
}

interface GenModule {
  exportName: string;
  dir: string;
  interfaces: Map<string, Map<string, GenProperty>>;
  classes: Map<string, GenClass>;
}

function parseModule(exportName: string, dir: string): GenModule {
  const file = path.join(GEN_DIR, dir, 'index.ts');
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const mod: GenModule = { exportName, dir, interfaces: new Map(), classes: new Map() };
  for (const stmt of sf.statements) {
    if (ts.isInterfaceDeclaration(stmt)) {
      const props = new Map<string, GenProperty>();
      for (const m of stmt.members) {
        if (ts.isPropertySignature(m) && m.type) {
          props.set(m.name.getText(sf), { optional: !!m.questionToken, type: m.type.getText(sf) });
        }
      }
      mod.interfaces.set(stmt.name.text, props);
    } else if (ts.isClassDeclaration(stmt) && stmt.name) {
      const heritage = stmt.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword);
      const cls: GenClass = {
        name: stmt.name.text,
        base: heritage ? heritage.types[0].getText(sf) : '',
        getters: new Set(),
      };
      for (const m of stmt.members) {
        if (ts.isGetAccessorDeclaration(m)) cls.getters.add(m.name.getText(sf));
        if (
          ts.isPropertyDeclaration(m) &&
          m.name.getText(sf) === 'tfResourceType' &&
          m.initializer &&
          ts.isStringLiteral(m.initializer)
        ) {
          cls.tfResourceType = m.initializer.text;
        }
        if (ts.isConstructorDeclaration(m)) {
          const config = m.parameters.find((p) => p.name.getText(sf) === 'config');
          if (config?.type) cls.configType = config.type.getText(sf);
        }
      }
      mod.classes.set(cls.name, cls);
    }
  }
  return mod;
}

function loadGeneratedModules(): GenModule[] {
  const index = fs.readFileSync(path.join(GEN_DIR, 'index.ts'), 'utf8');
  const modules: GenModule[] = [];
  for (const m of index.matchAll(/^export \* as (\w+) from '\.\/([^']+)';$/gm)) {
    modules.push(parseModule(m[1], m[2]));
  }
  return modules;
}

interface TopLevel {
  module: GenModule;
  cls: GenClass;
}

function topLevelClass(mod: GenModule): GenClass | undefined {
  return [...mod.classes.values()].find((c) => c.tfResourceType !== undefined);
}

// Compare one schema block with the generated config struct (and, for
// computed-only attributes, the getters of the class that reads it back).
function blockMismatches(
  mod: GenModule,
  block: SchemaBlock,
  structName: string,
  readerClass: GenClass | undefined,
  where: string,
): string[] {
  const problems: string[] = [];
  const props = mod.interfaces.get(structName);
  if (!props) return [`${where}: no interface ${structName} in ${mod.dir}/index.ts`];
  const expected = new Set<string>();

  for (const [name, attr] of Object.entries(block.attributes ?? {})) {
    const prop = camel(name);
    if (isComputedOnly(attr)) {
      if (!readerClass?.getters.has(prop)) {
        problems.push(`${where}.${name}: computed attribute has no getter ${readerClass?.name ?? '(no class)'}.${prop}`);
      }
      continue;
    }
    expected.add(prop);
    const gen = props.get(prop);
    if (!gen) {
      problems.push(`${where}.${name}: missing property ${structName}.${prop}`);
      continue;
    }
    if (gen.optional === !!attr.required) {
      problems.push(`${where}.${name}: required=${!!attr.required} but ${structName}.${prop} optional=${gen.optional}`);
    }
    const want = expectedTsType(attr.type);
    if (want !== undefined && gen.type !== want) {
      problems.push(`${where}.${name}: type ${JSON.stringify(attr.type)} expects ${want}, generated ${gen.type}`);
    }
    if (readerClass && !readerClass.getters.has(prop)) {
      problems.push(`${where}.${name}: no getter ${readerClass.name}.${prop}`);
    }
  }

  for (const [name, bt] of Object.entries(block.block_types ?? {})) {
    const prop = camel(name);
    expected.add(prop);
    const gen = props.get(prop);
    if (!gen) {
      problems.push(`${where}.${name}: missing block property ${structName}.${prop}`);
      continue;
    }
    const required = (bt.min_items ?? 0) > 0;
    if (gen.optional === required) {
      problems.push(`${where}.${name}: min_items=${bt.min_items ?? 0} but ${structName}.${prop} optional=${gen.optional}`);
    }
    const single = bt.nesting_mode === 'single' || bt.max_items === 1;
    const m = single ? /^(\w+)$/.exec(gen.type) : /^(\w+)\[\] \| cdktf\.IResolvable$/.exec(gen.type);
    if (!m) {
      problems.push(`${where}.${name}: ${bt.nesting_mode} block (max_items ${bt.max_items ?? '-'}) generated as ${gen.type}`);
      continue;
    }
    const nestedStruct = m[1];
    const nestedReader = mod.classes.get(`${nestedStruct}OutputReference`);
    if (!nestedReader) problems.push(`${where}.${name}: no class ${nestedStruct}OutputReference`);
    problems.push(...blockMismatches(mod, bt.block, nestedStruct, nestedReader, `${where}.${name}`));
  }

  for (const prop of props.keys()) {
    if (!expected.has(prop)) problems.push(`${where}: ${structName}.${prop} is not in the schema`);
  }
  return problems;
}

// ---------------------------------------------------------------------------

let modules: GenModule[] = [];
const resources = new Map<string, TopLevel>();
const dataSources = new Map<string, TopLevel>();
let providerModule: TopLevel | undefined;
const unclassified: string[] = [];

beforeAll(() => {
  // Idempotent and offline: a no-op when the stamp already matches the schema.
  execFileSync(process.execPath, [GENERATOR], { cwd: REPO_ROOT, stdio: 'pipe' });
  modules = loadGeneratedModules();
  for (const mod of modules) {
    const cls = topLevelClass(mod);
    if (cls?.tfResourceType && cls.base === 'cdktf.TerraformProvider') providerModule = { module: mod, cls };
    else if (cls?.tfResourceType && cls.base === 'cdktf.TerraformDataSource') dataSources.set(cls.tfResourceType, { module: mod, cls });
    else if (cls?.tfResourceType && cls.base === 'cdktf.TerraformResource') resources.set(cls.tfResourceType, { module: mod, cls });
    else unclassified.push(mod.dir);
  }
}, 120_000);

describe('committed libvirt 0.8.3 schema vs generated bindings', () => {
  test('the bindings were generated from this exact schema.json', () => {
    const stamp = JSON.parse(fs.readFileSync(path.join(GEN_DIR, '.schema-stamp.json'), 'utf8')) as {
      schemaSha256: string;
      provider: string;
    };
    expect(stamp.schemaSha256).toBe(createHash('sha256').update(schemaText).digest('hex'));
    expect(stamp.provider).toBe('dmacvicar/libvirt@0.8.3');
  });

  test('every generated module is the provider, a resource or a data source, each exactly once', () => {
    expect(unclassified).toEqual([]);
    expect(providerModule?.module.dir).toBe('provider');
    // a Terraform type generated twice would collapse in the maps above
    expect(modules.map((m) => m.dir)).toHaveLength(1 + resources.size + dataSources.size);
  });

  test('one generated resource module per schema resource, and no other', () => {
    expect([...resources.keys()].sort()).toEqual(Object.keys(libvirt.resource_schemas).sort());
  });

  test('one generated data source module per schema data source, and no other', () => {
    expect([...dataSources.keys()].sort()).toEqual(Object.keys(libvirt.data_source_schemas).sort());
  });

  test('provider config matches the provider schema (plus alias)', () => {
    expect(providerModule).toBeDefined();
    const { module, cls } = providerModule!;
    expect(cls.name).toBe('LibvirtProvider');
    expect(cls.configType).toBe('LibvirtProviderConfig');
    const props = module.interfaces.get('LibvirtProviderConfig')!;
    expect(props.get('alias')).toEqual({ optional: true, type: 'string' });
    const withoutAlias = new Map([...props].filter(([k]) => k !== 'alias'));
    const tmp: GenModule = { ...module, interfaces: new Map([['LibvirtProviderConfig', withoutAlias]]) };
    expect(blockMismatches(tmp, libvirt.provider.block, 'LibvirtProviderConfig', cls, 'provider')).toEqual([]);
  });

  const kinds: Array<['resource' | 'data source', () => Record<string, SchemaEntry>, () => Map<string, TopLevel>]> = [
    ['resource', () => libvirt.resource_schemas, () => resources],
    ['data source', () => libvirt.data_source_schemas, () => dataSources],
  ];
  for (const [kind, schemas, generated] of kinds) {
    test(`every ${kind} attribute and block (recursively) has its camelCase config property, and no extra`, () => {
      const problems: string[] = [];
      for (const [type, entry] of Object.entries(schemas())) {
        const gen = generated().get(type);
        if (!gen) {
          problems.push(`${type}: no generated module`);
          continue;
        }
        if (!gen.cls.configType) {
          problems.push(`${type}: ${gen.cls.name} has no config parameter`);
          continue;
        }
        problems.push(...blockMismatches(gen.module, entry.block, gen.cls.configType, gen.cls, type));
      }
      expect(problems).toEqual([]);
    });
  }
});

describe('schema shapes the constructs rely on', () => {
  const domain = libvirt.resource_schemas.libvirt_domain.block;
  const attr = (b: SchemaBlock, n: string) => b.attributes?.[n];

  test('format and provider', () => {
    expect(schemaJson.format_version).toBe('1.0');
    expect(Object.keys(schemaJson.provider_schemas)).toEqual([FQPN]);
    expect(attr(libvirt.provider.block, 'uri')).toMatchObject({ type: 'string', required: true });
  });

  test('libvirt_domain has xml { xslt } (single-item list block) for XSLT injection of devices', () => {
    expect(domain.block_types?.xml).toMatchObject({ nesting_mode: 'list', max_items: 1 });
    expect(attr(domain.block_types!.xml.block, 'xslt')).toMatchObject({ type: 'string', optional: true });
  });

  test('libvirt_domain has disk, network_interface and console blocks', () => {
    expect(domain.block_types?.disk?.nesting_mode).toBe('list');
    expect(attr(domain.block_types!.disk.block, 'volume_id')).toMatchObject({ type: 'string', optional: true });
    expect(domain.block_types?.network_interface?.nesting_mode).toBe('list');
    expect(attr(domain.block_types!.network_interface.block, 'network_name')).toBeDefined();
    expect(attr(domain.block_types!.network_interface.block, 'wait_for_lease')).toMatchObject({ type: 'bool' });
    expect(domain.block_types?.console?.nesting_mode).toBe('list');
    expect(attr(domain.block_types!.console.block, 'target_port')).toMatchObject({ required: true });
  });

  test('libvirt_domain has qemu_agent and autostart booleans, cloudinit and name', () => {
    expect(attr(domain, 'qemu_agent')).toMatchObject({ type: 'bool', optional: true });
    expect(attr(domain, 'autostart')).toMatchObject({ type: 'bool', optional: true, computed: true });
    expect(attr(domain, 'cloudinit')).toMatchObject({ type: 'string', optional: true });
    expect(attr(domain, 'name')).toMatchObject({ type: 'string', required: true });
  });

  test('libvirt_domain 0.8.3 has no watchdog (it is injected through xml { xslt })', () => {
    expect(attr(domain, 'watchdog')).toBeUndefined();
    expect(domain.block_types?.watchdog).toBeUndefined();
  });

  test('libvirt_cloudinit_disk has name, pool, user_data, meta_data, network_config', () => {
    const ci = libvirt.resource_schemas.libvirt_cloudinit_disk.block;
    expect(attr(ci, 'name')).toMatchObject({ type: 'string', required: true });
    for (const n of ['pool', 'user_data', 'meta_data', 'network_config']) {
      expect(attr(ci, n)).toMatchObject({ type: 'string', optional: true });
    }
  });
});

describe('generated classes synthesize', () => {
  test('provider, cloud-init disk and a domain with xml { xslt }', () => {
    // Required at run time (after beforeAll generated them); the compile check
    // of the generated sources is a separate tsc step.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const cdktf = require('cdktf') as typeof import('cdktf');
    const { LibvirtProvider } = require(path.join(GEN_DIR, 'provider'));
    const { Domain } = require(path.join(GEN_DIR, 'domain'));
    const { CloudinitDisk } = require(path.join(GEN_DIR, 'cloudinit-disk'));
    /* eslint-enable @typescript-eslint/no-require-imports */

    const app = cdktf.Testing.app();
    const stack = new cdktf.TerraformStack(app, 'libvirt-smoke');
    new LibvirtProvider(stack, 'libvirt', { uri: 'qemu:///system' });
    const seed = new CloudinitDisk(stack, 'seed', { name: 'seed.iso', pool: 'default', userData: '#cloud-config\n' });
    new Domain(stack, 'vm', {
      name: 'vm',
      qemuAgent: true,
      cloudinit: seed.id,
      disk: [{ volumeId: 'vol-1' }],
      networkInterface: [{ networkName: 'default', waitForLease: true }],
      console: [{ type: 'pty', targetPort: '0' }],
      xml: { xslt: '<xsl:stylesheet version="1.0"/>' },
    });
    const out = JSON.parse(cdktf.Testing.synth(stack)) as {
      provider: { libvirt: Array<{ uri: string }> };
      terraform: { required_providers: { libvirt: { source: string; version: string } } };
      resource: { libvirt_domain: { vm: Record<string, unknown> } };
    };
    expect(out.provider.libvirt[0].uri).toBe('qemu:///system');
    expect(out.terraform.required_providers.libvirt).toEqual({ source: 'dmacvicar/libvirt', version: '0.8.3' });
    const vm = out.resource.libvirt_domain.vm;
    expect(vm.qemu_agent).toBe(true);
    expect(vm.cloudinit).toBe('${libvirt_cloudinit_disk.seed.id}');
    expect(vm.xml).toEqual({ xslt: '<xsl:stylesheet version="1.0"/>' });
    expect(vm.network_interface).toEqual([{ network_name: 'default', wait_for_lease: true }]);
  });
});

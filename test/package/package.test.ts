// The library as its users get it: `npm pack`, installed into an empty
// directory beside cdktf, constructs and the vSphere provider, then used from
// JavaScript and from strict TypeScript to build fabrics of its own (not the
// examples) and synthesize them.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FETCH_IMAGE_SCRIPT } from '../../constructs/platforms/libvirt/verified-images';

const ROOT = path.resolve(__dirname, '../..');
const rootPackage = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const devVersion = (name: string): string => rootPackage.devDependencies[name] ?? rootPackage.dependencies[name];

/** Paths of the repository that must never reach a user's node_modules. */
const NOT_SHIPPED = /^(test|e2e|bench|scripts|\.ci|stacks|providers|dist\/(test|e2e|bench|stacks))\/|\.tsbuildinfo$|\.ts$(?<!\.d\.ts)/;

const SHARED_PROPS = `
  managementNetwork: { cidr: '198.51.100.0/24', gateway: '198.51.100.1', ntpServers: ['198.51.100.123'] },
`;

/** A consumer app: one vSphere fabric and one KVM fabric, in the given language's syntax. */
function consumerSource(typed: boolean): string {
  const t = (annotation: string) => (typed ? annotation : '');
  const imports = typed
    ? `import { App, TerraformStack } from 'cdktf';
import { VsphereProvider, VsphereProviderConfig } from '@cdktf/provider-vsphere/lib/provider';
import { Fabric, FabricSpec, LibvirtPlatform, VspherePlatform } from 'appliance-fabric';`
    : `const { App, TerraformStack } = require('cdktf');
const { VsphereProvider } = require('@cdktf/provider-vsphere/lib/provider');
const { Fabric, LibvirtPlatform, VspherePlatform } = require('appliance-fabric');`;
  return `${imports}

const app = new App({ outdir: process.argv[2] });

const vsphereStack = new TerraformStack(app, 'consumer-vsphere');
// Credentials come from VSPHERE_USER / VSPHERE_PASSWORD at apply time, never from the plan.
new VsphereProvider(vsphereStack, 'vsphere', {}${t(' as VsphereProviderConfig')});
const vsphereSpec${t(': FabricSpec')} = {
  name: 'opsfab',
  ${SHARED_PROPS}
  vip: '198.51.100.40',
  addressPlan: { count: 4, firstAddress: '198.51.100.41', namePrefix: 'ops' },
  database: { vip: '198.51.100.50' },
  loadBalancer: { serverTimeoutSeconds: 20 },
};
const vsphereFabric = new Fabric(vsphereStack, 'Fabric', {
  ...vsphereSpec,
  platform: new VspherePlatform({ datacenter: 'dc-a', computeCluster: 'cl-a', datastore: 'ds-a', network: 'pg-mgmt', template: 'appliance-tpl' }),
});

const kvmStack = new TerraformStack(app, 'consumer-kvm');
const kvmFabric = new Fabric(kvmStack, 'Fabric', {
  name: 'labfab',
  ${SHARED_PROPS}
  vip: '198.51.100.60',
  appliances: [
    { name: 'lab1', managementAddress: '198.51.100.61' },
    { name: 'lab2', managementAddress: '198.51.100.62' },
  ],
  highAvailability: { advertIntervalSeconds: 0.2 },
  platform: new LibvirtPlatform({
    hosts: [
      { name: 'hv1', uri: 'qemu:///system', baseImage: { volumeName: 'debian12.qcow2' }, network: { bridge: 'br0' } },
      // Downloaded and checked by the script the package ships.
      { name: 'hv2', uri: 'qemu+ssh://root@hv2.example.net/system', baseImage: { source: 'https://images.example.net/debian-12-appliance.qcow2', sha256: '${'a1'.repeat(32)}' }, network: { bridge: 'br0' } },
    ],
  }),
});

app.synth();
const vip${t(': string')} = vsphereFabric.loadBalancer.vip;
console.log(JSON.stringify({ vsphereVip: vip, vsphereNodes: vsphereFabric.appliances.length, kvmNodes: kvmFabric.appliances.length }));
`;
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

type Plan = { resource?: Record<string, Record<string, unknown>>; provisioner?: unknown };
const planOf = (outdir: string, stack: string): Plan => JSON.parse(readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8'));

describe('the packed library, installed into an empty project', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'afpkg-'));
  const consumer = path.join(work, 'consumer');
  let shipped: string[] = [];

  beforeAll(() => {
    // `npm pack` runs `prepare` (the build), exactly as a publish would.
    const packOutput = run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
    // The JSON report follows whatever the build printed.
    const [packed] = JSON.parse(packOutput.slice(packOutput.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
    shipped = packed.files.map((f) => f.path);
    mkdirSync(consumer);
    writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'fabric-consumer', version: '1.0.0', private: true }, null, 2));
    run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-package-lock',
        path.join(work, packed.filename),
        `cdktf@${devVersion('cdktf')}`,
        `constructs@${devVersion('constructs')}`,
        `@cdktf/provider-vsphere@${devVersion('@cdktf/provider-vsphere')}`,
      ],
      consumer,
    );
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('ships the compiled library, its declarations, the compiled libvirt bindings and the config schemas, and nothing of tests, e2e, CI or benches', () => {
    expect(shipped).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/constructs/fabric.js', 'dist/constructs/fabric.d.ts']));
    // The config schemas, for editors (the example YAMLs name them) and YAML readers.
    expect(shipped).toEqual(expect.arrayContaining(['schema/vsphere-stack-config.schema.json', 'schema/kvm-stack-config.schema.json']));
    expect(shipped.some((f) => f.startsWith('dist/.gen/providers/libvirt/') && f.endsWith('.js'))).toBe(true);
    // The script Terraform runs to fetch and check a base image.
    expect(shipped).toContain(FETCH_IMAGE_SCRIPT);
    // The package's own files; the non-jsii runtime dependencies ride along under node_modules/ as their authors
    // publish them (jsii requires them bundled: package.json "bundledDependencies").
    expect(shipped.filter((f) => !f.startsWith('node_modules/') && NOT_SHIPPED.test(f))).toEqual([]);
    for (const bundled of rootPackage.bundledDependencies as string[]) expect(shipped).toContain(`node_modules/${bundled}/package.json`);
  });

  it('ships its jsii assembly (.jsii), which jsii-pacmak and jsii libraries that depend on it read', () => {
    // `npm pack` runs `prepack`, which compiles it with jsii (the same step as `npm run jsii`).
    const assembly = JSON.parse(readFileSync(path.join(consumer, 'node_modules/appliance-fabric/.jsii'), 'utf8'));
    expect({ name: assembly.name, version: assembly.version, schema: assembly.schema }).toEqual({ name: rootPackage.name, version: rootPackage.version, schema: 'jsii/0.10.0' });
    expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining(['appliance-fabric.Fabric', 'appliance-fabric.DatabaseCluster', 'appliance-fabric.IFabricPlatform']));
  });

  it('declares cdktf and constructs as peer dependencies, and installs no copy of its own', () => {
    const installed = JSON.parse(readFileSync(path.join(consumer, 'node_modules/appliance-fabric/package.json'), 'utf8'));
    expect(Object.keys(installed.peerDependencies).sort()).toEqual(['cdktf', 'constructs']);
    expect(installed.dependencies.cdktf).toBeUndefined();
    expect(existsSync(path.join(consumer, 'node_modules/appliance-fabric/node_modules/cdktf'))).toBe(false);
    expect(existsSync(path.join(consumer, 'node_modules/appliance-fabric/node_modules/constructs'))).toBe(false);
  });

  it('builds and synthesizes a vSphere and a KVM fabric from JavaScript', () => {
    writeFileSync(path.join(consumer, 'app.js'), consumerSource(false));
    const outdir = path.join(consumer, 'out-js');
    const printed = JSON.parse(run(process.execPath, ['app.js', outdir], consumer).trim().split('\n').pop()!);
    expect(printed).toEqual({ vsphereVip: '198.51.100.40', vsphereNodes: 4, kvmNodes: 2 });
    expect(Object.keys(planOf(outdir, 'consumer-vsphere').resource!.vsphere_virtual_machine)).toHaveLength(4);
    expect(Object.keys(planOf(outdir, 'consumer-kvm').resource!.libvirt_domain)).toHaveLength(2);
    // The image check's script, found in the installed package and copied beside the KVM plan for terraform to run.
    const fetches = Object.values(planOf(outdir, 'consumer-kvm').resource!.terraform_data as Record<string, Plan>).filter((r) => r.provisioner);
    const command = (fetches[0].provisioner as { 'local-exec': { command: string } }[])[0]['local-exec'].command;
    expect(readFileSync(path.join(outdir, 'stacks', 'consumer-kvm', command), 'utf8')).toBe(readFileSync(path.join(ROOT, FETCH_IMAGE_SCRIPT), 'utf8'));
  });

  it('type-checks in strict TypeScript and synthesizes the same plans', () => {
    writeFileSync(path.join(consumer, 'app.ts'), consumerSource(true));
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, noImplicitAny: true, esModuleInterop: true, skipLibCheck: false, types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')], outDir: 'built' }, files: ['app.ts'] }),
    );
    run(process.execPath, [require.resolve('typescript/bin/tsc', { paths: [ROOT] }), '-p', 'tsconfig.json'], consumer);
    const outdir = path.join(consumer, 'out-ts');
    const printed = JSON.parse(run(process.execPath, ['built/app.js', outdir], consumer).trim().split('\n').pop()!);
    expect(printed).toEqual({ vsphereVip: '198.51.100.40', vsphereNodes: 4, kvmNodes: 2 });
    for (const stack of ['consumer-vsphere', 'consumer-kvm']) {
      // Same input, same bytes (generated secrets are Terraform resources, not values).
      expect(planOf(outdir, stack)).toEqual(planOf(path.join(consumer, 'out-js'), stack));
    }
  });
});

// The construct API: clusters given as props or added after the constructor
// make the same plan, since the fabric renders only at synth; a second
// cluster of a kind, or one added after the fabric rendered, is refused.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, TerraformStack, Testing } from 'cdktf';
import { Fabric, FabricProps } from '../constructs/fabric';
import { LibvirtPlatform } from '../constructs/platforms/libvirt/libvirt-platform';
import { FabricSpec } from '../model/fabric-spec';
import { KvmFabricConfig } from '../stacks/kvm-fabric-stack';
import { CONFIG_DIR } from '../stacks/main';
import { readStackConfig } from '../stacks/stack-config';
import { threeNodeSpec } from './fixtures';
import { refusal, testApp } from './synth-helpers';

const ROOT = path.resolve(__dirname, '..');
const DEPLOY_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly operator@example';

/** The example with every optional cluster (database, Cassandra, a monitoring pair, a device network), delivering configuration. */
const FULL = readStackConfig<KvmFabricConfig>(path.join(CONFIG_DIR, 'kvm-fabric-full.yaml'), 'libvirt');
const fullSpec: FabricSpec = { ...FULL.fabric, sshAuthorizedKeys: [DEPLOY_KEY] };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'afapi-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Builds one fabric in stack 'stack', lets `build` add to it, and runs `app.synth()`, as `cdktf synth` does; the cdk.tf.json it wrote. */
function synth(props: FabricSpec, build: (fabric: Fabric) => void = () => undefined): string {
  const outdir = mkdtempSync(path.join(dir, 'out-'));
  const app = new App({ outdir });
  const fabric = new Fabric(new TerraformStack(app, 'stack'), 'Fabric', { ...props, platform: new LibvirtPlatform(FULL.libvirt), lockFile: path.join(outdir, 'lock.json') });
  build(fabric);
  app.synth();
  return readFileSync(path.join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8');
}

/** A fabric on the example's hosts; they attach the device network when the fabric has one, or will have. */
function fabricOf(spec: FabricSpec = threeNodeSpec(), deviceNetwork = spec.deviceNetwork !== undefined): Fabric {
  const hosts = deviceNetwork ? FULL.libvirt.hosts : FULL.libvirt.hosts.map(({ deviceNetwork: _, ...host }) => host);
  return new Fabric(new TerraformStack(testApp(), 'stack'), 'Fabric', { ...spec, platform: new LibvirtPlatform({ ...FULL.libvirt, hosts }), lockFile: path.join(dir, 'lock.json') });
}

describe('clusters added after the constructor', () => {
  const { database, cassandra, monitoring, deviceNetwork, ...withoutClusters } = fullSpec;
  const fromProps = () => synth(fullSpec);

  it('make the same plan as the same clusters in the props', () => {
    const expected = fromProps();
    const plan = JSON.parse(expected);
    // Every optional cluster is in it: the comparison below covers each.
    const outputs = Object.keys(plan.output).map((k) => k.replace(/_[0-9A-F]{8}$/, ''));
    expect(outputs).toEqual(expect.arrayContaining(['Fabric_database_vip', 'Fabric_monitoring_address', 'Fabric_device_vip']));
    expect(Object.keys(plan.resource.terraform_data).filter((k) => k.includes('_delivery_configuration_'))).toHaveLength(fullSpec.appliances!.length);
    const added = synth(withoutClusters, (fabric) => {
      fabric.addDatabase('database', database!);
      fabric.addCassandra('cassandra', cassandra!);
      fabric.addMonitoring('monitoring', monitoring!);
      fabric.addDeviceNetwork('device-network', deviceNetwork!);
    });
    expect(added).toBe(expected);
  });

  it('make the same plan whatever order they are added in', () => {
    const added = synth(withoutClusters, (fabric) => {
      fabric.addDeviceNetwork('device-network', deviceNetwork!);
      fabric.addMonitoring('monitoring', monitoring!);
      fabric.addCassandra('cassandra', cassandra!);
      fabric.addDatabase('database', database!);
    });
    expect(added).toBe(fromProps());
  });

  it('return their constructs, whose model and members are the rendered fabric', () => {
    const fabric = fabricOf(withoutClusters, true);
    const db = fabric.addDatabase('database', database!);
    const ring = fabric.addCassandra('cassandra', cassandra!);
    const mon = fabric.addMonitoring('monitoring', monitoring!);
    const devices = fabric.addDeviceNetwork('device-network', deviceNetwork!);
    expect([fabric.database, fabric.cassandra, fabric.monitoring, fabric.deviceNetwork]).toEqual([db, ring, mon, devices]);
    expect(db.node.path).toBe('stack/Fabric/database');
    expect(db.props).toBe(database);
    expect(db.members.map((a) => a.name)).toEqual(['db1', 'db2']);
    expect(db.members[0]).toBe(fabric.appliances.find((a) => a.name === 'db1'));
    expect(db.vip).toBe(database!.vip);
    expect(ring.seeds.map((a) => a.name)).toEqual(['node1', 'node2']);
    expect(mon.address).toBe(monitoring!.vip);
    expect(devices.vip).toBe(deviceNetwork!.vip);
    expect(fabric.model.database).toBe(db.model);
  });

  it('from the props are the same constructs, at the same paths', () => {
    const fabric = fabricOf(fullSpec);
    expect([fabric.database, fabric.cassandra, fabric.monitoring, fabric.deviceNetwork].map((c) => [c!.node.path, c!.props])).toEqual([
      ['stack/Fabric/database', database],
      ['stack/Fabric/cassandra', cassandra],
      ['stack/Fabric/monitoring', monitoring],
      ['stack/Fabric/device-network', deviceNetwork],
    ]);
  });

  it('are validated with the whole fabric at synth, every problem together', () => {
    const fabric = fabricOf();
    fabric.addDatabase('database', { vip: '203.0.113.20' });
    fabric.addMonitoring('monitoring', { members: ['node9'] });
    const err = refusal(() => Testing.synth(fabric.node.scope as TerraformStack));
    expect(err.message).toMatch(/stack\/Fabric\/monitoring\.members\[0\]: 'node9'.*\n.*stack\/Fabric\/database\.vip: database VIP '203\.0\.113\.20' is outside the management network/);
  });

  it('can fix what a read of the model found: a refused fabric stays open', () => {
    const fabric = fabricOf(threeNodeSpec({ firewall: { databaseClientCidrs: ['198.51.100.0/24'] } }));
    expect(refusal(() => fabric.model).message).toMatch(/firewall\.databaseClientCidrs: the fabric has no database cluster/);
    fabric.addDatabase('database', { vip: '198.51.100.20' });
    expect(fabric.model.database?.vrrp.vip).toBe('198.51.100.20');
  });

  it('without monitoring, get the default monitoring cluster on the load-balancer pair when the fabric renders', () => {
    const fabric = fabricOf();
    expect(fabric.monitoring.node.path).toBe('stack/Fabric/monitoring');
    expect(fabric.monitoring.members).toEqual(fabric.loadBalancer.members);
    expect(fabric.monitoring.address).toBe(fabric.model.vip);
  });
});

describe('a cluster the fabric cannot take', () => {
  const adds: [string, (fabric: Fabric, id: string) => unknown, keyof FabricProps, string][] = [
    ['database cluster', (f, id) => f.addDatabase(id, { vip: '198.51.100.21' }), 'database', 'addDatabase'],
    ['Cassandra cluster', (f, id) => f.addCassandra(id, { members: ['node1', 'node2'] }), 'cassandra', 'addCassandra'],
    ['monitoring cluster', (f, id) => f.addMonitoring(id, {}), 'monitoring', 'addMonitoring'],
    ['device network', (f, id) => f.addDeviceNetwork(id, { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11' }), 'deviceNetwork', 'addDeviceNetwork'],
  ];

  it.each(adds)('a second %s is refused with its path, the first one and the fix', (what, add, key, method) => {
    const fabric = fabricOf();
    add(fabric, 'first');
    const err = refusal(() => add(fabric, 'second'));
    expect(err.message).toBe(
      `Invalid fabric configuration (1 problem):\n  - stack/Fabric/second: a second ${what}: the fabric has one already, at stack/Fabric/first. Fix: give the fabric one ${what}, either in FabricProps.${key} or in one ${method}() call`,
    );
  });

  it('one added on top of the props is refused too', () => {
    const fabric = fabricOf(threeNodeSpec({ database: { vip: '198.51.100.20' } }));
    expect(refusal(() => fabric.addDatabase('db', { vip: '198.51.100.21' })).message).toMatch(
      /stack\/Fabric\/db: a second database cluster: the fabric has one already, at stack\/Fabric\/database\. Fix: give the fabric one database cluster, either in FabricProps\.database or in one addDatabase\(\) call/,
    );
  });

  it.each(adds)('a %s added after the model was read is refused: the fabric is built', (_what, add, _key, method) => {
    const fabric = fabricOf();
    expect(fabric.model.nodes).toHaveLength(3);
    expect(() => add(fabric, 'late')).toThrow(new RegExp(`^fabric 'testfab' \\(stack/Fabric\\) is already built: add clusters before reading its model\\. ${method}\\('late'\\) came after`));
  });

  it('a cluster added after synth is refused the same way', () => {
    const fabric = fabricOf();
    Testing.synth(fabric.node.scope as TerraformStack);
    expect(() => fabric.addDatabase('database', { vip: '198.51.100.20' })).toThrow(/is already built: add clusters before reading its model/);
  });
});

describe('the README library example', () => {
  const example = readFileSync(path.join(__dirname, 'fixtures', 'readme-library-example.ts'), 'utf8');

  it('is the code README.md shows, with the package name (tsc type-checks the fixture)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use it as a library'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)![1];
    expect(block).toBe(example.replace("from '../../index'", "from 'appliance-fabric'"));
  });

  it('synthesizes, with the clusters it added', () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      jest.isolateModules(() => require('./fixtures/readme-library-example'));
    } finally {
      process.chdir(cwd);
    }
    const plan = JSON.parse(readFileSync(path.join(dir, 'cdktf.out', 'stacks', 'prod-fabric', 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(plan.resource.vsphere_virtual_machine)).toHaveLength(6);
    expect(Object.keys(plan.output).some((k) => k.startsWith('Fabric_device_vip_'))).toBe(true);
    expect(existsSync(path.join(dir, 'appliance-fabric.lock.json'))).toBe(true);
  });
});


import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { VsphereProvider, VsphereProviderConfig } from '@cdktf/provider-vsphere/lib/provider';
import { App, TerraformStack, Testing } from 'cdktf';
import { Fabric } from '../constructs/fabric';
import { DEFAULT_LOCK_FILE } from '../constructs/fabric-lock';
import { LibvirtPlatform } from '../constructs/platforms/libvirt/libvirt-platform';
import { KvmHostProps } from '../constructs/platforms/libvirt/kvm-host';
import { VspherePlatform, VspherePlatformProps } from '../constructs/platforms/vsphere/vsphere-platform';
import { ApplianceImageSpec, ApplianceSpec, FabricSpec, ImageFromSource } from '../model/fabric-spec';
import { FabricLock } from '../model/identity';
import { EXAMPLE_LOCK_FILE } from '../stacks/example-stack-options';
import { threeNodeSpec } from './fixtures';
import { Plan, refusal, synthExamples } from './synth-helpers';

type PlatformKind = 'kvm' | 'vsphere';

/** One URL whose image changes (a distribution's "latest"): a new checksum of the same URL is a new image. */
const IMAGE_URL = 'https://images.example.net/appliance/debian-12-latest.qcow2';
const IMAGE = { source: IMAGE_URL, sha256: 'a1'.repeat(32) };
const IMAGE_NEXT = { source: IMAGE_URL, sha256: 'b2'.repeat(32) };
/** As the lock and the messages describe the host's own image (keys sorted). */
const described = (image: ImageFromSource) => `name 'testfab-base.qcow2', sha256 '${image.sha256}', source '${image.source}'`;

const kvmHost = (name: string, baseImage: ImageFromSource = IMAGE): KvmHostProps => ({ name, uri: `qemu+ssh://root@${name}.example.net/system`, baseImage, network: { bridge: 'br-mgmt' } });
const VSPHERE: VspherePlatformProps = { datacenter: 'dc1', computeCluster: 'c1', datastore: 'ds1', network: 'mgmt', template: 'debian12-v1' };

interface Synth {
  /** The stack's plan. */
  readonly plan: Plan;
}

/** A fresh directory per test, removed after it: the lock file and cdktf.out live there. */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aflock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockPath = () => path.join(dir, DEFAULT_LOCK_FILE);
const lockText = () => readFileSync(lockPath(), 'utf8');
const lock = (): FabricLock => JSON.parse(lockText());

/** Builds one fabric in stack 'stack' and runs `app.synth()`, as `cdktf synth` does; the plan it wrote. */
function synth(kind: PlatformKind, spec: FabricSpec, options: { kvmHosts?: KvmHostProps[]; vsphere?: Partial<VspherePlatformProps> } = {}): Synth {
  const outdir = mkdtempSync(path.join(dir, 'out-'));
  const app = new App({ outdir });
  const stack = new TerraformStack(app, 'stack');
  if (kind === 'vsphere') new VsphereProvider(stack, 'vsphere', {} as VsphereProviderConfig);
  const platform = kind === 'kvm' ? new LibvirtPlatform({ hosts: options.kvmHosts ?? [kvmHost('kvm1'), kvmHost('kvm2')] }) : new VspherePlatform({ ...VSPHERE, ...options.vsphere });
  new Fabric(stack, 'Fabric', { ...spec, platform, lockFile: lockPath() });
  app.synth();
  return { plan: JSON.parse(readFileSync(path.join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8')) };
}


const withAppliance = (spec: FabricSpec, name: string, change: Partial<ApplianceSpec>): FabricSpec => ({
  ...spec,
  appliances: spec.appliances!.map((a) => (a.name === name ? { ...a, ...change } : a)),
});
const withImages = (spec: FabricSpec, images: Record<string, ApplianceImageSpec>): FabricSpec => ({
  ...spec,
  appliances: spec.appliances!.map((a) => (images[a.name] ? { ...a, image: images[a.name] } : a)),
});
const fourNodes = (): FabricSpec => threeNodeSpec({ appliances: [...threeNodeSpec().appliances!, { name: 'node4', managementAddress: '198.51.100.14' }] });

/** `<type>.<name>` of every resource of `type` in the plan whose `field` equals `value`. */
const addressesWhere = (plan: Plan, type: string, field: string, value: string) =>
  Object.entries((plan.resource[type] ?? {}) as Record<string, Plan>)
    .filter(([, r]) => r[field] === value)
    .map(([name]) => `${type}.${name}`);

describe.each<PlatformKind>(['kvm', 'vsphere'])('the lock file on %s', (kind) => {
  it('is written on the first synth, with every node identity and image, keys in a stable order', () => {
    expect(existsSync(lockPath())).toBe(false);
    synth(kind, threeNodeSpec({ database: { vip: '198.51.100.20' } }));
    const entry = lock().fabrics['stack/Fabric'];
    expect(lock().lockfileVersion).toBe(1);
    expect(Object.keys(entry.nodes)).toEqual(['node1', 'node2', 'node3']);
    expect(entry.nodes.node1.identity).toEqual({
      instanceId: 'testfab-node1',
      managementAddress: '198.51.100.11',
      managementMac: expect.stringMatching(kind === 'kvm' ? /^52:54:00:/ : /^00:50:56:/),
      managementNetwork: '198.51.100.0/24',
      managementGateway: '198.51.100.1',
      databaseServerId: 1,
    });
    expect(entry.nodes.node3.identity.databaseServerId).toBeUndefined();
    expect(entry.nodes.node1.image).toEqual(kind === 'kvm' ? { ...IMAGE, name: 'testfab-base.qcow2' } : { template: 'debian12-v1' });
    // Sorted keys below the header: the text is the same whatever order the code builds it in.
    expect(Object.keys(entry.nodes.node1.identity)).toEqual([...Object.keys(entry.nodes.node1.identity)].sort());
    expect(lockText().endsWith('}\n')).toBe(true);
  });

  it('is left byte for byte as it was by the same synth again, and not rewritten', () => {
    synth(kind, threeNodeSpec());
    const first = lockText();
    const writtenAt = statSync(lockPath()).mtimeMs;
    synth(kind, threeNodeSpec());
    expect(lockText()).toBe(first);
    expect(statSync(lockPath()).mtimeMs).toBe(writtenAt);
  });

  it('takes added and removed nodes', () => {
    synth(kind, threeNodeSpec());
    synth(kind, fourNodes());
    expect(Object.keys(lock().fabrics['stack/Fabric'].nodes)).toEqual(['node1', 'node2', 'node3', 'node4']);
    synth(kind, threeNodeSpec());
    expect(Object.keys(lock().fabrics['stack/Fabric'].nodes)).toEqual(['node1', 'node2', 'node3']);
  });

  it("refuses a node's identity change with the node, each field old → new and the exact -replace addresses, and leaves the lock as it was", () => {
    synth(kind, threeNodeSpec());
    const before = lockText();
    const changed = withAppliance(threeNodeSpec(), 'node3', { managementAddress: '198.51.100.23' });
    const err = refusal(() => synth(kind, changed));
    expect(lockText()).toBe(before);
    expect(err.problems).toHaveLength(1);
    const [problem] = err.problems;
    expect(problem.path).toBe('stack/Fabric/node3');
    expect(problem.message).toContain("appliance 'node3' would change its identity");
    expect(problem.message).toContain("managementAddress '198.51.100.13' → '198.51.100.23'");
    expect(problem.message).toContain(DEFAULT_LOCK_FILE);
    expect(problem.message).not.toContain('managementMac');

    // The addresses are those of node3's VM resources in the plan the same config synthesizes.
    const { plan } = synth(kind, { ...changed, replaceAppliances: ['node3'] });
    const expected =
      kind === 'kvm'
        ? [
            ...addressesWhere(plan, 'libvirt_volume', 'name', 'testfab-node3.qcow2'),
            ...addressesWhere(plan, 'libvirt_cloudinit_disk', 'name', 'testfab-node3-cloudinit.iso'),
            ...addressesWhere(plan, 'libvirt_domain', 'name', 'testfab-node3'),
          ]
        : addressesWhere(plan, 'vsphere_virtual_machine', 'name', 'testfab-node3');
    expect(expected).toHaveLength(kind === 'kvm' ? 3 : 1);
    expect(problem.fix).toContain(`terraform apply ${expected.map((a) => `-replace=${a}`).join(' ')}`);
    expect(problem.fix).toMatch(/^either revert that value, or replace node3 on purpose: add 'node3' to replaceAppliances/);
    expect(err.message).toContain('stack/Fabric/node3: ');
  });

  it('accepts the new identity of exactly the nodes in replaceAppliances', () => {
    synth(kind, threeNodeSpec());
    const changed = withAppliance(withAppliance(threeNodeSpec(), 'node3', { managementAddress: '198.51.100.23' }), 'node2', { managementAddress: '198.51.100.22' });
    const err = refusal(() => synth(kind, { ...changed, replaceAppliances: ['node3'] }));
    expect(err.problems.map((p) => p.path)).toEqual(['stack/Fabric/node2']);
    synth(kind, { ...changed, replaceAppliances: ['node2', 'node3'] });
    expect(lock().fabrics['stack/Fabric'].nodes.node3.identity.managementAddress).toBe('198.51.100.23');
    // Recorded: the same config synthesizes without the list now.
    synth(kind, changed);
  });

  it('refuses a management network change on every node it would change', () => {
    synth(kind, threeNodeSpec());
    const err = refusal(() => synth(kind, threeNodeSpec({ managementNetwork: { ...threeNodeSpec().managementNetwork, gateway: '198.51.100.254' } })));
    expect(err.problems.map((p) => p.path)).toEqual(['stack/Fabric/node1', 'stack/Fabric/node2', 'stack/Fabric/node3']);
    expect(err.problems[0].message).toContain("managementGateway '198.51.100.1' → '198.51.100.254'");
  });

  it('keeps the database server ids when another appliance leaves (they follow the cluster, not the fabric order), and refuses swapping the primary and the standby', () => {
    const spec = threeNodeSpec({ database: { vip: '198.51.100.20', members: ['node2', 'node3'] } });
    synth(kind, spec);
    // node1 goes: node2 and node3 move one place earlier in the fabric, their server ids stay.
    const shrunk = { ...spec, appliances: spec.appliances!.slice(1), loadBalancer: { members: ['node2', 'node3'] } };
    synth(kind, shrunk);
    expect(lock().fabrics['stack/Fabric'].nodes.node2.identity.databaseServerId).toBe(1);
    expect(lock().fabrics['stack/Fabric'].nodes.node3.identity.databaseServerId).toBe(2);
    const err = refusal(() => synth(kind, { ...shrunk, database: { vip: '198.51.100.20', members: ['node3', 'node2'] } }));
    expect(err.problems.map((p) => p.message)).toEqual([expect.stringContaining('databaseServerId 1 → 2'), expect.stringContaining('databaseServerId 2 → 1')]);
  });

  it('refuses a new image on both balancers at once, naming the standby to change first, and leaves the lock as it was', () => {
    synth(kind, threeNodeSpec());
    const before = lockText();
    // On KVM the same URL with a new checksum: a new image.
    const upgrade = kind === 'kvm' ? { kvmHosts: [kvmHost('kvm1', IMAGE_NEXT), kvmHost('kvm2', IMAGE_NEXT)] } : { vsphere: { template: 'debian12-v2' } };
    const err = refusal(() => synth(kind, threeNodeSpec(), upgrade));
    expect(lockText()).toBe(before);
    const pair = err.problems.find((p) => p.path === 'stack/Fabric/load-balancer')!;
    expect(pair.message).toContain('the images of all members of the load-balancer pair change in one synth');
    expect(pair.message).toContain(kind === 'kvm' ? `node1 ${described(IMAGE)} → ${described(IMAGE_NEXT)}` : "node1 template 'debian12-v1' → template 'debian12-v2'");
    expect(pair.fix).toMatch(/^change node2 first, the lower-priority member node2 \(priority 240\) against node1's 250/);
    expect(pair.fix).toContain(
      kind === 'kvm'
        ? `keep node1 on ${described(IMAGE)} (undo the change that reaches it: the platform's template or baseImage, or its own image) and give the new image to node2 alone (appliances[1].image { source: '${IMAGE_URL}', sha256: '${IMAGE_NEXT.sha256}' };`
        : "keep node1 on template 'debian12-v1' (undo the change that reaches it: the platform's template or baseImage, or its own image) and give the new image to node2 alone (appliances[1].image { template: 'debian12-v2' };",
    );
    // node3 is no pair member: its new image alone is no problem.
    expect(err.problems).toHaveLength(1);
  });

  it('takes a new image one balancer at a time, standby first', () => {
    synth(kind, threeNodeSpec());
    const next: ApplianceImageSpec = kind === 'kvm' ? IMAGE_NEXT : { template: 'debian12-v2' };
    synth(kind, withImages(threeNodeSpec(), { node2: next }));
    expect(lock().fabrics['stack/Fabric'].nodes.node2.image).toEqual(kind === 'kvm' ? { ...IMAGE_NEXT, name: expect.stringMatching(/^testfab-base-[0-9a-f]{8}\.qcow2$/) } : { template: 'debian12-v2' });
    synth(kind, withImages(threeNodeSpec(), { node1: next, node2: next, node3: next }));
    expect(new Set(Object.values(lock().fabrics['stack/Fabric'].nodes).map((n) => JSON.stringify(n.image))).size).toBe(1);
  });

  it('follows the steps that the refusal proposes', () => {
    synth(kind, threeNodeSpec());
    const upgrade = kind === 'kvm' ? { kvmHosts: [kvmHost('kvm1', IMAGE_NEXT), kvmHost('kvm2', IMAGE_NEXT)] } : { vsphere: { template: 'debian12-v2' } };
    const fix = refusal(() => synth(kind, threeNodeSpec(), upgrade)).problems[0].fix;
    // The platform-wide change undone; node2's image as the fix writes it.
    const node2 = /appliances\[1\]\.image (\{ [^}]+ \})/.exec(fix)![1].replace(/(\w+): /g, '"$1": ').replace(/'/g, '"');
    const image = JSON.parse(node2) as ApplianceImageSpec;
    synth(kind, withImages(threeNodeSpec(), { node2: image }));
    synth(kind, withImages(threeNodeSpec(), { node1: image, node2: image }));
    const nodes = lock().fabrics['stack/Fabric'].nodes;
    expect(nodes.node1.image).toEqual(nodes.node2.image);
    expect(nodes.node1.image).not.toEqual(nodes.node3.image);
  });
});

describe.each<PlatformKind>(['kvm', 'vsphere'])('the pairs on %s', (kind) => {
  const next = (): ApplianceImageSpec => (kind === 'kvm' ? IMAGE_NEXT : { template: 'debian12-v2' });
  const fiveNodes = (extra: Partial<FabricSpec>): FabricSpec =>
    threeNodeSpec({ appliances: [1, 2, 3, 4, 5].map((i) => ({ name: `node${i}`, managementAddress: `198.51.100.${10 + i}` })), ...extra });

  it.each<[string, Partial<FabricSpec>, string, string]>([
    ['database', { database: { vip: '198.51.100.20', members: ['node4', 'node5'] } }, 'node4', 'node5'],
    ['monitoring', { monitoring: { members: ['node4', 'node5'], vip: '198.51.100.30' } }, 'node4', 'node5'],
  ])('refuses a new image on both members of the %s pair, the second member first', (cluster, extra, first, second) => {
    synth(kind, fiveNodes(extra));
    const err = refusal(() => synth(kind, withImages(fiveNodes(extra), { [first]: next(), [second]: next() })));
    expect(err.problems.map((p) => p.path)).toEqual([`stack/Fabric/${cluster}`]);
    expect(err.problems[0].fix).toMatch(new RegExp(`^change ${second} first, the lower-priority member ${second} \\(priority 240\\) against ${first}'s 250`));
    synth(kind, withImages(fiveNodes(extra), { [second]: next() }));
    synth(kind, withImages(fiveNodes(extra), { [first]: next(), [second]: next() }));
  });

  it('names a pair once when the balancers are the database pair too', () => {
    const spec = threeNodeSpec({ database: { vip: '198.51.100.20' } });
    synth(kind, spec);
    const err = refusal(() => synth(kind, withImages(spec, { node1: next(), node2: next() })));
    expect(err.problems.map((p) => p.path)).toEqual(['stack/Fabric/load-balancer']);
    expect(err.problems[0].message).toContain('the images of all members of the load-balancer and database pair change in one synth');
  });

  it('lets a new member and an old one change in one synth', () => {
    synth(kind, threeNodeSpec());
    // node4 joins the balancers with the new image while node2 also moves to it: node4 has no recorded image.
    const spec = { ...fourNodes(), loadBalancer: { members: ['node2', 'node4'] } };
    synth(kind, withImages(spec, { node2: next(), node4: next() }));
  });
});

describe('a checked image in the lock (KVM)', () => {
  const both = (image: ImageFromSource) => ({ kvmHosts: [kvmHost('kvm1', image), kvmHost('kvm2', image)] });

  it('records the checksum in lower case: the same checksum in upper case changes nothing', () => {
    synth('kvm', threeNodeSpec());
    const before = lockText();
    synth('kvm', threeNodeSpec(), both({ ...IMAGE, sha256: IMAGE.sha256.toUpperCase() }));
    expect(lockText()).toBe(before);
  });

  it('takes a checksum added to a path already deployed as a new image (its volume then reads the checked copy)', () => {
    const image = { source: '/var/lib/images/debian-12.qcow2' };
    synth('kvm', threeNodeSpec(), both(image));
    const checked = { ...image, sha256: 'c3'.repeat(32) };
    const err = refusal(() => synth('kvm', threeNodeSpec(), both(checked)));
    expect(err.problems[0].message).toContain(`node1 name 'testfab-base.qcow2', source '${image.source}' → ${described(checked)}`);
  });
});

describe('the lock file and the rest of the app', () => {
  it('is not read or written by constructing a fabric, nor by Testing.synth', () => {
    const stack = new TerraformStack(new App({ outdir: path.join(dir, 'out') }), 'stack');
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform: new LibvirtPlatform({ hosts: [kvmHost('kvm1')] }), lockFile: lockPath() });
    Testing.synth(stack);
    expect(existsSync(lockPath())).toBe(false);
  });

  it('defaults to appliance-fabric.lock.json in the working directory', () => {
    const stack = new TerraformStack(new App({ outdir: path.join(dir, 'out') }), 'stack');
    const fabric = new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform: new LibvirtPlatform({ hosts: [kvmHost('kvm1')] }) });
    expect(fabric.lockFile).toBe(path.join(process.cwd(), 'appliance-fabric.lock.json'));
  });

  it('keeps the entries of other fabrics, and writes nothing when a fabric in another stack is refused', () => {
    const build = (second: FabricSpec) => {
      const app = new App({ outdir: mkdtempSync(path.join(dir, 'out-')) });
      for (const [id, spec] of [['one', threeNodeSpec()], ['two', second]] as const) {
        new Fabric(new TerraformStack(app, id), 'Fabric', { ...spec, platform: new LibvirtPlatform({ hosts: [kvmHost('kvm1'), kvmHost('kvm2')] }), lockFile: lockPath() });
      }
      app.synth();
    };
    build(threeNodeSpec());
    expect(Object.keys(lock().fabrics)).toEqual(['one/Fabric', 'two/Fabric']);
    const before = lockText();
    // Stack 'one' gains a node (fine alone), stack 'two' changes an identity: neither is recorded.
    const err = refusal(() => {
      const app = new App({ outdir: mkdtempSync(path.join(dir, 'out-')) });
      new Fabric(new TerraformStack(app, 'one'), 'Fabric', { ...fourNodes(), platform: new LibvirtPlatform({ hosts: [kvmHost('kvm1'), kvmHost('kvm2')] }), lockFile: lockPath() });
      new Fabric(new TerraformStack(app, 'two'), 'Fabric', { ...withAppliance(threeNodeSpec(), 'node1', { managementAddress: '198.51.100.31' }), platform: new LibvirtPlatform({ hosts: [kvmHost('kvm1'), kvmHost('kvm2')] }), lockFile: lockPath() });
      app.synth();
    });
    expect(err.problems.map((p) => p.path)).toEqual(['two/Fabric/node1']);
    expect(lockText()).toBe(before);
  });

  it('refuses a lock of another format, and one that is not JSON, naming the file', () => {
    writeFileSync(lockPath(), JSON.stringify({ lockfileVersion: 2, fabrics: {} }));
    expect(refusal(() => synth('kvm', threeNodeSpec())).message).toContain(`${lockPath()}: the lock file its lockfileVersion is 2, this appliance-fabric reads 1`);
    writeFileSync(lockPath(), '<<<<<<< HEAD\n');
    expect(refusal(() => synth('kvm', threeNodeSpec())).message).toMatch(/the lock file it is not JSON/);
  });

  it('rejects replaceAppliances naming no appliance of the fabric', () => {
    expect(() => synth('kvm', { ...threeNodeSpec(), replaceAppliances: ['node9'] })).toThrow(/stack\/Fabric\/replaceAppliances\[0\]: 'node9' in the list of appliances to replace is not an appliance of this fabric/);
  });
});

describe('the example stacks', () => {
  it('ship the lock file that npm run synth writes for them (a synth from no lock gives the same bytes)', () => {
    const fresh = path.join(dir, 'examples.lock.json');
    synthExamples(fresh);
    // If this fails after a change of the example configs: npm run synth, then commit appliance-fabric.lock.json.
    expect(readFileSync(fresh, 'utf8')).toBe(readFileSync(EXAMPLE_LOCK_FILE, 'utf8'));
  });

  it('are checked against it: an identity change in an example config is refused', () => {
    const copy = path.join(dir, 'examples.lock.json');
    copyFileSync(EXAMPLE_LOCK_FILE, copy);
    const edited = lockFileWith(copy, (l) => {
      const nodes = l.fabrics['kvm-fabric/Fabric'].nodes as unknown as Record<string, { identity: Record<string, unknown> }>;
      nodes.node3.identity.managementAddress = '198.51.100.99';
    });
    expect(() => synthExamples(edited)).toThrow(/kvm-fabric\/Fabric\/node3: appliance 'node3' would change its identity.*managementAddress '198\.51\.100\.99' → '198\.51\.100\.13'/s);
  });
});

function lockFileWith(file: string, edit: (lock: FabricLock) => void): string {
  const data = JSON.parse(readFileSync(file, 'utf8')) as FabricLock;
  edit(data);
  writeFileSync(file, JSON.stringify(data));
  return file;
}

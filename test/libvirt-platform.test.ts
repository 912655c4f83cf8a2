// The KVM/libvirt platform: the example stack synthesized for real, placement
// of appliances on hosts, host validation. The watchdog XSLT runs through
// xsltproc in test/tools/libvirt-xslt.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, DefaultTokenResolver, StringConcat, TerraformStack, TerraformVariable, Testing, Tokenization } from 'cdktf';
import { parse } from 'yaml';
import { Fabric } from '../constructs/fabric';
import { KvmHostProps } from '../constructs/platforms/libvirt/kvm-host';
import { LibvirtPlatform } from '../constructs/platforms/libvirt/libvirt-platform';
import { placeAppliances, PlacementNode, SeparatedGroup } from '../constructs/platforms/libvirt/placement';
import { WATCHDOG_XSLT } from '../constructs/platforms/libvirt/watchdog-xslt';
import { ProblemCollector, FabricValidationError } from '../model/errors';
import { FabricSpec } from '../model/fabric-spec';
import { KvmFabricConfig, KvmFabricStack } from '../stacks/kvm-fabric-stack';
import { readStackConfig } from '../stacks/stack-config';
import { threeNodeSpec } from './fixtures';
import { testApp } from './synth-helpers';

type Plan = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONFIG = path.resolve(__dirname, '../stacks/config/kvm-fabric.yaml');
const GIB = 1024 ** 3;
/** An image on the machine that runs Terraform, as the example stacks give it: uploaded as it is. */
const IMAGE_PATH = '/var/lib/appliance-fabric/images/debian-12-generic-amd64.qcow2';
/** An image that Terraform downloads (example.net: no real image, so no real checksum is claimed). */
const IMAGE_URL = 'https://images.example.net/appliance/debian-12-generic-amd64.qcow2';
const SHA = 'a1'.repeat(32);
const OTHER_SHA = 'b2'.repeat(32);

function synthKvmExample(): { plan: Plan; stack: KvmFabricStack } {
  const outdir = mkdtempSync(path.join(tmpdir(), 'afkvm-'));
  try {
    const app = new App({ outdir });
    const stack = new KvmFabricStack(app, 'kvm-fabric', readStackConfig<KvmFabricConfig>(CONFIG, 'libvirt'), { lockFile: path.join(outdir, 'appliance-fabric.lock.json') });
    app.synth();
    return { plan: JSON.parse(readFileSync(path.join(outdir, 'stacks', 'kvm-fabric', 'cdk.tf.json'), 'utf8')), stack };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** `${libvirt_volume.X.id}` -> the resource X of that type in the plan. */
function referenced(plan: Plan, ref: string, type: string): Plan {
  const m = new RegExp(`^\\$\\{${type}\\.([A-Za-z0-9_-]+)\\.id\\}$`).exec(ref);
  if (!m) throw new Error(`'${ref}' is not a reference to a ${type}`);
  return plan.resource[type][m[1]];
}

const host = (name: string, extra: Partial<KvmHostProps> = {}): KvmHostProps => ({
  name,
  uri: `qemu+ssh://root@${name}.example.net/system`,
  baseImage: { source: IMAGE_PATH },
  network: { bridge: 'br-mgmt' },
  ...extra,
});

const pinned = (...hosts: (string | undefined)[]): FabricSpec =>
  threeNodeSpec({ appliances: hosts.map((h, i) => ({ name: `node${i + 1}`, managementAddress: `198.51.100.${11 + i}`, ...(h ? { host: h } : {}) })) });

/** Builds a fabric on the libvirt platform in a fresh stack; returns the platform's placement. */
function build(spec: FabricSpec, hosts: KvmHostProps[]): Map<string, string> {
  const platform = new LibvirtPlatform({ hosts });
  const fabric = new Fabric(new TerraformStack(testApp(), 'stack'), 'Fabric', { ...spec, platform });
  return platform.placement(fabric.model);
}

function problemsOf(spec: FabricSpec, hosts: KvmHostProps[]): string[] {
  try {
    build(spec, hosts);
  } catch (err) {
    expect(err).toBeInstanceOf(FabricValidationError);
    return (err as FabricValidationError).problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
  }
  throw new Error('expected a FabricValidationError');
}

describe('kvm-fabric example stack', () => {
  const { plan, stack } = synthKvmExample();
  const domains = Object.values(plan.resource.libvirt_domain) as Plan[];
  const domainOf = (node: string) => domains.find((d) => d.name === `spacefab-${node}`)!;

  it('declares one libvirt provider per host, aliased by the host name, pinned to 0.8.3', () => {
    expect(plan.provider.libvirt).toEqual([
      { alias: 'kvm1', uri: 'qemu+ssh://root@kvm1.example.net/system' },
      { alias: 'kvm2', uri: 'qemu+ssh://root@kvm2.example.net/system' },
    ]);
    expect(plan.terraform.required_providers.libvirt).toEqual({ source: 'dmacvicar/libvirt', version: '0.8.3' });
  });

  it('uploads the base image once per host, into the existing pool, from the path the config gives (no sha256: nothing to fetch)', () => {
    const bases = (Object.values(plan.resource.libvirt_volume) as Plan[]).filter((v) => v.source !== undefined);
    expect(bases.map((b) => b.provider).sort()).toEqual(['libvirt.kvm1', 'libvirt.kvm2']);
    for (const base of bases) {
      expect(base).toEqual(expect.objectContaining({ name: 'spacefab-base.qcow2', pool: 'default', format: 'qcow2', source: IMAGE_PATH }));
      expect(base.depends_on).toBeUndefined();
    }
    expect(plan.resource.libvirt_pool).toBeUndefined();
    expect(Object.keys(plan.resource.terraform_data ?? {}).filter((k) => k.includes('verified_images'))).toEqual([]);
  });

  it.each(['node1', 'node2', 'node3'])('gives %s an overlay disk, a cloud-init ISO and a domain on one host', (node) => {
    const domain = domainOf(node);
    expect(domain).toEqual(
      expect.objectContaining({
        vcpu: 4,
        memory: 32768,
        qemu_agent: true,
        autostart: true,
        running: true,
        console: [{ type: 'pty', target_port: '0', target_type: 'serial' }],
        xml: { xslt: WATCHDOG_XSLT },
      }),
    );
    expect(domain.network_interface).toEqual([{ bridge: 'br-mgmt', mac: expect.stringMatching(/^52:54:00(:[0-9a-f]{2}){3}$/), wait_for_lease: false }]);

    const disk = referenced(plan, domain.disk[0].volume_id, 'libvirt_volume');
    expect(disk).toEqual(expect.objectContaining({ name: `spacefab-${node}.qcow2`, pool: 'default', format: 'qcow2', size: 100 * GIB, provider: domain.provider }));
    const base = referenced(plan, disk.base_volume_id, 'libvirt_volume');
    expect(base.provider).toBe(domain.provider);

    const seed = referenced(plan, domain.cloudinit, 'libvirt_cloudinit_disk');
    expect(seed).toEqual(expect.objectContaining({ name: `spacefab-${node}-cloudinit.iso`, pool: 'default', provider: domain.provider }));
    expect(parse(seed.meta_data)).toEqual({ 'instance-id': `spacefab-${node}`, 'local-hostname': node });
  });

  it('keeps the load-balancer pair on different hosts and spreads the rest round robin', () => {
    expect(['node1', 'node2', 'node3'].map((n) => domainOf(n).provider)).toEqual(['libvirt.kvm1', 'libvirt.kvm2', 'libvirt.kvm1']);
  });

  it("gives every NIC the MAC its node's network-config matches", () => {
    for (const domain of domains) {
      const seed = referenced(plan, domain.cloudinit, 'libvirt_cloudinit_disk');
      const networkConfig = parse(seed.network_config);
      expect(networkConfig.ethernets.eth0.match.macaddress).toBe(domain.network_interface[0].mac);
      expect(networkConfig.ethernets.eth0.addresses).toEqual([`198.51.100.${10 + Number(domain.name.slice(-1))}/24`]);
    }
  });

  it('puts the user-data on the cloud-init ISO with secrets as references, never literals', () => {
    const seeds = Object.values(plan.resource.libvirt_cloudinit_disk) as Plan[];
    expect(seeds).toHaveLength(3);
    for (const seed of seeds) {
      const local = /^\$\{local\.([A-Za-z0-9_]+)\}$/.exec(seed.user_data);
      expect(local).not.toBeNull();
      const userData: string = plan.locals[local![1]];
      expect(userData.startsWith('#cloud-config\n')).toBe(true);
      if (/node[12]/.test(seed.name)) {
        // The balancers carry the HAProxy stats password: as a reference to random_password.
        expect(userData).toMatch(/user stats insecure-password \$\{random_password\.[A-Za-z0-9_]+\.result\}/);
      }
    }
    const text = JSON.stringify(plan);
    expect(text).not.toMatch(/PRIVATE KEY|@@appliance-fabric:secret/);
  });

  it("hands each appliance its domain's id", () => {
    for (const appliance of stack.fabric.appliances) {
      const key = Object.keys(plan.resource.libvirt_domain).find((k) => plan.resource.libvirt_domain[k].name === `spacefab-${appliance.name}`);
      expect(Tokenization.resolve(appliance.machineId, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) })).toBe(`\${libvirt_domain.${key}.id}`);
    }
  });
});

describe('libvirt platform resources', () => {
  it('creates a directory pool, a bridged libvirt network and uses an existing base volume when asked', () => {
    const platform = new LibvirtPlatform({
      hosts: [
        host('kvm1', { storagePool: { name: 'fabric', create: { path: '/srv/fabric' } }, baseImage: { volumeName: 'debian12.qcow2', pool: 'images' }, network: { create: { name: 'fabric-mgmt', mode: 'bridge', bridge: 'br0' } } }),
        host('kvm2', { network: { libvirtNetwork: 'mgmt' } }),
      ],
    });
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    const pools = Object.values(plan.resource.libvirt_pool) as Plan[];
    expect(pools).toEqual([expect.objectContaining({ name: 'fabric', type: 'dir', target: { path: '/srv/fabric' }, provider: 'libvirt.kvm1' })]);
    expect(pools[0].path).toBeUndefined();
    const networks = Object.values(plan.resource.libvirt_network) as Plan[];
    expect(networks).toEqual([expect.objectContaining({ name: 'fabric-mgmt', mode: 'bridge', bridge: 'br0', autostart: true, provider: 'libvirt.kvm1' })]);
    const domains = Object.values(plan.resource.libvirt_domain) as Plan[];
    const node1 = domains.find((d) => d.name === 'testfab-node1')!;
    expect(node1.network_interface[0].network_id).toMatch(/^\$\{libvirt_network\..+\.id\}$/);
    const node2 = domains.find((d) => d.name === 'testfab-node2')!;
    expect(node2.network_interface[0].network_name).toBe('mgmt');
    const disk1 = referenced(plan, node1.disk[0].volume_id, 'libvirt_volume');
    expect(disk1).toEqual(expect.objectContaining({ base_volume_name: 'debian12.qcow2', base_volume_pool: 'images', pool: expect.stringMatching(/^\$\{libvirt_pool\..+\.name\}$/) }));
    expect(disk1.base_volume_id).toBeUndefined();
  });
});

describe('checked base images (sha256)', () => {
  const synthWith = (hosts: KvmHostProps[], spec: FabricSpec = threeNodeSpec(), imageCacheDirectory?: string): Plan => {
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...spec, platform: new LibvirtPlatform({ hosts, ...(imageCacheDirectory ? { imageCacheDirectory } : {}) }) });
    return JSON.parse(Testing.synth(stack));
  };
  const fetches = (plan: Plan): [string, Plan][] => Object.entries((plan.resource.terraform_data ?? {}) as Record<string, Plan>).filter(([k]) => k.includes('_verified_images_'));
  const bases = (plan: Plan): Plan[] => (Object.values(plan.resource.libvirt_volume) as Plan[]).filter((v) => v.source !== undefined);
  const checked = { source: IMAGE_URL, sha256: SHA };

  it('fetches and checks a URL once for every host, and the base volumes read the checked copy after it', () => {
    const plan = synthWith([host('kvm1', { baseImage: checked }), host('kvm2', { baseImage: checked })]);
    const [[id, fetch], ...more] = fetches(plan);
    expect(more).toEqual([]);
    const run = fetch.provisioner[0]['local-exec'];
    expect(run).toEqual({
      interpreter: ['bash'],
      command: expect.stringMatching(/^assets\/[A-Za-z0-9_]+\/[0-9A-F]+\/fetch-verified-image$/),
      // The URL only in the environment, never on the command line.
      environment: { IMAGE_SOURCE: IMAGE_URL, IMAGE_SHA256: SHA, IMAGE_FILE: `.image-cache/${SHA}.qcow2` },
    });
    expect(fetch.triggers_replace).toEqual({ source: IMAGE_URL, sha256: SHA, file: `.image-cache/${SHA}.qcow2` });
    expect(bases(plan)).toHaveLength(2);
    for (const base of bases(plan)) {
      // A literal, known at plan: fetching again never replaces a volume.
      expect(base).toEqual(expect.objectContaining({ name: 'testfab-base.qcow2', source: `.image-cache/${SHA}.qcow2`, depends_on: [`terraform_data.${id}`] }));
    }
  });

  it('matches the snapshot of the fetch and the volumes that wait for it', () => {
    const plan = synthWith([host('kvm1', { baseImage: checked }), host('kvm2', { baseImage: { source: IMAGE_PATH, sha256: OTHER_SHA } })]);
    expect({ terraform_data: Object.fromEntries(fetches(plan)), base_volumes: bases(plan) }).toMatchSnapshot();
  });

  it('checks a path with sha256 the same way, and uploads a path without as it is', () => {
    const plan = synthWith([host('kvm1', { baseImage: { source: IMAGE_PATH, sha256: SHA.toUpperCase() } }), host('kvm2')]);
    expect(fetches(plan).map(([, f]) => f.provisioner[0]['local-exec'].environment)).toEqual([{ IMAGE_SOURCE: IMAGE_PATH, IMAGE_SHA256: SHA, IMAGE_FILE: `.image-cache/${SHA}.qcow2` }]);
    expect(bases(plan).map((b) => [b.provider, b.source])).toEqual([
      ['libvirt.kvm1', `.image-cache/${SHA}.qcow2`],
      ['libvirt.kvm2', IMAGE_PATH],
    ]);
  });

  it('keeps the checked copies in imageCacheDirectory when given', () => {
    const plan = synthWith([host('kvm1', { baseImage: checked })], threeNodeSpec(), '/var/cache/appliance-fabric/');
    expect(bases(plan)[0].source).toBe(`/var/cache/appliance-fabric/${SHA}.qcow2`);
  });

  it('takes a checksum given as a Terraform variable as a reference, checked at apply', () => {
    const stack = new TerraformStack(testApp(), 'stack');
    const sha256 = new TerraformVariable(stack, 'image_sha256', { type: 'string' }).stringValue;
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform: new LibvirtPlatform({ hosts: [host('kvm1', { baseImage: { source: IMAGE_URL, sha256 } })] }) });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    expect(fetches(plan).map(([, f]) => f.provisioner[0]['local-exec'].environment.IMAGE_SHA256)).toEqual(['${var.image_sha256}']);
    expect(bases(plan)[0].source).toBe('.image-cache/${var.image_sha256}.qcow2');
  });

  it.each<[string, Partial<KvmHostProps>, string]>([
    [
      'an https URL without sha256',
      { baseImage: { source: IMAGE_URL } },
      `stack/Fabric/platform/hosts[0].baseImage.sha256: image source '${IMAGE_URL}' is downloaded with no sha256: an image changed or replaced on the server would be uploaded unchecked and booted by every VM. Fix: give sha256: the SHA-256 of the image, e.g. from the distribution's SHA256SUMS file, or \`sha256sum\` of a copy you checked against its published checksums (Debian's SHA512SUMS). Or download and check the image yourself and give its path as source`,
    ],
    [
      'a plain http URL without sha256',
      { baseImage: { source: 'http://mirror.example.net/debian-12.qcow2' } },
      "stack/Fabric/platform/hosts[0].baseImage.sha256: image source 'http://mirror.example.net/debian-12.qcow2' is downloaded over plain http with no sha256: anyone on the way could hand Terraform another image, which every VM would boot. Fix: give sha256: the SHA-256 of the image, e.g. from the distribution's SHA256SUMS file, or `sha256sum` of a copy you checked against its published checksums (Debian's SHA512SUMS); it is then the integrity check (or use https as well). Or download and check the image yourself and give its path as source",
    ],
    [
      'a sha256 that is not one',
      { baseImage: { source: IMAGE_URL, sha256: `sha256:${SHA}` } },
      `stack/Fabric/platform/hosts[0].baseImage.sha256: sha256 'sha256:${SHA}' is not a SHA-256 (64 hex digits). Fix: give the 64 hex digits that sha256sum prints for the image, without its file name:`,
    ],
    [
      'a scheme the fetch does not read',
      { baseImage: { source: 'ftp://mirror.example.net/debian-12.qcow2', sha256: SHA } },
      "stack/Fabric/platform/hosts[0].baseImage.source: image source 'ftp://mirror.example.net/debian-12.qcow2' is a ftp:// URL, but only http(s) URLs and paths are read. Fix: give an https URL and its sha256, or the path of the image on the machine that runs Terraform (without file://)",
    ],
    ['a sha256 on an existing volume', { baseImage: { volumeName: 'debian12.qcow2', sha256: SHA } as never }, 'stack/Fabric/platform/hosts[0].baseImage.sha256: sha256 applies only to an uploaded source. Fix: remove sha256'],
  ])('refuses %s, naming the prop, the value and the fix', (_what, extra, expected) => {
    expect(problemsOf(threeNodeSpec(), [host('kvm1', extra)])).toEqual([expect.stringContaining(expected)]);
  });

  it('accepts plain http with a sha256: the checksum is the integrity check', () => {
    const plan = synthWith([host('kvm1', { baseImage: { source: 'http://mirror.example.net/debian-12.qcow2', sha256: SHA } })]);
    expect(fetches(plan)).toHaveLength(1);
  });

  it("checks an appliance's own image the same way", () => {
    const spec = threeNodeSpec();
    const withImage = { ...spec, appliances: spec.appliances!.map((a, i) => (i === 2 ? { ...a, image: { source: IMAGE_URL } } : a)) };
    expect(problemsOf(withImage, [host('kvm1')])).toEqual([expect.stringMatching(/^stack\/Fabric\/appliances\[2\]\.image\.sha256: image source '.+' is downloaded with no sha256/)]);
  });

  it('refuses a source given as a Terraform reference without sha256 (synth cannot tell a URL), and an empty imageCacheDirectory', () => {
    const stack = new TerraformStack(testApp(), 'stack');
    const source = new TerraformVariable(stack, 'image', { type: 'string' }).stringValue;
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform: new LibvirtPlatform({ hosts: [host('kvm1', { baseImage: { source } })], imageCacheDirectory: '' }) });
    expect(() => Testing.synth(stack)).toThrow(/platform\/hosts\[0\]\.baseImage\.sha256: the image source is a Terraform reference[\s\S]*platform\/imageCacheDirectory: the image cache directory is empty/);
  });
});

describe('libvirt props reach Terraform as literals', () => {
  it('escapes an interpolation in a prop, so Terraform reads the text instead of evaluating it', () => {
    const hostile = '${file("/etc/passwd")}';
    const platform = new LibvirtPlatform({ hosts: [host('kvm1', { baseImage: { volumeName: 'debian12.qcow2', pool: hostile }, network: { libvirtNetwork: `mgmt%{ if true }x%{ endif }` } })] });
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    const domain = (Object.values(plan.resource.libvirt_domain) as Plan[])[0];
    expect(domain.network_interface[0].network_name).toBe('mgmt%%{ if true }x%%{ endif }');
    expect(referenced(plan, domain.disk[0].volume_id, 'libvirt_volume').base_volume_pool).toBe('$${file("/etc/passwd")}');
    // Nowhere in the plan is the hostile text an interpolation.
    expect(JSON.stringify(plan)).not.toMatch(/(^|[^$])\$\{file\(/);
  });

  it("escapes an appliance's own image source too, as the host's", () => {
    const spec = threeNodeSpec();
    const hostile = { ...spec, appliances: spec.appliances!.map((a, i) => (i === 0 ? { ...a, image: { source: '/images/${file("/etc/passwd")}.qcow2' } } : a)) };
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...hostile, platform: new LibvirtPlatform({ hosts: [host('kvm1')] }) });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    expect((Object.values(plan.resource.libvirt_volume) as Plan[]).map((v) => v.source).filter(Boolean).sort()).toEqual(['/images/$${file("/etc/passwd")}.qcow2', IMAGE_PATH]);
  });

  it('keeps a CDKTF token given as a prop a reference', () => {
    const stack = new TerraformStack(testApp(), 'stack');
    const network = new TerraformVariable(stack, 'mgmt_network', { type: 'string' });
    const platform = new LibvirtPlatform({ hosts: [host('kvm1', { network: { libvirtNetwork: network.stringValue } })] });
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    expect((Object.values(plan.resource.libvirt_domain) as Plan[])[0].network_interface[0].network_name).toBe('${var.mgmt_network}');
  });
});

describe('placement', () => {
  it('places appliances where their host says and keeps the pair apart', () => {
    expect([...build(pinned('kvm2', undefined, 'kvm2'), [host('kvm1'), host('kvm2')])].sort()).toEqual([
      ['node1', 'kvm2'],
      ['node2', 'kvm1'],
      ['node3', 'kvm2'],
    ]);
  });

  it('rejects the load-balancer pair pinned on one host while another exists, naming path, appliances, host and fix', () => {
    const problems = problemsOf(pinned('kvm1', 'kvm1'), [host('kvm1'), host('kvm2')]);
    expect(problems).toEqual([
      "stack/Fabric/appliances[1].host: appliances 'node1' and 'node2' of the load-balancer cluster are both placed on host 'kvm1' although host 'kvm2' exists: losing 'kvm1' would take the whole cluster down. Fix: place 'node2' on 'kvm2', or leave its host out so the platform keeps the load-balancer cluster apart",
    ]);
  });

  it('places the other member of a pair away from a pinned one', () => {
    const placement = build(pinned(undefined, 'kvm1', undefined), [host('kvm1'), host('kvm2')]);
    expect(['node1', 'node2', 'node3'].map((n) => placement.get(n))).toEqual(['kvm2', 'kvm1', 'kvm1']);
  });

  it('rejects an unknown host', () => {
    const problems = problemsOf(pinned(undefined, undefined, 'kvm9'), [host('kvm1'), host('kvm2')]);
    expect(problems).toEqual([
      "stack/Fabric/appliances[2].host: appliance 'node3' names host 'kvm9', which is not one of the platform's hosts. Fix: use one of: kvm1, kvm2 (the names under hosts), or leave host out",
    ]);
  });

  it('allows a single host, pair included', () => {
    expect([...build(pinned('kvm1', 'kvm1', undefined), [host('kvm1')]).values()]).toEqual(['kvm1', 'kvm1', 'kvm1']);
  });

  describe('placeAppliances (pure)', () => {
    const nodes = (n: number, hosts: Record<number, string> = {}): PlacementNode[] => Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, index: i, host: hosts[i] }));
    const pair: SeparatedGroup = { cluster: 'load-balancer cluster', members: ['n1', 'n2'] };
    const place = (ns: PlacementNode[], hosts: string[], groups: SeparatedGroup[] = [pair]) => {
      const problems = new ProblemCollector('f');
      const placement = placeAppliances(ns, hosts, groups, problems);
      expect(problems.count).toBe(0);
      return ns.map((n) => placement.get(n.name));
    };

    it('assigns round robin in node order', () => {
      expect(place(nodes(5), ['a', 'b', 'c'])).toEqual(['a', 'b', 'c', 'a', 'b']);
    });

    it('moves no existing appliance when one is appended', () => {
      const before = place(nodes(4), ['a', 'b']);
      expect(place(nodes(5), ['a', 'b']).slice(0, 4)).toEqual(before);
    });

    it('works around a pinned pair member', () => {
      // n3 belongs to no group: it goes to the first of the equally loaded hosts.
      expect(place(nodes(3, { 1: 'a' }), ['a', 'b'])).toEqual(['b', 'a', 'a']);
    });

    it('keeps every pair apart, a second pair (the database pair later) included', () => {
      const db: SeparatedGroup = { cluster: 'database cluster', members: ['n3', 'n4'] };
      const placement = place(nodes(4, { 0: 'a', 2: 'a' }), ['a', 'b'], [pair, db]);
      expect(placement).toEqual(['a', 'b', 'a', 'b']);
    });

    it('spreads a larger group evenly', () => {
      const trio: SeparatedGroup = { cluster: 'cassandra cluster', members: ['n1', 'n2', 'n3'] };
      const problems = new ProblemCollector('f');
      const placement = placeAppliances(nodes(3, { 0: 'a', 1: 'a' }), ['a', 'b', 'c'], [trio], problems);
      expect(placement.get('n3')).toBe('b');
      // Only 'c' still has room for a member of the group.
      expect(() => problems.throwIfAny()).toThrow(
        /f\/appliances\[1\]\.host: appliances 'n1' and 'n2' of the cassandra cluster are both placed on host 'a' although host 'c' exists: with 3 hosts at most 1 of its 3 members may share one\. Fix: place 'n2' on 'c', or leave its host out/,
      );
    });
  });
});

describe('libvirt host validation', () => {
  it.each<[string, KvmHostProps[], RegExp]>([
    ['no hosts', [], /stack\/Fabric\/platform\/hosts: the libvirt platform has no hosts\. Fix: list at least one KVM host/],
    ['a duplicate host name', [host('kvm1'), host('kvm1', { uri: 'qemu:///system' })], /platform\/hosts\[1\]\.name: host name 'kvm1' is used twice \(also hosts\[0\]\)\. Fix: give every host its own name/],
    ['a host name that is not a DNS label', [host('KVM_1')], /platform\/hosts\[0\]\.name: host name 'KVM_1' is not a DNS label/],
    ['an empty URI', [host('kvm1', { uri: '' })], /platform\/hosts\[0\]\.uri: libvirt URI of host 'kvm1' is missing\. Fix: give the connection URI, e\.g\. 'qemu:\/\/\/system'/],
    ['a URI that is not one', [host('kvm1', { uri: 'kvm1.example.net' })], /platform\/hosts\[0\]\.uri: 'kvm1\.example\.net' is not a libvirt connection URI/],
    ['one machine listed twice', [host('kvm1', { uri: 'qemu:///system' }), host('kvm2', { uri: 'qemu:///system' })], /platform\/hosts\[1\]\.uri: host 'kvm2' has the same URI 'qemu:\/\/\/system' as hosts\[0\]/],
    ['an empty pool name', [host('kvm1', { storagePool: { name: '' } })], /platform\/hosts\[0\]\.storagePool\.name: the storage pool has no name/],
    ['a relative pool path', [host('kvm1', { storagePool: { name: 'p', create: { path: 'pools/p' } } })], /platform\/hosts\[0\]\.storagePool\.create\.path: directory 'pools\/p' for the new pool is not an absolute path/],
    ['an empty image source', [host('kvm1', { baseImage: { source: '' } })], /platform\/hosts\[0\]\.baseImage\.source: the base image source is empty/],
    ['both image kinds', [host('kvm1', { baseImage: { source: 'a.qcow2', volumeName: 'b' } as never })], /platform\/hosts\[0\]\.baseImage: the base image has both source and volumeName\. Fix: give exactly one/],
    ['no image', [host('kvm1', { baseImage: undefined as never })], /platform\/hosts\[0\]\.baseImage: the base image is missing/],
    ['two networks', [host('kvm1', { network: { bridge: 'br0', libvirtNetwork: 'default' } as never })], /platform\/hosts\[0\]\.network: the network attachment gives bridge and libvirtNetwork/],
    ['a bridged network without a bridge', [host('kvm1', { network: { create: { name: 'n', mode: 'bridge' } } })], /platform\/hosts\[0\]\.network\.create\.bridge: a network in mode 'bridge' names no host bridge/],
    ['a routed network on two hosts', [host('kvm1', { network: { create: { name: 'n', mode: 'route' } } }), host('kvm2')], /platform\/hosts\[0\]\.network\.create\.mode: a routed libvirt network is a separate segment on each of the 2 hosts/],
  ])('rejects %s with the path, value and fix', (_what, hosts, expected) => {
    expect(problemsOf(threeNodeSpec(), hosts).join('\n')).toMatch(expected);
  });

  // Misspelt keys are caught by the types in TypeScript and by the schema in YAML (test/config-schema.test.ts).
  it('rejects a platform whose hosts are missing', () => {
    const platform = new LibvirtPlatform({ host: [host('kvm1')] } as never);
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform });
    // The fabric is validated as a whole when it renders: at synth.
    expect(() => Testing.synth(stack)).toThrow(/stack\/Fabric\/platform\/hosts: the libvirt platform has no hosts/);
  });

  it('accepts a routed network on a single host when the gateway is its first address', () => {
    const platform = new LibvirtPlatform({ hosts: [host('kvm1', { network: { create: { name: 'fabric', mode: 'route' } } })] });
    const stack = new TerraformStack(testApp(), 'stack');
    new Fabric(stack, 'Fabric', { ...threeNodeSpec(), platform });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    // Static addresses from cloud-init: the network serves the management subnet without DHCP.
    expect(Object.values(plan.resource.libvirt_network)).toEqual([
      expect.objectContaining({ name: 'fabric', mode: 'route', addresses: ['198.51.100.0/24'], dhcp: { enabled: false }, autostart: true, provider: 'libvirt.kvm1' }),
    ]);
  });

  it('rejects a routed network whose first address is not the gateway', () => {
    const spec = threeNodeSpec({ managementNetwork: { cidr: '198.51.100.0/24', gateway: '198.51.100.254' } });
    expect(problemsOf(spec, [host('kvm1', { network: { create: { name: 'fabric', mode: 'route' } } })]).join('\n')).toMatch(
      /a routed libvirt network gives the host the first address 198\.51\.100\.1, but the fabric's gateway is 198\.51\.100\.254\. Fix: set managementNetwork\.gateway to 198\.51\.100\.1/,
    );
  });
});

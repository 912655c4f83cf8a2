import { TerraformStack, Testing } from 'cdktf';
import { Fabric } from '../constructs/fabric';
import { LibvirtPlatform } from '../constructs/platforms/libvirt/libvirt-platform';
import { KvmHostProps } from '../constructs/platforms/libvirt/kvm-host';
import { VspherePlatform } from '../constructs/platforms/vsphere/vsphere-platform';
import { buildFabricModel } from '../model/build-model';
import { FabricValidationError } from '../model/errors';
import { ApplianceImageSpec, FabricSpec } from '../model/fabric-spec';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';
import { Plan, testApp } from './synth-helpers';

// Paths on the machine that runs Terraform: uploaded as they are (checked images: see below and test/libvirt-platform.test.ts).
const DEBIAN_12 = '/var/lib/images/debian-12-genericcloud-amd64-v1.qcow2';
const DEBIAN_12_NEXT = '/var/lib/images/debian-12-genericcloud-amd64-v2.qcow2';
const kvmHost = (name: string): KvmHostProps => ({ name, uri: `qemu+ssh://root@${name}.example.net/system`, baseImage: { source: DEBIAN_12 }, network: { bridge: 'br-mgmt' } });
const vsphere = () => new VspherePlatform({ datacenter: 'dc1', computeCluster: 'c1', datastore: 'ds1', network: 'mgmt', template: 'debian12-v1' });
const kvm = (hosts = [kvmHost('kvm1'), kvmHost('kvm2')]) => new LibvirtPlatform({ hosts });

const withImages = (images: Record<string, ApplianceImageSpec>): FabricSpec => {
  const spec = threeNodeSpec();
  return { ...spec, appliances: spec.appliances!.map((a) => (images[a.name] ? { ...a, image: images[a.name] } : a)) };
};

function plan(spec: FabricSpec, platform: VspherePlatform | LibvirtPlatform): Plan {
  const stack = new TerraformStack(testApp(), 'stack');
  new Fabric(stack, 'Fabric', { ...spec, platform });
  return JSON.parse(Testing.synth(stack));
}

function problemsOf(build: () => unknown): string[] {
  try {
    build();
  } catch (err) {
    expect(err).toBeInstanceOf(FabricValidationError);
    return (err as FabricValidationError).problems.map((p) => `${p.path}: ${p.message}. Fix: ${p.fix}`);
  }
  throw new Error('expected a FabricValidationError');
}

/** `${type.X.attr}` -> the resource X of that type. */
const referenced = (p: Plan, ref: string, type: string): Plan => p[type.startsWith('data.') ? 'data' : 'resource'][type.replace(/^data\./, '')][new RegExp(`^\\$\\{${type.replace('.', '\\.')}\\.([A-Za-z0-9_-]+)\\.`).exec(ref)![1]];

describe('an appliance image on vSphere', () => {
  it('clones that appliance from its own template, with one data source per template in use', () => {
    const p = plan(withImages({ node2: { template: 'debian12-v2' }, node3: { template: 'debian12-v2' } }), vsphere());
    const templates = Object.values(p.data.vsphere_virtual_machine) as Plan[];
    expect(templates.map((t) => t.name).sort()).toEqual(['debian12-v1', 'debian12-v2']);
    const vmOf = (node: string) => (Object.values(p.resource.vsphere_virtual_machine) as Plan[]).find((v) => v.name === `testfab-${node}`)!;
    expect(referenced(p, vmOf('node1').clone.template_uuid, 'data.vsphere_virtual_machine').name).toBe('debian12-v1');
    for (const node of ['node2', 'node3']) {
      const vm = vmOf(node);
      const template = referenced(p, vm.clone.template_uuid, 'data.vsphere_virtual_machine');
      expect(template.name).toBe('debian12-v2');
      // Guest type, firmware and NIC type come from the template the VM is cloned from.
      expect(referenced(p, vm.guest_id, 'data.vsphere_virtual_machine')).toBe(template);
      expect(referenced(p, vm.firmware, 'data.vsphere_virtual_machine')).toBe(template);
    }
  });

  it("keeps an appliance's own template a literal for Terraform (no interpolation)", () => {
    const p = plan(withImages({ node2: { template: 'tpl-${file("/etc/passwd")}' } }), vsphere());
    const templates = (Object.values(p.data.vsphere_virtual_machine) as Plan[]).map((t) => t.name).sort();
    expect(templates).toEqual(['debian12-v1', 'tpl-$${file("/etc/passwd")}']);
  });

  it('rejects a KVM image', () => {
    expect(problemsOf(() => plan(withImages({ node2: { source: DEBIAN_12 } }), vsphere()))).toEqual([
      "stack/Fabric/appliances[1].image: appliance 'node2' names a KVM image (source), but vSphere clones a template. Fix: give { template: 'name of the template VM' }, or leave image out to use vsphere.template",
    ]);
  });
});

describe('an appliance image on KVM', () => {
  const volumes = (p: Plan) => Object.values(p.resource.libvirt_volume) as Plan[];
  const diskOf = (p: Plan, node: string) => volumes(p).find((v) => v.name === `testfab-${node}.qcow2`)!;
  const baseOf = (p: Plan, node: string) => referenced(p, diskOf(p, node).base_volume_id, 'libvirt_volume');

  it('uploads each distinct image once per host that uses it, named by its source', () => {
    // node1 and node3 are on kvm1, node2 on kvm2.
    const p = plan(withImages({ node1: { source: DEBIAN_12_NEXT }, node3: { source: DEBIAN_12_NEXT } }), kvm());
    const bases = volumes(p).filter((v) => v.source !== undefined);
    expect(bases.map((b) => `${b.provider} ${b.name}`).sort()).toEqual([
      expect.stringMatching(/^libvirt\.kvm1 testfab-base-[0-9a-f]{8}\.qcow2$/),
      'libvirt.kvm1 testfab-base.qcow2',
      'libvirt.kvm2 testfab-base.qcow2',
    ]);
    expect(bases).toHaveLength(3);
    expect(baseOf(p, 'node1')).toBe(baseOf(p, 'node3'));
    expect(baseOf(p, 'node1')).toEqual(expect.objectContaining({ source: DEBIAN_12_NEXT, name: expect.stringMatching(/^testfab-base-[0-9a-f]{8}\.qcow2$/), provider: 'libvirt.kvm1' }));
    expect(baseOf(p, 'node2')).toEqual(expect.objectContaining({ source: DEBIAN_12, name: 'testfab-base.qcow2', provider: 'libvirt.kvm2' }));
  });

  it("takes the host's own source as the host's volume, and an existing volume by name", () => {
    const p = plan(withImages({ node1: { source: DEBIAN_12 }, node3: { volumeName: 'debian12-hardened.qcow2', pool: 'images' } }), kvm());
    expect(volumes(p).filter((v) => v.source !== undefined)).toHaveLength(2);
    expect(baseOf(p, 'node1').name).toBe('testfab-base.qcow2');
    expect(diskOf(p, 'node3')).toEqual(expect.objectContaining({ base_volume_name: 'debian12-hardened.qcow2', base_volume_pool: 'images' }));
    expect(diskOf(p, 'node3').base_volume_id).toBeUndefined();
  });

  it("shares the host's volume only for the host's own source and checksum, and names a checked image of its own by both", () => {
    const url = 'https://images.example.net/appliance/debian-12-latest.qcow2';
    const hosts = [kvmHost('kvm1'), kvmHost('kvm2')].map((h) => ({ ...h, baseImage: { source: url, sha256: 'a1'.repeat(32) } }));
    // node1 (kvm1): the host's image, its checksum in upper case; node3 (kvm1): the same URL with another checksum.
    const p = plan(withImages({ node1: { source: url, sha256: 'A1'.repeat(32) }, node3: { source: url, sha256: 'b2'.repeat(32) } }), kvm(hosts));
    expect(baseOf(p, 'node1').name).toBe('testfab-base.qcow2');
    expect(baseOf(p, 'node3')).toEqual(expect.objectContaining({ name: expect.stringMatching(/^testfab-base-[0-9a-f]{8}\.qcow2$/), source: `.image-cache/${'b2'.repeat(32)}.qcow2` }));
    const fetched = (Object.values(p.resource.terraform_data) as Plan[]).filter((r) => r.triggers_replace?.sha256).map((r) => r.triggers_replace.sha256);
    expect(fetched.sort()).toEqual(['a1'.repeat(32), 'b2'.repeat(32)]);
  });

  it('rejects a vSphere template, a pool on an upload, and two images under one volume name on a host', () => {
    expect(problemsOf(() => plan(withImages({ node2: { template: 'debian12-v2' } }), kvm()))).toEqual([
      "stack/Fabric/appliances[1].image: appliance 'node2' names the vSphere template 'debian12-v2', but KVM appliances are overlays of a base image. Fix: give { source: 'URL or path of a qcow2 image' } or { volumeName: 'an existing volume' }, or leave image out to use the host's baseImage",
    ]);
    expect(problemsOf(() => plan(withImages({ node2: { source: DEBIAN_12_NEXT, pool: 'x' } as ApplianceImageSpec }), kvm()))).toEqual([
      "stack/Fabric/appliances[1].image.pool: pool applies only to an existing volumeName. Fix: remove pool: an uploaded image goes into the host's storagePool",
    ]);
    expect(problemsOf(() => plan(withImages({ node3: { source: DEBIAN_12_NEXT, name: 'testfab-base.qcow2' } }), kvm()))).toEqual([
      `stack/Fabric/appliances[2].image: appliance 'node3' uploads '${DEBIAN_12_NEXT}' as volume 'testfab-base.qcow2' on host 'kvm1', the name host 'kvm1' (its baseImage) already gives another image. Fix: give this image (or the other) a name of its own, or leave name out`,
    ]);
  });
});

describe('an appliance image in the model', () => {
  it.each<[string, unknown, string]>([
    ['none of the kinds', {}, "stack/Fabric/appliances[0].image: the image names none of template, source or volumeName. Fix: give exactly one: template (vSphere), source or volumeName (KVM)"],
    ['two kinds', { template: 'a', source: 'b' }, 'stack/Fabric/appliances[0].image: the image gives template and source. Fix: give exactly one: template (vSphere), source or volumeName (KVM)'],
    ['an empty template', { template: ' ' }, "stack/Fabric/appliances[0].image.template: the image's template is empty. Fix: give the template VM's name"],
  ])('rejects %s', (_, image, expected) => {
    expect(problemsOf(() => buildFabricModel(withImages({ node1: image as ApplianceImageSpec }), TEST_PLATFORM, 'stack/Fabric'))).toEqual([expected]);
  });
});

import { parse } from 'yaml';
import { Plan, synthExamples, unescapeTerraform, userDataByNode } from './synth-helpers';

const plans = synthExamples();
const vsphere: Plan = JSON.parse(plans.get('vsphere-fabric')!);

/** The plan with each user-data local replaced by a marker: user-data has its own snapshots. */
function planSkeleton(plan: Plan): Plan {
  const locals = Object.fromEntries(Object.keys(plan.locals ?? {}).map((k) => [k, '<user-data: see the per-node snapshot>']));
  return { ...plan, locals };
}

describe('synthesized plans', () => {
  it('synthesizes every example stack', () => {
    expect([...plans.keys()]).toEqual(['kvm-fabric', 'kvm-fabric-full', 'vsphere-fabric']);
  });

  it.each([...plans.keys()])('%s matches the plan snapshot', (stack) => {
    expect(planSkeleton(JSON.parse(plans.get(stack)!))).toMatchSnapshot();
  });

  it.each([...plans.keys()].flatMap((stack) => [...userDataByNode(JSON.parse(plans.get(stack)!)).keys()].sort().map((node) => [stack, node])))('%s: the user-data of %s matches its snapshot', (stack, node) => {
    const userData = userDataByNode(JSON.parse(plans.get(stack)!)).get(node)!;
    expect(parse(userData).hostname).toBe(node);
    expect(userData).toMatchSnapshot();
  });

  it('is deterministic: synthesizing twice gives identical bytes', () => {
    const again = synthExamples();
    for (const [stack, text] of plans) expect(again.get(stack)).toBe(text);
  });

  it.each([...plans.keys()])('%s carries no secret literal', (stack) => {
    const text = plans.get(stack)!;
    expect(text).not.toMatch(/PRIVATE KEY/);
    // The stats password appears only as a Terraform reference.
    const statsAuth = [...unescapeTerraform(text).matchAll(/user stats insecure-password (\S+?)\\n/g)].map((m) => m[1]);
    expect(statsAuth.length).toBeGreaterThan(0);
    for (const value of statsAuth) expect(value).toMatch(/^\$\{random_password\.[A-Za-z0-9_]+\.result\}$/);
    const plan = JSON.parse(text);
    for (const provider of Object.values(plan.provider ?? {}) as Record<string, unknown>[][]) {
      for (const config of provider) expect(Object.keys(config)).not.toEqual(expect.arrayContaining(['password']));
    }
  });

  it.each([...plans.keys()])('%s pins a relative local backend so the JSON is the same everywhere', (stack) => {
    const plan = JSON.parse(plans.get(stack)!);
    expect(plan.terraform.backend.local.path).toBe(`terraform.${stack}.tfstate`);
  });
});

describe('vsphere-fabric', () => {
  const vms = Object.values(vsphere.resource.vsphere_virtual_machine) as Plan[];

  it('creates one VM per appliance, cloned from the template, sized from the model', () => {
    expect(vms.map((v) => v.name).sort()).toEqual(['spacefab-node1', 'spacefab-node2', 'spacefab-node3']);
    for (const vm of vms) {
      expect(vm.clone.template_uuid).toMatch(/^\$\{data\.vsphere_virtual_machine\..+\.id\}$/);
      expect(vm.num_cpus).toBe(4);
      expect(vm.memory).toBe(32768);
      expect(vm.network_interface[0]).toEqual(expect.objectContaining({ use_static_mac: true, mac_address: expect.stringMatching(/^00:50:56:[0-3]/) }));
    }
  });

  it('hands every VM its cloud-init through guestinfo, base64-encoded', () => {
    for (const vm of vms) {
      expect(vm.extra_config).toEqual({
        'guestinfo.metadata': expect.stringMatching(/^\$\{base64encode\("instance-id: spacefab-node\d\\nlocal-hostname: node\d\\nnetwork:\\n  version: 2/),
        'guestinfo.metadata.encoding': 'base64',
        'guestinfo.userdata': expect.stringMatching(/^\$\{base64encode\(local\.Fabric_node\d_user_data_[0-9A-F]+\)\}$/),
        'guestinfo.userdata.encoding': 'base64',
      });
    }
  });

  it('has cloud-init clear the user-data from guestinfo once it has read it (every secret of the node is in it)', () => {
    for (const vm of vms) {
      const literal = /^\$\{base64encode\("(.*)"\)\}$/s.exec(vm.extra_config['guestinfo.metadata'])![1];
      const metaData = parse(unescapeTerraform(JSON.parse(`"${literal}"`)));
      expect(metaData.redact).toEqual(['userdata', 'vendordata']);
      expect(metaData['instance-id']).toBe(`spacefab-${metaData['local-hostname']}`);
    }
  });

  it('keeps every appliance on its own ESXi host with a mandatory anti-affinity rule', () => {
    const rules = Object.values(vsphere.resource.vsphere_compute_cluster_vm_anti_affinity_rule) as Plan[];
    expect(rules).toHaveLength(1);
    const vmRefs = Object.keys(vsphere.resource.vsphere_virtual_machine).map((k) => `\${vsphere_virtual_machine.${k}.id}`);
    expect([...rules[0].virtual_machine_ids].sort()).toEqual(vmRefs.sort());
    expect(rules[0].mandatory).toBe(true);
  });

  it('restarts the load-balancer nodes first after a host failure', () => {
    const overrides = Object.values(vsphere.resource.vsphere_ha_vm_override) as Plan[];
    expect(overrides.map((o) => o.ha_vm_restart_priority)).toEqual(['highest', 'highest']);
    expect(overrides.map((o) => o.virtual_machine_id).sort()).toEqual(
      ['node1', 'node2'].map((n) => `\${vsphere_virtual_machine.Fabric_${n}_vm_${Object.keys(vsphere.resource.vsphere_virtual_machine).find((k) => k.startsWith(`Fabric_${n}_`))!.split('_').pop()}.id}`).sort(),
    );
  });

  it('outputs the VIP, node addresses and stats URLs', () => {
    const outputs = Object.fromEntries(Object.entries(vsphere.output).map(([k, v]) => [k.replace(/_[0-9A-F]{8}$/, ''), (v as Plan).value]));
    expect(outputs.Fabric_vip).toBe('198.51.100.10');
    expect(outputs.Fabric_node_addresses).toEqual({ node1: '198.51.100.11', node2: '198.51.100.12', node3: '198.51.100.13' });
    expect(outputs.Fabric_haproxy_stats_urls).toEqual(['http://198.51.100.11:8404/stats', 'http://198.51.100.12:8404/stats']);
  });

});

describe('kvm-fabric', () => {
  const kvm: Plan = JSON.parse(plans.get('kvm-fabric')!);
  const disks = Object.values(kvm.resource.libvirt_cloudinit_disk) as Plan[];

  it('hands every node its own user-data, meta-data and network-config on a cloud-init disk', () => {
    expect(disks).toHaveLength(3);
    for (const [name, text] of userDataByNode(kvm)) expect(parse(text).hostname).toBe(name);
    for (const disk of disks) {
      expect(disk.user_data).toMatch(/^\$\{local\.Fabric_node\d_user_data_[0-9A-F]+\}$/);
      expect(parse(disk.meta_data)['instance-id']).toMatch(/^spacefab-node\d$/);
      expect(parse(disk.network_config).version).toBe(2);
    }
  });

  it('matches each cloud-init disk snapshot', () => {
    expect(disks.map((d) => ({ name: d.name, provider: d.provider, meta_data: d.meta_data, network_config: d.network_config }))).toMatchSnapshot();
  });
});

describe('kvm-fabric-full', () => {
  const full: Plan = JSON.parse(plans.get('kvm-fabric-full')!);
  const domains = Object.values(full.resource.libvirt_domain) as Plan[];
  const hostOf = (node: string) => domains.find((d) => d.name === `spacefull-${node}`)!.provider;

  it('keeps each pair (balancers, database, monitoring) on different hosts', () => {
    expect(hostOf('node1')).not.toBe(hostOf('node2'));
    expect(hostOf('db1')).not.toBe(hostOf('db2'));
  });

  it('gives every appliance a second NIC on the device bridge with its own MAC', () => {
    for (const d of domains) {
      expect(d.network_interface).toHaveLength(2);
      expect(d.network_interface[1].bridge).toBe('br-dev');
      expect(d.network_interface[1].mac).not.toBe(d.network_interface[0].mac);
    }
  });

  it('generates the database passwords and outputs the database VIP and monitoring address', () => {
    expect(Object.keys(full.resource.random_password).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/database_application_password/), expect.stringMatching(/database_replication_password/)]),
    );
    const outputs = Object.fromEntries(Object.entries(full.output).map(([k, v]) => [k.replace(/_[0-9A-F]{8}$/, ''), (v as Plan).value]));
    expect(outputs.Fabric_database_vip).toBe('198.51.100.20');
    expect(outputs.Fabric_monitoring_address).toBe('198.51.100.30');
  });

  it('puts the rack of each Cassandra node on its KVM host', () => {
    const userData = userDataByNode(full);
    for (const node of ['node1', 'node2', 'node3']) {
      const host = hostOf(node).replace('libvirt.', '');
      expect(userData.get(node)).toContain(`rack=${host}`);
    }
  });
});

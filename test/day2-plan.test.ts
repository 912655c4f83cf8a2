/**
 * Day 2 on the plans: a fabric synthesized before and after each change an
 * operator makes to a running fabric. What Terraform would do to the VMs
 * that stay, and which nodes get a new configuration bundle, in which order.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { VsphereProvider, VsphereProviderConfig } from '@cdktf/provider-vsphere/lib/provider';
import { App, Testing, TerraformStack } from 'cdktf';
import { Fabric, topologicalOrder } from '../constructs/fabric';
import { LibvirtPlatform } from '../constructs/platforms/libvirt/libvirt-platform';
import { IFabricPlatform } from '../constructs/platforms/platform';
import { VspherePlatform } from '../constructs/platforms/vsphere/vsphere-platform';
import { ApplianceSpec, FabricSpec } from '../model/fabric-spec';
import { threeNodeSpec } from './fixtures';
import { Plan, synthExamples, testApp, unescapeTerraform } from './synth-helpers';

const DEPLOY_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly operator@example';

interface PlatformCase {
  readonly name: string;
  readonly create: () => IFabricPlatform;
  /** The resource types that make up an appliance's VM. */
  readonly vmTypes: readonly string[];
}

const PLATFORMS: PlatformCase[] = [
  {
    name: 'libvirt',
    create: () =>
      new LibvirtPlatform({
        hosts: ['kvm1', 'kvm2'].map((name) => ({
          name,
          uri: `qemu+ssh://root@${name}.example.net/system`,
          baseImage: { source: '/var/lib/appliance-fabric/images/debian-12-generic-amd64.qcow2' },
          network: { bridge: 'br-mgmt' },
        })),
      }),
    vmTypes: ['libvirt_domain', 'libvirt_cloudinit_disk', 'libvirt_volume'],
  },
  {
    name: 'vsphere',
    create: () => new VspherePlatform({ datacenter: 'dc-a', computeCluster: 'cl-a', datastore: 'ds-a', network: 'pg-mgmt', template: 'appliance-tpl' }),
    vmTypes: ['vsphere_virtual_machine'],
  },
];

const appliance = (n: number): ApplianceSpec => ({ name: `node${n}`, managementAddress: `198.51.100.${10 + n}` });

/** Five appliances: the balancer pair, a database pair of its own and a fifth application server. */
function fabricSpec(count: number, overrides: Partial<FabricSpec> = {}): FabricSpec {
  return threeNodeSpec({
    appliances: Array.from({ length: count }, (_, i) => appliance(i + 1)),
    sshAuthorizedKeys: [DEPLOY_KEY],
    loadBalancer: { members: ['node1', 'node2'] },
    database: { members: ['node3', 'node4'], vip: '198.51.100.20' },
    ...overrides,
  });
}

function synth(spec: FabricSpec, platform: PlatformCase): Plan {
  const stack = new TerraformStack(testApp(), 'stack');
  new Fabric(stack, 'Fabric', { ...spec, platform: platform.create() });
  return JSON.parse(Testing.synth(stack));
}

/**
 * A value with every `local.NAME` replaced by the local's own (inlined)
 * value: what Terraform evaluates, as far as a change is concerned (the other
 * references, generated secrets and ids, are the same in both plans).
 */
function inlineLocals(value: unknown, plan: Plan): unknown {
  if (typeof value === 'string') {
    return value.replace(/\blocal\.([A-Za-z0-9_]+)/g, (_m, name: string) => `(${JSON.stringify(inlineLocals(plan.locals[name], plan))})`);
  }
  if (Array.isArray(value)) return value.map((v) => inlineLocals(v, plan));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).filter(([k]) => k !== '//').map(([k, v]) => [k, inlineLocals(v, plan)]));
  return value;
}

/** The attributes (top-level; `extra_config["key"]` for map entries) whose evaluated value differs. */
function changedAttributes(before: Plan, after: Plan, beforePlan: Plan, afterPlan: Plan): string[] {
  const changed: string[] = [];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)].filter((k) => k !== '//' && k !== 'lifecycle'));
  for (const key of keys) {
    const a = inlineLocals(before[key], beforePlan);
    const b = inlineLocals(after[key], afterPlan);
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (key === 'extra_config') {
      const mapKeys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of mapKeys) if (JSON.stringify((a as Plan)[k]) !== JSON.stringify((b as Plan)[k])) changed.push(`extra_config["${k}"]`);
    } else {
      changed.push(key);
    }
  }
  return changed.sort();
}

/** Every VM-level resource of a node that is in both plans, with what changed and what its lifecycle ignores. */
function vmChanges(before: Plan, after: Plan, platform: PlatformCase): { address: string; changed: string[]; ignored: string[] }[] {
  const out: { address: string; changed: string[]; ignored: string[] }[] = [];
  for (const type of platform.vmTypes) {
    for (const [name, resource] of Object.entries((after.resource[type] ?? {}) as Record<string, Plan>)) {
      const old = before.resource[type]?.[name];
      if (!old) continue;
      out.push({ address: `${type}.${name}`, changed: changedAttributes(old, resource, before, after), ignored: [...(resource.lifecycle?.ignore_changes ?? [])].sort() });
    }
  }
  return out;
}

/** Node name → its configuration delivery resource. */
function deliveries(plan: Plan): Map<string, { address: string; resource: Plan }> {
  const out = new Map<string, { address: string; resource: Plan }>();
  for (const [name, resource] of Object.entries((plan.resource.terraform_data ?? {}) as Record<string, Plan>)) {
    if (!/_delivery_configuration_[0-9A-F]{8}$/.test(name)) continue;
    out.set(resource.triggers_replace.node, { address: `terraform_data.${name}`, resource });
  }
  return out;
}

/** Nodes in both plans whose delivery triggers (evaluated) differ: the ones whose bundle Terraform would deliver again. */
function redelivered(before: Plan, after: Plan): string[] {
  const a = deliveries(before);
  const b = deliveries(after);
  return [...b.keys()]
    .filter((node) => a.has(node))
    .filter((node) => JSON.stringify(inlineLocals(a.get(node)!.resource.triggers_replace, before)) !== JSON.stringify(inlineLocals(b.get(node)!.resource.triggers_replace, after)))
    .sort();
}

/** The deliveries `node`'s delivery waits for directly (its depends_on), by node name. */
function deliveredDirectlyBefore(plan: Plan, node: string): string[] {
  const all = deliveries(plan);
  const byAddress = new Map([...all].map(([name, d]) => [d.address, name]));
  return ((all.get(node)!.resource.depends_on ?? []) as string[]).map((dep) => byAddress.get(dep) ?? dep).sort();
}

/** A cycle in the plan's depends_on graph (every resource), as addresses, or undefined: Terraform refuses a plan with one. */
function dependencyCycle(plan: Plan): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const [type, resources] of Object.entries((plan.resource ?? {}) as Record<string, Record<string, Plan>>)) {
    for (const [name, resource] of Object.entries(resources)) edges.set(`${type}.${name}`, (resource.depends_on ?? []) as string[]);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (address: string, path: string[]): string[] | undefined => {
    if (state.get(address) === 'done') return undefined;
    if (state.get(address) === 'visiting') return [...path, address];
    state.set(address, 'visiting');
    for (const dep of edges.get(address) ?? []) {
      const cycle = visit(dep, [...path, address]);
      if (cycle) return cycle;
    }
    state.set(address, 'done');
    return undefined;
  };
  for (const address of edges.keys()) {
    const cycle = visit(address, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Every delivery that `node`'s delivery waits for, directly or not. */
function configuredBefore(plan: Plan, node: string): Set<string> {
  const byAddress = new Map([...deliveries(plan)].map(([name, d]) => [d.address, name]));
  const all = deliveries(plan);
  const seen = new Set<string>();
  const visit = (name: string) => {
    for (const dep of (all.get(name)!.resource.depends_on ?? []) as string[]) {
      const other = byAddress.get(dep);
      if (other && !seen.has(other)) {
        seen.add(other);
        visit(other);
      }
    }
  };
  visit(node);
  return seen;
}

describe.each(PLATFORMS)('day 2 on $name', (platform) => {
  const base = synth(fabricSpec(5), platform);

  /** The changes an operator makes, each with the nodes whose bundle must be delivered again. */
  const changes: { what: string; spec: FabricSpec; redelivered: string[] }[] = [
    // The balancers gain a backend; the database pair gains a witness.
    { what: 'grow: a sixth application server', spec: fabricSpec(6), redelivered: ['node1', 'node2', 'node3', 'node4'] },
    { what: 'shrink: the fifth appliance removed', spec: fabricSpec(4), redelivered: ['node1', 'node2', 'node3', 'node4'] },
    { what: 'setting: the sticky cookie', spec: fabricSpec(5, { loadBalancer: { members: ['node1', 'node2'], stickyCookieName: 'FABRICID' } }), redelivered: ['node1', 'node2'] },
    { what: 'setting: the watchdog probe interval', spec: fabricSpec(5, { watchdog: { probeIntervalSeconds: 2 } }), redelivered: ['node1', 'node2', 'node3', 'node4', 'node5'] },
    // The database members take the new passwords (database.env), every application server its new client env.
    { what: 'rotation: the database passwords (passwordGeneration raised)', spec: fabricSpec(5, { database: { members: ['node3', 'node4'], vip: '198.51.100.20', passwordGeneration: 1 } }), redelivered: ['node1', 'node2', 'node3', 'node4', 'node5'] },
    { what: 'setting: the advert interval', spec: fabricSpec(5, { highAvailability: { advertIntervalSeconds: 0.5 } }), redelivered: ['node1', 'node2', 'node3', 'node4'] },
  ];

  it.each(changes)('$what: every changed attribute of a VM that stays is ignored, so no VM is replaced or rebooted', ({ spec }) => {
    const after = synth(spec, platform);
    const vms = vmChanges(base, after, platform);
    expect(vms.length).toBeGreaterThan(0);
    for (const vm of vms) expect({ address: vm.address, uncovered: vm.changed.filter((c) => !vm.ignored.includes(c)) }).toEqual({ address: vm.address, uncovered: [] });
    // The check is not empty: the user-data of the balancers did change.
    expect(vms.some((vm) => vm.changed.length > 0)).toBe(true);
  });

  it.each(changes)('$what: exactly the nodes that need it get their bundle again', ({ spec, redelivered: expected }) => {
    expect(redelivered(base, synth(spec, platform))).toEqual(expected);
  });

  it('rotates each database password through three slots: a raise replaces exactly one, the next password becomes the current one', () => {
    const atGeneration = (passwordGeneration: number) => synth(fabricSpec(5, { database: { members: ['node3', 'node4'], vip: '198.51.100.20', passwordGeneration } }), platform);
    const slots = (plan: Plan) =>
      Object.fromEntries(Object.entries(plan.resource.random_password as Record<string, Plan>).filter(([name]) => name.includes('database_')).map(([name, r]) => [name, r.keepers ?? null]));
    /** The password references database.env of node3 holds, by its variable. */
    const env = (plan: Plan) => {
      const text = unescapeTerraform(JSON.stringify(plan.locals));
      const value = (key: string) => new RegExp(`${key}=\\$\\{random_password\\.([A-Za-z0-9_]+)\\.result\\}`).exec(text)?.[1];
      return { previous: value('DB_APPLICATION_PASSWORD_PREVIOUS'), current: value('DB_APPLICATION_PASSWORD'), next: value('DB_APPLICATION_PASSWORD_NEXT') };
    };
    const plans = [0, 1, 2, 3].map(atGeneration);
    // Generation 0 keeps the single password's resource as it was (no keepers): a fabric made before rotation keeps its password.
    const first = slots(plans[0]);
    expect(Object.entries(first).filter(([name, keepers]) => /database_application_password_[0-9A-F]{8}$/.test(name) && keepers === null)).toHaveLength(1);
    for (let g = 1; g < plans.length; g++) {
      const before = slots(plans[g - 1]);
      const after = slots(plans[g]);
      const replaced = Object.keys(after).filter((name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]));
      // One slot of each account: its keepers name the new next generation.
      expect(replaced.map((name) => name.replace(/_[0-9A-F]{8}$/, '').replace(/^.*?(database_\w+_password).*$/, '$1')).sort()).toEqual(['database_application_password', 'database_replication_password']);
      for (const name of replaced) expect(after[name]).toEqual({ generation: String(g + 1) });
      expect(env(plans[g])).toEqual({ previous: env(plans[g - 1]).current, current: env(plans[g - 1]).next, next: expect.any(String) });
      // The new next password is the replaced slot, which held the oldest password.
      expect(env(plans[g]).next).toBe(env(plans[g - 1]).previous);
      expect(replaced).toContain(env(plans[g]).next);
      expect(Object.values(env(plans[g])).every((name) => name !== undefined && name.includes('database_application_password'))).toBe(true);
    }
  });

  it('synthesizing the same config twice plans the same deliveries', () => {
    expect(redelivered(base, synth(fabricSpec(5), platform))).toEqual([]);
  });

  it('replaces a whole VM, destroy first, through one marker per node', () => {
    for (const node of ['node1', 'node2', 'node3', 'node4', 'node5']) {
      const markers = Object.entries(base.resource.terraform_data as Record<string, Plan>).filter(([, r]) => r.input?.node === node);
      expect(markers).toHaveLength(1);
      const marker = `terraform_data.${markers[0][0]}`;
      const triggered = platform.vmTypes.flatMap((type) =>
        Object.entries((base.resource[type] ?? {}) as Record<string, Plan>).filter(([, r]) => r.lifecycle?.replace_triggered_by?.includes(marker)).map(() => type),
      );
      expect(triggered.sort()).toEqual([...platform.vmTypes].sort());
      for (const type of platform.vmTypes) for (const r of Object.values((base.resource[type] ?? {}) as Record<string, Plan>)) expect(r.lifecycle?.create_before_destroy).toBeUndefined();
    }
  });

  it('ignores exactly the cloud-init inputs, never everything', () => {
    for (const type of platform.vmTypes) {
      for (const resource of Object.values((base.resource[type] ?? {}) as Record<string, Plan>)) {
        const ignored: string[] = resource.lifecycle?.ignore_changes ?? [];
        expect(ignored).not.toContain('all');
        if (type === 'libvirt_cloudinit_disk') expect([...ignored].sort()).toEqual(['meta_data', 'network_config', 'user_data']);
        if (type === 'vsphere_virtual_machine') {
          expect(new Set(ignored)).toEqual(new Set(['extra_config["guestinfo.metadata"]', 'extra_config["guestinfo.metadata.encoding"]', 'extra_config["guestinfo.userdata"]', 'extra_config["guestinfo.userdata.encoding"]']));
        }
        // Sizing and the image still plan as usual.
        for (const attr of ['memory', 'vcpu', 'num_cpus', 'base_volume_id', 'clone']) expect(ignored).not.toContain(attr);
      }
    }
  });

  it('configures the nodes in order: the other nodes, the standby balancer, the active balancer last', () => {
    const all = deliveries(base);
    expect([...all.keys()].sort()).toEqual(['node1', 'node2', 'node3', 'node4', 'node5']);
    // No delivery depends on a VM: create_before_destroy would be forced onto the VMs.
    for (const { resource } of all.values()) {
      expect(resource.lifecycle).toEqual({ create_before_destroy: true });
      for (const dep of resource.depends_on ?? []) expect(dep).toMatch(/^terraform_data\..*_delivery_configuration_/);
    }
    // node1 has the highest fabric-VIP priority: the active balancer.
    expect(configuredBefore(base, 'node1')).toEqual(new Set(['node2', 'node3', 'node4', 'node5']));
    expect(configuredBefore(base, 'node2')).toEqual(new Set(['node3', 'node4', 'node5']));
    // The database pair: the primary (node3) after its standby.
    expect(configuredBefore(base, 'node3')).toEqual(new Set(['node4']));
    expect(configuredBefore(base, 'node4')).toEqual(new Set());
    // The application servers among them one at a time (a changed client env restarts the service): node5 after the pair.
    expect(configuredBefore(base, 'node5')).toEqual(new Set(['node3', 'node4']));
    expect(dependencyCycle(base)).toBeUndefined();
  });

  it('delivers to the application servers that are not balancers one at a time, in an order that keeps each pair\'s standby first, and to the other nodes beside them', () => {
    // node3..node6 are application servers, node3/node4 the database pair (node3 its initial master).
    const six = synth(fabricSpec(6), platform);
    expect(deliveredDirectlyBefore(six, 'node4')).toEqual([]);
    expect(deliveredDirectlyBefore(six, 'node3')).toEqual(['node4']);
    expect(deliveredDirectlyBefore(six, 'node5')).toEqual(['node3']);
    expect(deliveredDirectlyBefore(six, 'node6')).toEqual(['node5']);
    // The balancers after all of them, as before.
    expect(configuredBefore(six, 'node2')).toEqual(new Set(['node3', 'node4', 'node5', 'node6']));
    expect(dependencyCycle(six)).toBeUndefined();
    // A node that is not an application server is not chained: node5 runs beside the chain node4, node3, node6.
    const withoutNode5 = synth(fabricSpec(6, { applicationServers: { members: ['node1', 'node2', 'node3', 'node4', 'node6'] } }), platform);
    expect(deliveredDirectlyBefore(withoutNode5, 'node5')).toEqual([]);
    expect(deliveredDirectlyBefore(withoutNode5, 'node6')).toEqual(['node3']);
    expect(deliveredDirectlyBefore(withoutNode5, 'node3')).toEqual(['node4']);
    expect(dependencyCycle(withoutNode5)).toBeUndefined();
  });

  it('whichever balancer holds the VIP at apply time takes the change last: the first one keeps its bundle back while it holds it, and a last step applies it', () => {
    const all = deliveries(base);
    const agentCommand = (resource: Plan) => resource.provisioner[2]['remote-exec'].inline[1] as string;
    expect(agentCommand(all.get('node2')!.resource)).toContain(' --defer-while-holding fabric_vip ');
    for (const node of ['node1', 'node3', 'node4', 'node5']) expect(agentCommand(all.get(node)!.resource)).not.toContain('--defer-while-holding');
    const deferred = Object.entries((base.resource.terraform_data ?? {}) as Record<string, Plan>).filter(([name]) => /_delivery_deferred_[0-9A-F]{8}$/.test(name));
    expect(deferred.map(([, r]) => r.triggers_replace.node)).toEqual(['node2']);
    const [, completion] = deferred[0];
    const node2 = all.get('node2')!.resource;
    // Runs exactly when node2's delivery runs, after it and after node1's, over the same pinned connection.
    expect(completion.triggers_replace).toEqual(node2.triggers_replace);
    expect([...completion.depends_on].sort()).toEqual([all.get('node1')!.address, all.get('node2')!.address].sort());
    expect(completion.connection).toEqual(node2.connection);
    expect(completion.lifecycle).toEqual({ create_before_destroy: true });
    expect(completion.provisioner).toEqual([
      { 'remote-exec': { inline: [expect.stringMatching(/^sudo \/usr\/local\/lib\/appliance-fabric\/fabric-apply-bundle --common-reload-at '[^']+' --apply-pending \$\{sha256\(local\.[A-Za-z0-9_]+\)\}$/)] } },
    ]);
    expect(completion.provisioner[0]['remote-exec'].inline[0]).toContain(`--apply-pending ${node2.triggers_replace.bundle}`);
    // Nothing waits for node1 but the completion: node1's delivery is the last one otherwise.
    for (const { resource } of all.values()) expect(resource.depends_on ?? []).not.toContain(all.get('node1')!.address);
  });

  it('delivers over SSH to the management address with the pinned host key and the deploy key variable, and keeps no secret in the triggers', () => {
    for (const [node, { resource }] of deliveries(base)) {
      expect(resource.connection).toMatchObject({ type: 'ssh', user: 'fabric-admin', host: `198.51.100.${10 + Number(node.slice(4))}`, private_key: '${var.testfab_deploy_private_key}' });
      expect(resource.connection.host_key).toMatch(/^\$\{tls_private_key\.Fabric_node\d_ssh_host_key_[0-9A-F]{8}\.public_key_openssh\}$/);
      expect(resource.triggers_replace.bundle).toMatch(/^\$\{sha256\(local\.[A-Za-z0-9_]+\)\}$/);
      const provisioners = resource.provisioner.map((p: Plan) => Object.keys(p)[0]);
      expect(provisioners).toEqual(['remote-exec', 'file', 'remote-exec']);
      expect(resource.provisioner[2]['remote-exec'].inline[1]).toMatch(/^sudo \/usr\/local\/lib\/appliance-fabric\/fabric-apply-bundle --wait-ready 900 /);
    }
    // The hashed manifest lines hold hashes and references, never a secret's value.
    for (const [name, value] of Object.entries(base.locals as Record<string, string>)) {
      if (name.includes('_delivery_bundle_files_')) expect(value).not.toMatch(/random_password|private_key_pem/);
    }
    expect(base.variable.testfab_deploy_private_key).toEqual(expect.objectContaining({ sensitive: true, nullable: true, default: null }));
  });

  it('gives each node an SSH host key of its own, generated by Terraform, in its first-boot user-data', () => {
    const keys = Object.keys(base.resource.tls_private_key).filter((k) => /_ssh_host_key_/.test(k));
    expect(keys).toHaveLength(5);
    for (const [name, text] of Object.entries(base.locals as Record<string, string>)) {
      if (!/_user_data_[0-9A-F]{8}$/.test(name)) continue;
      const node = /^Fabric_(node\d)_/.exec(name)![1];
      expect(text).toMatch(new RegExp(`ecdsa_private: \\$\\{jsonencode\\(tls_private_key\\.Fabric_${node}_ssh_host_key_[0-9A-F]{8}\\.private_key_pem\\)\\}`));
      expect(text).toMatch(/^ssh_genkeytypes:\n  - ecdsa$/m);
    }
  });
});

describe.each(PLATFORMS)('shrink on $name: a removed appliance is drained before its VM goes', (platform) => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afday2-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** `app.synth()` with a lock file, as `cdktf synth` runs it (validations included). */
  const synthWithLock = (spec: FabricSpec): Plan => {
    const outdir = mkdtempSync(path.join(dir, 'out-'));
    const app = new App({ outdir });
    const stack = new TerraformStack(app, 'stack');
    // vSphere's provider is configured by the stack (the example stack's job); libvirt's by the platform.
    if (platform.name === 'vsphere') new VsphereProvider(stack, 'vsphere', {} as VsphereProviderConfig);
    new Fabric(stack, 'Fabric', { ...spec, platform: platform.create(), lockFile: path.join(dir, 'appliance-fabric.lock.json') });
    app.synth();
    return JSON.parse(readFileSync(path.join(outdir, 'stacks', 'stack', 'cdk.tf.json'), 'utf8'));
  };
  const vmType = platform.vmTypes[0];
  const vmOf = (plan: Plan, node: string) => Object.keys(plan.resource[vmType]).find((name) => name.startsWith(`Fabric_${node}_`))!;

  it('removes the VM of the appliance that left through a removed block whose destroy-time provisioner runs --retire on it', () => {
    const before = synthWithLock(fabricSpec(5));
    expect(before.removed).toBeUndefined();
    const after = synthWithLock(fabricSpec(4));
    expect(after.removed).toEqual([
      {
        from: `${vmType}.${vmOf(before, 'node5')}`,
        lifecycle: { destroy: true },
        connection: { type: 'ssh', host: '198.51.100.15', user: 'fabric-admin', timeout: '60s' },
        provisioner: [{ 'remote-exec': { when: 'destroy', on_failure: 'continue', inline: ['sudo /usr/local/lib/appliance-fabric/fabric-apply-bundle --retire 900'] } }],
      },
    ]);
    // The address is the VM's own, and no resource of the plan holds it any more.
    expect(after.resource[vmType][vmOf(before, 'node5')]).toBeUndefined();
    // Once the lock has caught up, the next synth removes nothing.
    expect(synthWithLock(fabricSpec(4)).removed).toBeUndefined();
  });

  it('has no removed block without delivery (nothing could log in to drain it)', () => {
    synthWithLock(fabricSpec(5, { sshAuthorizedKeys: [] }));
    expect(synthWithLock(fabricSpec(4, { sshAuthorizedKeys: [] })).removed).toBeUndefined();
  });
});

describe('the example plans', () => {
  it('have no dependency cycle', () => {
    const plans = synthExamples();
    expect(plans.size).toBeGreaterThan(0);
    for (const [stack, text] of plans) expect({ stack, cycle: dependencyCycle(JSON.parse(text)) }).toEqual({ stack, cycle: undefined });
  });

  it('(the cycle check finds one; the delivery order refuses one)', () => {
    expect(dependencyCycle({ resource: { t: { a: { depends_on: ['t.b'] }, b: { depends_on: ['t.a'] } } } })).toEqual(['t.a', 't.b', 't.a']);
    expect(topologicalOrder(['a', 'b', 'c'], new Map([['a', ['c']], ['c', ['b']]]))).toEqual(['b', 'c', 'a']);
    expect(() => topologicalOrder(['a', 'b'], new Map([['a', ['b']], ['b', ['a']]]))).toThrow(/a cycle through a -> b -> a/);
  });
});

describe('configuration delivery switched off', () => {
  it('is off, with a warning, when no SSH key is authorized; the VMs still ignore cloud-init changes', () => {
    const stack = new TerraformStack(testApp(), 'stack');
    const fabric = new Fabric(stack, 'Fabric', { ...fabricSpec(5, { sshAuthorizedKeys: [] }), platform: PLATFORMS[0].create() });
    const plan: Plan = JSON.parse(Testing.synth(stack));
    expect(deliveries(plan).size).toBe(0);
    expect(fabric.node.metadata.map((m) => m.data)).toEqual([expect.stringMatching(/configuration delivery is off because sshAuthorizedKeys is empty/)]);
    for (const disk of Object.values(plan.resource.libvirt_cloudinit_disk) as Plan[]) expect(disk.lifecycle.ignore_changes).toContain('user_data');
  });

  it('refuses delivery switched on without any key to log in with', () => {
    expect(() => synth(fabricSpec(5, { sshAuthorizedKeys: [], configurationDelivery: { enabled: true } }), PLATFORMS[0])).toThrow(
      /configurationDelivery\.enabled: delivery is on but sshAuthorizedKeys is empty.*Fix: add the public half of the deploy key/s,
    );
  });
});

/**
 * A node's identity and the lock that records it. The identity is what
 * cloud-init applies only when the node's VM is created (name and
 * instance-id, addresses, MACs, the management network, the MariaDB server
 * id): a running node never takes a new one (DESIGN.md, "Day 2"), so a synth
 * that changes it is refused unless that node is replaced on purpose. Synth
 * cannot see Terraform's state, so what was synthesized before is recorded
 * in a lock file, the way package-lock.json records what was installed.
 *
 * Pure: reading and writing the file is constructs/fabric-lock.ts's.
 */
import { ProblemCollector } from './errors';
import { FabricModel, NodeModel, VrrpInstance, vrrpInstances } from './fabric-model';
import { instanceIdOf } from './identifiers';

/** The lock file's format; a reader refuses a newer one rather than guess. */
export const LOCK_FORMAT_VERSION = 1;

/** What a node keeps for its whole life; each field is compared on its own. */
export interface NodeIdentity {
  /** cloud-init's instance-id (`<fabric>-<node>`); a new one re-runs first boot. */
  readonly instanceId: string;
  readonly managementAddress: string;
  readonly managementMac: string;
  /** The management network in CIDR notation (address and prefix). */
  readonly managementNetwork: string;
  readonly managementGateway: string;
  readonly deviceAddress?: string;
  readonly deviceMac?: string;
  /** MariaDB server_id, on database nodes. */
  readonly databaseServerId?: number;
}

/**
 * The image a node's VM is created from, as its platform resolves it: the
 * fields of an appliance `image`, e.g. `{ template: 'debian12-appliance' }`
 * or `{ source: '...', name: '...' }`.
 */
export type LockedImage = Readonly<Record<string, string>>;

export interface LockedNode {
  readonly identity: NodeIdentity;
  /** Absent where the platform does not say which image it uses. */
  readonly image?: LockedImage;
}

/** One fabric's entry: its nodes by name. */
export interface LockedFabric {
  readonly nodes: Readonly<Record<string, LockedNode>>;
}

/** The whole lock file: every fabric that uses it, keyed by the Fabric's construct path. */
export interface FabricLock {
  readonly lockfileVersion: number;
  readonly fabrics: Readonly<Record<string, LockedFabric>>;
}

/** The order in which changed fields are reported: the declaration order above. */
const IDENTITY_FIELDS: readonly (keyof NodeIdentity)[] = [
  'instanceId',
  'managementAddress',
  'managementMac',
  'managementNetwork',
  'managementGateway',
  'deviceAddress',
  'deviceMac',
  'databaseServerId',
];

export function identityOf(model: FabricModel, node: NodeModel): NodeIdentity {
  const serverId = model.database?.serverIds[node.name];
  return {
    instanceId: instanceIdOf(model.name, node.name),
    managementAddress: node.managementAddress,
    managementMac: node.managementMac,
    managementNetwork: `${model.network.networkAddress}/${model.network.prefixLength}`,
    managementGateway: model.network.gateway,
    ...(node.deviceAddress !== undefined ? { deviceAddress: node.deviceAddress } : {}),
    ...(node.deviceMac !== undefined ? { deviceMac: node.deviceMac } : {}),
    ...(serverId !== undefined ? { databaseServerId: serverId } : {}),
  };
}

/** The fabric's entry as this synth would record it; `images` holds what the platform resolved, by node. */
export function lockedFabricOf(model: FabricModel, images: ReadonlyMap<string, LockedImage>): LockedFabric {
  return {
    nodes: Object.fromEntries(
      model.nodes.map((node) => {
        const image = images.get(node.name);
        return [node.name, { identity: identityOf(model, node), ...(image ? { image } : {}) }];
      }),
    ),
  };
}

/** What the messages need beyond the model: where the lock is and what an operator replaces. */
export interface LockCheckContext {
  /** The lock file, as the messages name it. */
  readonly lockFile: string;
  /** Each node's VM-level resources as Terraform addresses (`libvirt_domain.<name>`), what `-replace=` takes. */
  readonly replaceAddresses: ReadonlyMap<string, readonly string[]>;
  /** Where `terraform apply` runs for this fabric's stack, e.g. `cdktf.out/stacks/kvm-fabric`. @default - not named */
  readonly stackDirectory?: string;
}

/**
 * Compares this synth's entry with the recorded one and adds a problem for
 * every node whose identity changes (unless `model.replaceAppliances` names
 * it) and every pair whose members all change image at once. Nodes that are
 * only added or removed are no problem. No recorded entry: nothing to compare.
 */
export function checkAgainstLock(model: FabricModel, locked: LockedFabric | undefined, current: LockedFabric, context: LockCheckContext, problems: ProblemCollector): void {
  if (!locked) return;
  for (const node of model.nodes) {
    const before = locked.nodes[node.name];
    if (!before || model.replaceAppliances.includes(node.name)) continue;
    const changes = IDENTITY_FIELDS.filter((f) => before.identity[f] !== current.nodes[node.name].identity[f]).map(
      (f) => `${f} ${show(before.identity[f])} → ${show(current.nodes[node.name].identity[f])}`,
    );
    if (changes.length === 0) continue;
    problems.add(
      node.name,
      `appliance '${node.name}' would change its identity, which cloud-init applied when its VM was created and never applies again: ${changes.join(', ')} (${context.lockFile} records what was deployed)`,
      `either revert ${changes.length === 1 ? 'that value' : 'those values'}, or replace ${node.name} on purpose: add '${node.name}' to replaceAppliances (YAML: fabric.replaceAppliances), synth, then ${terraformReplace(node.name, context)}, and remove it from replaceAppliances`,
    );
  }
  checkPairImages(model, locked, current, problems);
}

/** The VRRP pairs whose members must not all be replaced in one apply, by the construct id of their cluster. */
const PAIR_CLUSTERS: Readonly<Record<string, string>> = { fabric: 'load-balancer', database: 'database', monitoring: 'monitoring' };

function checkPairImages(model: FabricModel, locked: LockedFabric, current: LockedFabric, problems: ProblemCollector): void {
  // Pairs of the same members in the same order (the balancers are often the database pair too) are one problem.
  const pairs = new Map<string, { clusters: string[]; instance: VrrpInstance }>();
  for (const instance of vrrpInstances(model)) {
    const cluster = PAIR_CLUSTERS[instance.purpose];
    if (!cluster) continue;
    const key = instance.members.map((m) => m.node).join(' ');
    if (pairs.has(key)) pairs.get(key)!.clusters.push(cluster);
    else pairs.set(key, { clusters: [cluster], instance });
  }
  for (const { clusters, instance } of pairs.values()) {
    // Members come in priority order: the first is the initial master.
    const members = instance.members.map((m) => m.node);
    const changed = members.filter((m) => {
      const before = locked.nodes[m]?.image;
      const after = current.nodes[m].image;
      return before !== undefined && after !== undefined && canonicalJson(before) !== canonicalJson(after);
    });
    if (changed.length < members.length) continue;
    const [first, ...rest] = instance.members;
    const changes = members.map((m) => `${m} ${describeImage(locked.nodes[m].image!)} → ${describeImage(current.nodes[m].image!)}`);
    const standby = rest.map((m) => `${m.node} (priority ${m.priority})`).join(', ');
    const giveNew = rest.map((m) => `appliances[${nodeNamed(model, m.node).index}].image ${imageSpecText(current.nodes[m.node].image!)}`).join(', ');
    const plural = rest.length === 1 ? '' : 's';
    problems.add(
      clusters[0],
      `the images of all members of the ${clusters.join(' and ')} pair change in one synth: ${changes.join('; ')}. A new image replaces a VM, and replacing ${members.join(' and ')} in one apply takes the pair down at once`,
      `change ${rest.map((m) => m.node).join(', ')} first, the lower-priority member${plural} ${standby} against ${first.node}'s ${first.priority} ` +
        `(if a failover has moved the VIP, the member${plural} not holding it): keep ${first.node} on ${describeImage(locked.nodes[first.node].image!)} ` +
        `(undo the change that reaches it: the platform's template or baseImage, or its own image) and give the new image to ${rest.map((m) => m.node).join(', ')} alone ` +
        `(${giveNew}; with addressPlan, list the appliances one by one), synth and terraform apply; then give ${first.node} the new image too, synth and apply again`,
    );
  }
}

function nodeNamed(model: FabricModel, name: string): NodeModel {
  return model.nodes.find((n) => n.name === name)!;
}

function terraformReplace(node: string, context: LockCheckContext): string {
  const addresses = context.replaceAddresses.get(node) ?? [];
  const where = context.stackDirectory ? ` in ${context.stackDirectory}` : '';
  if (addresses.length === 0) return `replace its VM with terraform apply -replace=<address of each of its VM resources>${where}`;
  return `run terraform apply ${addresses.map((a) => `-replace=${a}`).join(' ')}${where}`;
}

const show = (value: unknown) => (value === undefined ? '(none)' : typeof value === 'string' ? `'${value}'` : String(value));
const describeImage = (image: LockedImage) => Object.keys(image).sort().map((k) => `${k} '${image[k]}'`).join(', ');
/**
 * The image as an appliance's `image` prop would ask for it, e.g. `{ template:
 * 'debian12-v2' }`. An uploaded image without its volume name: given its own,
 * a KVM appliance's image gets a name of its own.
 */
const imageSpecText = (image: LockedImage) =>
  `{ ${Object.keys(image)
    .filter((k) => !('source' in image && k === 'name'))
    .map((k) => `${k}: '${image[k]}'`)
    .join(', ')} }`;

/** JSON with every object's keys sorted (undefined left out): the same data always gives the same bytes. */
export function canonicalJson(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

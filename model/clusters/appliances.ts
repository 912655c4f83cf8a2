import { isIpv4, offsetIpv4 } from '../addresses';
import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { NodeModel, NodeRole, Sizing } from '../fabric-model';
import { ApplianceImageSpec, ApplianceSpec, FabricSpec, SizingSpec } from '../fabric-spec';
import { derivedMac, isDnsLabel } from '../identifiers';
import { checkSafeHostName } from '../safe-strings';
import { checkHostAddress } from './checks';
import { BuildContext } from './context';
import type { DeviceNetworkDraft } from './device-network';
import { GUEST_INTERFACE } from './network';

const DEFAULT_SIZING: Sizing = { vcpus: D.DEFAULT_VCPUS, memoryMiB: D.DEFAULT_MEMORY_MIB, diskGiB: D.DEFAULT_DISK_GIB };
/** The order a node lists its roles in. */
const ROLES: readonly NodeRole[] = ['load-balancer', 'application-server', 'database', 'cassandra', 'monitoring'];

/** The fabric's nodes; `model` gives each its roles (and device address) once the whole fabric is valid. */
export interface NodesDraft {
  model(device: DeviceNetworkDraft | undefined): NodeModel[];
}

/** The appliances: fills `context.appliances`, `context.nodes` and `context.nodeIndex`. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): NodesDraft {
  const { network, subnet, platform, vips, nodes } = context;
  const appliances = listAppliances(spec, problems);
  context.appliances = appliances;
  const defaultSizing = mergeSizing(DEFAULT_SIZING, spec.sizing, 'sizing', problems);

  const seenNames = context.nodeIndex;
  const seenAddresses = new Map<string, number>();
  appliances.forEach((appliance, index) => {
    const where = `appliances[${index}]`;
    if (!isDnsLabel(appliance.name)) {
      problems.add(`${where}.name`, `appliance name '${String(appliance.name)}' is not a DNS label`, "use lower-case letters, digits and '-' (no dots or underscores), at most 63 characters, e.g. 'node1'");
    } else if (seenNames.has(appliance.name)) {
      problems.add(`${where}.name`, `appliance name '${appliance.name}' is used twice (also appliances[${seenNames.get(appliance.name)}])`, 'give every appliance its own name');
    } else {
      seenNames.set(appliance.name, index);
    }
    const address = appliance.managementAddress;
    if (!isIpv4(address)) {
      problems.add(`${where}.managementAddress`, `management address '${String(address)}' of appliance '${appliance.name}' is not an IPv4 address`, "give a dotted-quad address inside the management network, e.g. '198.51.100.11'");
    } else {
      if (seenAddresses.has(address)) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' is already used by appliances[${seenAddresses.get(address)}]`, 'give every appliance its own address');
      } else {
        seenAddresses.set(address, index);
      }
      if (subnet) checkHostAddress(`${where}.managementAddress`, `management address of appliance '${appliance.name}'`, address, subnet, problems);
      if (network && address === network.gateway) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' is the gateway`, 'choose a free address in the management network');
      }
      vips.nodeAddress(address, `${where}.managementAddress`, appliance.name);
    }
    const sizing = mergeSizing(defaultSizing, appliance.sizing, `${where}.sizing`, problems);
    const image = checkImageChoice(appliance.image, `${where}.image`, problems);
    // The host names the Cassandra rack too (cassandra-rackdc.properties).
    if (appliance.host !== undefined) checkSafeHostName(appliance.host, `${where}.host`, `host of appliance '${appliance.name}'`, problems);
    nodes.push({
      name: appliance.name,
      fqdn: network && network.searchDomains.length > 0 ? `${appliance.name}.${network.searchDomains[0]}` : appliance.name,
      index,
      managementAddress: address,
      managementMac: derivedMac(platform.macPrefix, platform.macFourthOctetMask ?? 0xff, spec.name, appliance.name, GUEST_INTERFACE),
      roles: [],
      sizing,
      host: appliance.host,
      ...(image ? { image } : {}),
    });
  });

  return {
    model: (device) => {
      const roleMap = new Map<string, NodeRole[]>(nodes.map((n) => [n.name, []]));
      for (const role of ROLES) (context.members.get(role) ?? []).forEach((m) => roleMap.get(m)!.push(role));
      return nodes.map((n) => ({ ...n, roles: roleMap.get(n.name)!, ...(device ? device.addressOf(n.name) : {}) }));
    },
  };
}

function listAppliances(spec: FabricSpec, problems: ProblemCollector): ApplianceSpec[] {
  if (spec.appliances && spec.addressPlan) {
    problems.add('appliances', 'both appliances and addressPlan are given', 'list the appliances one by one or give an addressPlan, not both');
    return [];
  }
  if (spec.addressPlan) {
    const plan = spec.addressPlan;
    if (!Number.isInteger(plan.count) || plan.count < 1 || plan.count > 250) {
      problems.add('addressPlan.count', `appliance count ${String(plan.count)} is not a whole number from 1 to 250`, 'give how many appliances the fabric has');
      return [];
    }
    if (!isIpv4(plan.firstAddress)) {
      problems.add('addressPlan.firstAddress', `'${String(plan.firstAddress)}' is not an IPv4 address`, "give the first appliance's address, e.g. '198.51.100.11'");
      return [];
    }
    const prefix = plan.namePrefix ?? D.DEFAULT_NAME_PREFIX;
    const out: ApplianceSpec[] = [];
    for (let i = 0; i < plan.count; i++) {
      const address = offsetIpv4(plan.firstAddress, i);
      if (!address) {
        problems.add('addressPlan', `${plan.count} addresses from ${plan.firstAddress} run past 255.255.255.255`, 'start the plan lower');
        return out;
      }
      out.push({ name: `${prefix}${i + 1}`, managementAddress: address });
    }
    return out;
  }
  if (!Array.isArray(spec.appliances) || spec.appliances.length === 0) {
    problems.add('appliances', 'the fabric has no appliances', 'list the appliances (name and managementAddress each) or give an addressPlan with a count and a first address');
    return [];
  }
  return spec.appliances;
}

function mergeSizing(base: Sizing, override: SizingSpec | undefined, where: string, problems: ProblemCollector): Sizing {
  const merged = { ...base, ...(override ?? {}) };
  // Only the keys given here: inherited values were checked where they were given.
  for (const key of ['vcpus', 'memoryMiB', 'diskGiB'] as const) {
    if (override?.[key] === undefined) continue;
    const value = merged[key];
    if (!Number.isInteger(value) || value <= 0) {
      problems.add(`${where}.${key}`, `${key} ${String(value)} is not a positive whole number`, `give a positive whole number (default ${DEFAULT_SIZING[key]})`);
    }
  }
  return merged;
}

const IMAGE_CHOICES = ['template', 'source', 'volumeName'] as const;

/**
 * An appliance's own image: exactly one of its kinds, as a non-empty string.
 * Which kind the platform takes, and the rest of the shape, its platform checks.
 */
function checkImageChoice(image: ApplianceImageSpec | undefined, where: string, problems: ProblemCollector): ApplianceImageSpec | undefined {
  if (image === undefined) return undefined;
  const loose = image as unknown as Record<string, unknown>;
  const given = typeof image === 'object' && image !== null ? IMAGE_CHOICES.filter((k) => loose[k] !== undefined) : [];
  if (given.length !== 1) {
    problems.add(where, given.length === 0 ? 'the image names none of template, source or volumeName' : `the image gives ${given.join(' and ')}`, 'give exactly one: template (vSphere), source or volumeName (KVM)');
    return undefined;
  }
  if (typeof loose[given[0]] !== 'string' || (loose[given[0]] as string).trim() === '') {
    problems.add(`${where}.${given[0]}`, `the image's ${given[0]} is empty`, `give the ${given[0] === 'template' ? "template VM's name" : given[0] === 'source' ? 'URL or path of a qcow2 image' : "existing volume's name"}`);
    return undefined;
  }
  return image;
}

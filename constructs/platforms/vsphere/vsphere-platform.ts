import { ComputeClusterVmAntiAffinityRule } from '@cdktf/provider-vsphere/lib/compute-cluster-vm-anti-affinity-rule';
import { DataVsphereComputeCluster } from '@cdktf/provider-vsphere/lib/data-vsphere-compute-cluster';
import { DataVsphereDatacenter } from '@cdktf/provider-vsphere/lib/data-vsphere-datacenter';
import { DataVsphereDatastore } from '@cdktf/provider-vsphere/lib/data-vsphere-datastore';
import { DataVsphereNetwork } from '@cdktf/provider-vsphere/lib/data-vsphere-network';
import { DataVsphereVirtualMachine } from '@cdktf/provider-vsphere/lib/data-vsphere-virtual-machine';
import { Folder } from '@cdktf/provider-vsphere/lib/folder';
import { HaVmOverride } from '@cdktf/provider-vsphere/lib/ha-vm-override';
import { Tag } from '@cdktf/provider-vsphere/lib/tag';
import { TagCategory } from '@cdktf/provider-vsphere/lib/tag-category';
import { VirtualMachine } from '@cdktf/provider-vsphere/lib/virtual-machine';
import { Fn, TerraformResource } from 'cdktf';
import { Construct } from 'constructs';
import { ProblemCollector } from '../../../model/errors';
import { FabricModel, NodeModel, PlatformTraits } from '../../../model/fabric-model';
import { shortDigest } from '../../../model/identifiers';
import { LockedImage } from '../../../model/identity';
import { ApplianceMachine, ApplianceMachineSpec, IFabricPlatform } from '../platform';
import { escapeForTerraform, terraformLiterals } from '../../terraform-strings';

/** cloud-init's VMware datasource reads these (and their `.encoding`). */
const GUESTINFO_METADATA = 'guestinfo.metadata';
const GUESTINFO_USERDATA = 'guestinfo.userdata';
/** The cloud-init inputs a running VM ignores changes of. */
export const GUESTINFO_KEYS = [GUESTINFO_METADATA, `${GUESTINFO_METADATA}.encoding`, GUESTINFO_USERDATA, `${GUESTINFO_USERDATA}.encoding`];

export interface VspherePlatformProps {
  /** Datacenter name. */
  readonly datacenter: string;
  /** Compute cluster (with vSphere HA and DRS) the appliances run in. */
  readonly computeCluster: string;
  /** Datastore for the appliances' disks. */
  readonly datastore: string;
  /** Port group of the management network. */
  readonly network: string;
  /** Port group of the device-management network (eth3); required when the fabric has a device network. @default - none */
  readonly deviceNetwork?: string;
  /**
   * Template VM to clone: Debian 12 with cloud-init (VMware datasource),
   * open-vm-tools, keepalived, HAProxy, watchdog, chrony and curl. For the
   * virtual watchdog device give it VM hardware 17+ and a Virtual Watchdog
   * Timer: the provider cannot add one. An appliance's own `image: {
   * template }` overrides it for that appliance.
   */
  readonly template: string;
  /** VM folder, created under the datacenter. @default - the fabric name */
  readonly folder?: string;
  /**
   * Keep appliances on different ESXi hosts: `mandatory` (DRS never places
   * two together), `preferred`, or `off`. DRS rules need a licence with DRS
   * (Enterprise Plus).
   * @default 'mandatory'
   */
  readonly antiAffinity?: 'mandatory' | 'preferred' | 'off';
  /** Create a tag category and one tag per logical cluster, and tag the VMs. @default true */
  readonly tags?: boolean;
  /** Minutes Terraform waits for the guest's IP through VMware Tools; 0 does not wait. @default 0 */
  readonly waitForGuestNetMinutes?: number;
}

/** @defaultOf VspherePlatformProps.antiAffinity */
export const DEFAULT_ANTI_AFFINITY = 'mandatory';
/** @defaultOf VspherePlatformProps.tags */
export const DEFAULT_TAGS = true;
/** @defaultOf VspherePlatformProps.waitForGuestNetMinutes */
export const DEFAULT_WAIT_FOR_GUEST_NET_MINUTES = 0;

/** Construct id of each appliance's VM, in its Appliance construct. */
const VM_ID = 'vm';

/**
 * VMware vSphere: each appliance is a clone of a template VM, its cloud-init
 * handed over in `guestinfo.*` (cloud-init's VMware datasource), kept apart
 * from the others by a DRS anti-affinity rule.
 */
export class VspherePlatform implements IFabricPlatform {
  /** @jsii ignore */
  readonly traits: PlatformTraits = {
    kind: 'vsphere',
    // The Virtual Watchdog Timer is exposed through ACPI WDAT.
    watchdogModule: 'wdat_wdt',
    // VMware's range for statically assigned MACs: 00:50:56:00:00:00 to 00:50:56:3f:ff:ff.
    macPrefix: '00:50:56',
    macFourthOctetMask: 0x3f,
  };

  private readonly props: VspherePlatformProps;

  /** Every string prop becomes a Terraform literal here, once (see terraformLiterals). */
  constructor(props: VspherePlatformProps) {
    this.props = terraformLiterals(props);
  }

  /** @jsii ignore */
  validate(model: FabricModel): void {
    const problems = new ProblemCollector(model.constructPath);
    for (const key of ['datacenter', 'computeCluster', 'datastore', 'network', 'template'] as const) {
      const value = this.props[key];
      if (typeof value !== 'string' || value.trim() === '') {
        problems.add(`platform.${key}`, `vSphere ${key} is missing`, `give the name of the ${key} as vCenter shows it`);
      }
    }
    const mode = this.props.antiAffinity ?? DEFAULT_ANTI_AFFINITY;
    if (!['mandatory', 'preferred', 'off'].includes(mode)) {
      problems.add('platform.antiAffinity', `anti-affinity '${String(mode)}' is unknown`, "use 'mandatory', 'preferred' or 'off'");
    }
    if (model.deviceNetwork && !this.props.deviceNetwork) {
      problems.add('platform.deviceNetwork', 'the fabric has a device network but no vSphere port group is given for it', 'give vsphere.deviceNetwork, the port group of the device-management network');
    }
    if (!model.deviceNetwork && this.props.deviceNetwork) {
      problems.add('platform.deviceNetwork', `port group '${this.props.deviceNetwork}' is given for a device network the fabric does not have`, 'add deviceNetwork to the fabric, or remove vsphere.deviceNetwork');
    }
    model.nodes.forEach((n, i) => {
      if (n.host !== undefined) {
        problems.add(`appliances[${i}].host`, `appliance '${n.name}' names host '${n.host}', but vSphere places VMs by DRS`, 'remove host (placement comes from the anti-affinity rule)');
      }
      if (n.image && !('template' in n.image)) {
        problems.add(`appliances[${i}].image`, `appliance '${n.name}' names a KVM image (${Object.keys(n.image).join(', ')}), but vSphere clones a template`, "give { template: 'name of the template VM' }, or leave image out to use vsphere.template");
      }
    });
    problems.throwIfAny();
  }

  /** @jsii ignore */
  deploy(scope: Construct, model: FabricModel, machines: ApplianceMachineSpec[]): Map<string, ApplianceMachine> {
    const p = this.props;
    const site = new Construct(scope, 'vsphere');
    const datacenter = new DataVsphereDatacenter(site, 'datacenter', { name: p.datacenter });
    const cluster = new DataVsphereComputeCluster(site, 'cluster', { name: p.computeCluster, datacenterId: datacenter.id });
    const datastore = new DataVsphereDatastore(site, 'datastore', { name: p.datastore, datacenterId: datacenter.id });
    const network = new DataVsphereNetwork(site, 'network', { name: p.network, datacenterId: datacenter.id });
    const deviceNetwork = p.deviceNetwork ? new DataVsphereNetwork(site, 'device_network', { name: p.deviceNetwork, datacenterId: datacenter.id }) : undefined;
    // One data source per template in use; the platform's own keeps the id it always had.
    const templates = new Map([[p.template, new DataVsphereVirtualMachine(site, 'template', { name: p.template, datacenterId: datacenter.id })]]);
    const templateOf = (node: NodeModel) => {
      // An appliance's own template comes from the model, not the escaped props: it is made a literal here.
      const name = node.image && 'template' in node.image ? escapeForTerraform(node.image.template) : p.template;
      if (!templates.has(name)) templates.set(name, new DataVsphereVirtualMachine(site, `template_${shortDigest(name)}`, { name, datacenterId: datacenter.id }));
      return templates.get(name)!;
    };
    const folder = new Folder(site, 'folder', { path: p.folder ?? model.name, type: 'vm', datacenterId: datacenter.id });

    const roleTags = new Map<string, string>();
    if (p.tags ?? DEFAULT_TAGS) {
      const category = new TagCategory(site, 'tag_category', {
        name: `appliance-fabric-${model.name}`,
        description: `Logical clusters of appliance fabric '${model.name}'`,
        cardinality: 'MULTIPLE',
        associableTypes: ['VirtualMachine'],
      });
      const roles = [...new Set(model.nodes.flatMap((n) => n.roles))].sort();
      for (const role of roles) {
        roleTags.set(role, new Tag(site, `tag_${role}`, { name: role, categoryId: category.id, description: `${role} cluster` }).id);
      }
    }

    const machinesByNode = new Map<string, ApplianceMachine>();
    const vms = machines.map((m) => {
      const template = templateOf(m.node);
      const vm = new VirtualMachine(m.scope, VM_ID, {
        name: `${model.name}-${m.node.name}`,
        resourcePoolId: cluster.resourcePoolId,
        datastoreId: datastore.id,
        folder: folder.path,
        numCpus: m.node.sizing.vcpus,
        memory: m.node.sizing.memoryMiB,
        guestId: template.guestId,
        scsiType: template.scsiType,
        firmware: template.firmware,
        waitForGuestNetTimeout: p.waitForGuestNetMinutes ?? DEFAULT_WAIT_FOR_GUEST_NET_MINUTES,
        networkInterface: [
          {
            networkId: network.id,
            adapterType: Fn.element(template.networkInterfaceTypes, 0),
            // A fixed MAC lets cloud-init name the NIC eth0 by MAC.
            useStaticMac: true,
            macAddress: m.node.managementMac,
          },
          ...(deviceNetwork && m.node.deviceMac
            ? [{ networkId: deviceNetwork.id, adapterType: Fn.element(template.networkInterfaceTypes, 0), useStaticMac: true, macAddress: m.node.deviceMac }]
            : []),
        ],
        disk: [{ label: 'disk0', size: m.node.sizing.diskGiB, thinProvisioned: true }],
        clone: { templateUuid: template.id },
        extraConfig: {
          [GUESTINFO_METADATA]: Fn.base64encode(m.metaDataWithNetwork),
          [`${GUESTINFO_METADATA}.encoding`]: 'base64',
          [GUESTINFO_USERDATA]: Fn.base64encode(m.userData),
          [`${GUESTINFO_USERDATA}.encoding`]: 'base64',
        },
        tags: m.node.roles.map((r) => roleTags.get(r)).filter((t): t is string => t !== undefined),
        // A changed extra_config reboots the VM (provider 2.15) and cloud-init would not run again anyway
        // (same instance-id): later changes arrive as configuration bundles instead.
        lifecycle: { ignoreChanges: GUESTINFO_KEYS.map((key) => `extra_config["${key}"]`), replaceTriggeredBy: [m.replacementMarker] },
      });
      machinesByNode.set(m.node.name, { id: vm.id, resource: vm });
      return { vm, node: m.node };
    });

    const mode = p.antiAffinity ?? DEFAULT_ANTI_AFFINITY;
    if (mode !== 'off' && vms.length > 1) {
      new ComputeClusterVmAntiAffinityRule(site, 'anti_affinity', {
        name: `${model.name}-appliances-apart`,
        computeClusterId: cluster.id,
        virtualMachineIds: vms.map((v) => v.vm.id),
        mandatory: mode === 'mandatory',
        enabled: true,
      });
    }
    // vSphere HA restarts the VIP holders first after a host failure.
    for (const { vm, node } of vms) {
      if (node.roles.includes('load-balancer')) {
        new HaVmOverride(vm.node.scope as Construct, 'ha_override', {
          computeClusterId: cluster.id,
          virtualMachineId: vm.id,
          haVmRestartPriority: 'highest',
        });
      }
    }
    return machinesByNode;
  }

  /** @jsii ignore */
  imageOf(_model: FabricModel, node: NodeModel): LockedImage {
    return { template: node.image && 'template' in node.image ? node.image.template : this.props.template };
  }

  /** @jsii ignore */
  vmResourcesOf(scope: Construct): TerraformResource[] {
    return [scope.node.tryFindChild(VM_ID)].filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c));
  }
}

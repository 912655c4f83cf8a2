import { Ipv4Network } from '../addresses';
import { ProblemCollector } from '../errors';
import { ManagementNetwork, NodeModel, NodeRole, PlatformTraits } from '../fabric-model';
import { ApplianceSpec } from '../fabric-spec';
import { RouterIdAllocator } from '../vrrp-ids';
import type { HighAvailability } from './high-availability';
import { PortRegistry } from './port-registry';
import { VipRegistry } from './vip-registry';

/**
 * What the cluster builders share while one fabric is built. buildFabricModel
 * runs them in a fixed order; a builder fills in the fields its doc names,
 * and the builders after it read them. What is only one cluster's comes
 * back from its own build.
 */
export class BuildContext {
  /** The management network (network.build); undefined when it is unusable, which a problem says. */
  network?: ManagementNetwork;
  /** The management network's addresses (network.build). */
  subnet?: Ipv4Network;
  /** The appliances as listed or as the address plan makes them (appliances.build). */
  appliances: readonly ApplianceSpec[] = [];
  /** One node per appliance, in order, its roles still empty (appliances.build). */
  readonly nodes: NodeModel[] = [];
  /** Index in `nodes` of every appliance whose name is valid and unique: the names a member list may use (appliances.build). */
  readonly nodeIndex = new Map<string, number>();
  /** VRRP settings every VIP shares (high-availability.build). */
  ha!: HighAvailability;
  /** Each cluster's members as given or defaulted (each cluster's build); valid once the build has no problems. */
  readonly members = new Map<NodeRole, readonly string[]>();
  /** The login keys as given (authorized-keys.build). */
  authorizedKeys: readonly string[] = [];

  readonly vips: VipRegistry;
  readonly routerIds: RouterIdAllocator;
  readonly ports = new PortRegistry();

  constructor(readonly fabricName: string, readonly platform: PlatformTraits, problems: ProblemCollector) {
    this.vips = new VipRegistry(problems);
    this.routerIds = new RouterIdAllocator(fabricName, problems);
  }

  /** Every node's name, in order. */
  nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** A node by name; for validated member lists only. */
  node(name: string): NodeModel {
    return this.nodes[this.nodeIndex.get(name)!];
  }

  /** Checks and registers a VIP on the management network, when there is one to check it against. */
  managementVip(where: string, what: string, vip: unknown): void {
    if (this.subnet && this.network) this.vips.vip(where, what, vip, this.subnet, this.network.gateway);
  }
}

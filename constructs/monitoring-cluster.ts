import { MonitoringClusterModel } from '../model/fabric-model';
import { MonitoringSpec } from '../model/fabric-spec';
import { FabricCluster } from './fabric-cluster';
import { IFabric } from './fabric-view';

/** The monitoring cluster's props; each key's default is on MonitoringSpec (no key: monitoring on the load-balancer pair). */
export interface MonitoringClusterProps extends MonitoringSpec {}

/**
 * Fault and performance monitoring: dedicated nodes (a pair has its own
 * VIP), or, without any, the load-balancer pair behind the fabric VIP.
 * Created by `Fabric.addMonitoring` (or the fabric's `monitoring` prop);
 * a fabric given neither gets one with the defaults when it renders.
 */
export class MonitoringCluster extends FabricCluster {
  constructor(
    fabric: IFabric,
    id: string,
    readonly props: MonitoringClusterProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): MonitoringClusterModel {
    return this.fabric.model.monitoring;
  }
  /** @jsii ignore */
  protected get memberNames(): readonly string[] {
    return this.model.members;
  }
  /** Where monitoring clients connect: the pair's VIP, the single node, or the fabric VIP. */
  get address(): string {
    if (this.model.vrrp) return this.model.vrrp.vip;
    return this.model.dedicated ? this.members[0].managementAddress : this.fabric.model.vip;
  }
}

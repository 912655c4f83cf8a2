import { LoadBalancerClusterModel } from '../model/fabric-model';
import { LoadBalancerSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { FabricCluster } from './fabric-cluster';
import { IFabric } from './fabric-view';

/** The load-balancer cluster's props; each key's default is on LoadBalancerSpec. */
export interface LoadBalancerClusterProps extends LoadBalancerSpec {}

/**
 * The load-balancer cluster: two (or more) appliances that hold the fabric
 * VIP with keepalived, one active and the others standby, each running
 * HAProxy over every application server. Every fabric has one, from its
 * `loadBalancer` prop.
 */
export class LoadBalancerCluster extends FabricCluster {
  constructor(
    fabric: IFabric,
    id: string,
    readonly props: LoadBalancerClusterProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): LoadBalancerClusterModel {
    return this.fabric.model.loadBalancer;
  }
  /** @jsii ignore */
  protected get memberNames(): readonly string[] {
    return this.model.members;
  }
  /** The fabric VIP that GUI and NBI clients use. */
  get vip(): string {
    return this.model.vrrp.vip;
  }
  get virtualRouterId(): number {
    return this.model.vrrp.virtualRouterId;
  }
  /** The appliance that holds the VIP first (highest priority). */
  get primary(): Appliance {
    return this.members[0];
  }
}

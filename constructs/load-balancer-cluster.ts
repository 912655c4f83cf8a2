import { Construct } from 'constructs';
import { LoadBalancerClusterModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/**
 * The load-balancer cluster: two (or more) appliances that hold the fabric
 * VIP with keepalived, one active and the others standby, each running
 * HAProxy over every application server.
 */
export class LoadBalancerCluster extends Construct {
  constructor(scope: Construct, id: string, readonly model: LoadBalancerClusterModel, readonly members: Appliance[]) {
    super(scope, id);
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

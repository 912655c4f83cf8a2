import { Construct } from 'constructs';
import { MonitoringClusterModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/**
 * Fault and performance monitoring: dedicated nodes (a pair has its own
 * VIP), or, without any, the load-balancer pair behind the fabric VIP.
 */
export class MonitoringCluster extends Construct {
  constructor(scope: Construct, id: string, readonly model: MonitoringClusterModel, readonly members: Appliance[], private readonly fabricVip: string) {
    super(scope, id);
  }
  /** Where monitoring clients connect: the pair's VIP, the single node, or the fabric VIP. */
  get address(): string {
    if (this.model.vrrp) return this.model.vrrp.vip;
    return this.model.dedicated ? this.members[0].managementAddress : this.fabricVip;
  }
}

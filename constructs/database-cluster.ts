import { Construct } from 'constructs';
import { DatabaseClusterModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/**
 * The database cluster: MariaDB primary and standby with GTID replication;
 * the primary holds the database VIP, and the standby is promoted when it
 * takes the VIP over.
 */
export class DatabaseCluster extends Construct {
  constructor(scope: Construct, id: string, readonly model: DatabaseClusterModel, readonly members: Appliance[]) {
    super(scope, id);
  }
  /** The address application servers use. */
  get vip(): string {
    return this.model.vrrp.vip;
  }
  get port(): number {
    return this.model.port;
  }
  get primary(): Appliance {
    return this.members[0];
  }
  get standby(): Appliance {
    return this.members[1];
  }
}

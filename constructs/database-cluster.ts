import { DatabaseClusterModel } from '../model/fabric-model';
import { DatabaseSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { FabricCluster } from './fabric-cluster';
import { IFabric } from './fabric-view';

/** The database cluster's props: `vip` is required; each other key's default is on DatabaseSpec. */
export interface DatabaseClusterProps extends DatabaseSpec {}

/**
 * The database cluster: MariaDB primary and standby with GTID replication;
 * the primary holds the database VIP, and the standby is promoted when it
 * takes the VIP over. Created by `Fabric.addDatabase` (or the fabric's
 * `database` prop).
 */
export class DatabaseCluster extends FabricCluster {
  constructor(
    fabric: IFabric,
    id: string,
    readonly props: DatabaseClusterProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): DatabaseClusterModel {
    return this.fabric.model.database!;
  }
  /** @jsii ignore */
  protected get memberNames(): readonly string[] {
    return this.model.members;
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

import { CassandraClusterModel } from '../model/fabric-model';
import { CassandraSpec } from '../model/fabric-spec';
import { Appliance } from './appliance';
import { FabricCluster } from './fabric-cluster';
import { IFabric } from './fabric-view';

/** The Cassandra cluster's props: `members` is required; each other key's default is on CassandraSpec. */
export interface CassandraClusterProps extends CassandraSpec {}

/**
 * The Cassandra cluster (file storage): no VIP, the drivers fail over
 * between members. Created by `Fabric.addCassandra` (or the fabric's
 * `cassandra` prop).
 */
export class CassandraCluster extends FabricCluster {
  constructor(
    fabric: IFabric,
    id: string,
    readonly props: CassandraClusterProps,
  ) {
    super(fabric, id);
  }
  /**
   * Its part of the fabric model; reading it renders the fabric.
   * @jsii ignore
   */
  get model(): CassandraClusterModel {
    return this.fabric.model.cassandra!;
  }
  /** @jsii ignore */
  protected get memberNames(): readonly string[] {
    return this.model.members;
  }
  get seeds(): Appliance[] {
    return this.members.filter((m) => this.model.seeds.includes(m.name));
  }
}

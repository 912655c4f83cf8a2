import { Construct } from 'constructs';
import { CassandraClusterModel } from '../model/fabric-model';
import { Appliance } from './appliance';

/** The Cassandra cluster (file storage): no VIP, the drivers fail over between members. */
export class CassandraCluster extends Construct {
  constructor(scope: Construct, id: string, readonly model: CassandraClusterModel, readonly members: Appliance[]) {
    super(scope, id);
  }
  get seeds(): Appliance[] {
    return this.members.filter((m) => this.model.seeds.includes(m.name));
  }
}

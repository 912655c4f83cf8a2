import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { CassandraClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { checkHttpsUrl, checkSafeName } from '../safe-strings';
import { checkMembers } from './checks';
import { BuildContext } from './context';

/** The Cassandra cluster, derived once the whole fabric is valid. */
export interface CassandraDraft {
  model(): CassandraClusterModel;
}

/** The Cassandra ring, when the fabric has one: sets the cluster's members. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): CassandraDraft | undefined {
  const cassandra = spec.cassandra;
  if (cassandra === undefined) return undefined;
  checkMembers('cassandra.members', 'Cassandra cluster', cassandra.members, context.nodeIndex, problems);
  const members = Array.isArray(cassandra.members) ? cassandra.members : [];
  if (members.length < 2) {
    problems.add('cassandra.members', `Cassandra is enabled with ${members.length} member(s)`, 'name at least two appliances in cassandra.members, or leave cassandra out');
  } else if (members.length > 8) {
    problems.add('cassandra.members', `Cassandra has ${members.length} members`, 'run Cassandra on at most 8 appliances, as the original supports');
  }
  const seeds = cassandra.seeds ?? members.slice(0, members.length >= 5 ? 3 : 2);
  // Written into cassandra.yaml, cassandra-rackdc.properties and the root installer script.
  if (cassandra.clusterName !== undefined) checkSafeName(cassandra.clusterName, 'cassandra.clusterName', 'Cassandra cluster name', problems);
  if (cassandra.datacenter !== undefined) checkSafeName(cassandra.datacenter, 'cassandra.datacenter', 'Cassandra datacenter', problems);
  const apt = cassandra.aptSource;
  if (apt?.url !== undefined) checkHttpsUrl(apt.url, 'cassandra.aptSource.url', 'Cassandra repository URL', problems);
  if (apt?.keyUrl !== undefined) checkHttpsUrl(apt.keyUrl, 'cassandra.aptSource.keyUrl', 'Cassandra signing key URL', problems);
  if (apt?.suite !== undefined) checkSafeName(apt.suite, 'cassandra.aptSource.suite', 'Cassandra repository suite', problems);
  seeds.forEach((s, i) => {
    if (!members.includes(s)) problems.add(`cassandra.seeds[${i}]`, `seed '${s}' is not a member of the Cassandra cluster`, `choose seeds among ${members.join(', ')}`);
  });
  context.members.set('cassandra', cassandra.members);

  return {
    model: () => ({
      members: cassandra.members,
      seeds,
      clusterName: cassandra.clusterName ?? spec.name,
      datacenter: cassandra.datacenter ?? spec.name,
      aptSource: {
        url: apt?.url ?? D.DEFAULT_CASSANDRA_APT_URL,
        suite: apt?.suite ?? D.DEFAULT_CASSANDRA_APT_SUITE,
        keyUrl: apt?.keyUrl ?? D.DEFAULT_CASSANDRA_APT_KEY_URL,
      },
    }),
  };
}

import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { DatabaseClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { isDnsLabel } from '../identifiers';
import { checkMembers } from './checks';
import { BuildContext } from './context';
import { managementVrrpInstance } from './high-availability';

/** The database cluster, derived once the whole fabric is valid. */
export interface DatabaseDraft {
  model(): DatabaseClusterModel;
}

/** The database pair and its VIP, when the fabric has a database: sets the cluster's members, claims its port. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): DatabaseDraft | undefined {
  const db = spec.database;
  if (db === undefined) return undefined;
  const members = db.members ?? context.nodeNames().slice(0, 2);
  checkMembers('database.members', 'database cluster', members, context.nodeIndex, problems);
  if (Array.isArray(members) && members.length !== 2) {
    problems.add('database.members', `the database cluster has ${members.length} node(s) [${members.join(', ')}]`, 'name exactly two appliances: a primary and its standby');
  }
  context.managementVip('database.vip', 'database VIP', db.vip);
  const routerId = context.routerIds.request('management', 'database.virtualRouterId', 'the database VIP', db.virtualRouterId);
  const databaseName = db.databaseName ?? D.DEFAULT_DATABASE_NAME;
  if (!isDnsLabel(databaseName.replace(/_/g, '-'))) {
    problems.add('database.databaseName', `database name '${db.databaseName}' is not a plain identifier`, "use lower-case letters, digits and '_'");
  }
  const passwordGeneration = db.passwordGeneration ?? D.DEFAULT_DATABASE_PASSWORD_GENERATION;
  if (!Number.isInteger(passwordGeneration) || passwordGeneration < 0 || passwordGeneration > D.MAX_DATABASE_PASSWORD_GENERATION) {
    problems.add(
      'database.passwordGeneration',
      `password generation ${JSON.stringify(db.passwordGeneration)} is not a whole number from 0 to ${D.MAX_DATABASE_PASSWORD_GENERATION}`,
      'give the generation the fabric runs at, raised by one for each rotation (0 for a new fabric)',
    );
  }
  const port = db.port ?? D.DEFAULT_DATABASE_PORT;
  context.ports.claim('database.port', port);
  context.members.set('database', members);

  return {
    model: () => ({
      members: [members[0], members[1]],
      // Database nodes never preempt: a returning node may hold stale data.
      vrrp: managementVrrpInstance(context, { name: 'database_vip', vip: db.vip, virtualRouterId: routerId.id, members, purpose: 'database', preempt: false }),
      port,
      // By place in the cluster, not in the fabric: removing another appliance must not change a running server's id.
      serverIds: Object.fromEntries(members.map((m, i) => [m, i + 1])),
      databaseName,
      replicationUser: 'fabric_repl',
      applicationUser: 'fabric_app',
      passwordGeneration,
      dedicated: !members.some((m) => context.members.get('application-server')!.includes(m)),
    }),
  };
}

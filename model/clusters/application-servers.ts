import { ProblemCollector } from '../errors';
import { ApplicationServerClusterModel, ApplicationService } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { checkMembers } from './checks';
import { BuildContext } from './context';

/** The application-server cluster; `model` adds its service (services.ts). */
export interface ApplicationServersDraft {
  model(service: ApplicationService): ApplicationServerClusterModel;
}

/** The application-server cluster: every node but the dedicated monitoring ones unless named; sets the cluster's members. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): ApplicationServersDraft {
  const appSpec = spec.applicationServers ?? {};
  const monitoring = context.members.get('monitoring');
  const dedicatedMonitoring = new Set(Array.isArray(monitoring) ? monitoring : []);
  const members = appSpec.members ?? context.nodeNames().filter((n) => !dedicatedMonitoring.has(n));
  checkMembers('applicationServers.members', 'application-server cluster', members, context.nodeIndex, problems);
  if (Array.isArray(members) && members.length < 1) {
    problems.add('applicationServers.members', 'the application-server cluster is empty', 'name at least one appliance, or leave members out to use every appliance');
  }
  if (Array.isArray(members)) {
    members.filter((m) => dedicatedMonitoring.has(m)).forEach((m) => {
      problems.add('applicationServers.members', `'${m}' is a dedicated monitoring node and cannot also be an application server`, 'remove it from applicationServers.members or from monitoring.members');
    });
  }
  context.members.set('application-server', members);
  return { model: (service) => ({ members, service }) };
}

import { ProblemCollector } from '../errors';
import { ApplicationService, MonitoringClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { checkMembers } from './checks';
import { BuildContext } from './context';
import { managementVrrpInstance } from './high-availability';

/** The monitoring cluster; `model` adds its service (services.ts). */
export interface MonitoringDraft {
  model(service: ApplicationService): MonitoringClusterModel;
}

/** Dedicated monitoring nodes, at most a pair with its own VIP: sets the cluster's members (the dedicated nodes only). */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): MonitoringDraft {
  const mon = spec.monitoring ?? {};
  const members = mon.members ?? [];
  checkMembers('monitoring.members', 'monitoring cluster', members, context.nodeIndex, problems);
  if (Array.isArray(members) && members.length > 2) {
    problems.add('monitoring.members', `the monitoring cluster has ${members.length} nodes [${members.join(', ')}]`, 'name zero, one or two dedicated monitoring appliances');
  }
  if (Array.isArray(members) && members.length === 2 && mon.vip === undefined) {
    problems.add('monitoring.vip', 'two monitoring nodes form a pair but no monitoring VIP is given', 'give monitoring.vip, an address in the management network that no node uses');
  }
  if (Array.isArray(members) && members.length < 2 && mon.vip !== undefined) {
    problems.add('monitoring.vip', `a monitoring VIP '${String(mon.vip)}' is given but the monitoring cluster has ${members.length} dedicated node(s)`, 'name two monitoring appliances, or leave the VIP out');
  }
  if (mon.vip !== undefined) context.managementVip('monitoring.vip', 'monitoring VIP', mon.vip);
  const routerId = Array.isArray(members) && members.length === 2 ? context.routerIds.request('management', 'monitoring.virtualRouterId', 'the monitoring VIP', mon.virtualRouterId) : undefined;
  context.members.set('monitoring', members);

  return {
    model: (service) => ({
      // Without dedicated nodes, monitoring runs on the load-balancer pair.
      members: members.length > 0 ? members : context.members.get('load-balancer')!,
      dedicated: members.length > 0,
      vrrp: routerId ? managementVrrpInstance(context, { name: 'monitoring_vip', vip: mon.vip!, virtualRouterId: routerId.id, members, purpose: 'monitoring' }) : undefined,
      service,
    }),
  };
}

import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { LoadBalancerClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { checkMembers } from './checks';
import { BuildContext } from './context';
import { managementVrrpInstance } from './high-availability';
import type { ProxySettings } from './load-balancer-proxy';

const HAPROXY_HEALTH_PORT = 8405;

/** The load-balancer cluster; `model` adds how HAProxy handles requests (load-balancer-proxy.ts). */
export interface LoadBalancerDraft {
  model(proxy: ProxySettings): LoadBalancerClusterModel;
}

/** The load-balancer cluster, the fabric VIP and HAProxy's listeners: sets the cluster's members, claims its ports. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): LoadBalancerDraft {
  const { topPriority, priorityStep } = context.ha;
  const lb = spec.loadBalancer ?? {};
  const members = lb.members ?? context.nodeNames().slice(0, 2);
  checkMembers('loadBalancer.members', 'load-balancer cluster', members, context.nodeIndex, problems);
  // The load-balancer cluster is the largest VRRP cluster (database and monitoring have at most two members).
  const vrrpMembers = Math.max(Array.isArray(members) ? members.length : 0, 2);
  if (Number.isInteger(topPriority) && Number.isInteger(priorityStep) && topPriority - (vrrpMembers - 1) * priorityStep < 1) {
    problems.add('highAvailability.priorityStep', `a step of ${priorityStep} from priority ${topPriority} leaves the last of ${vrrpMembers} VRRP members at ${topPriority - (vrrpMembers - 1) * priorityStep}`, `use a step of at most ${Math.floor((topPriority - 1) / (vrrpMembers - 1))}, or a higher topPriority`);
  }
  if (Array.isArray(members) && members.length < 2) {
    problems.add('loadBalancer.members', `the load-balancer cluster has ${members.length} node(s) [${members.join(', ')}] but holding the VIP highly available needs 2`, 'add appliances to the fabric (or name two in loadBalancer.members)');
  }
  context.managementVip('vip', 'fabric VIP', spec.vip);
  const routerId = context.routerIds.request('management', 'loadBalancer.virtualRouterId', 'the fabric VIP', lb.virtualRouterId);
  context.members.set('load-balancer', members);

  const guiPort = lb.guiPort ?? D.DEFAULT_GUI_PORT;
  const nbiPorts = lb.nbiPorts ?? [...D.DEFAULT_NBI_PORTS];
  const statsPort = lb.statsPort ?? D.DEFAULT_STATS_PORT;
  context.ports.reserve(HAPROXY_HEALTH_PORT, 'the HAProxy health endpoint');
  context.ports.claim('loadBalancer.guiPort', guiPort);
  nbiPorts.forEach((p, i) => context.ports.claim(`loadBalancer.nbiPorts[${i}]`, p));
  context.ports.claim('loadBalancer.statsPort', statsPort);

  return {
    model: (proxy) => ({
      members,
      vrrp: managementVrrpInstance(context, { name: 'fabric_vip', vip: spec.vip, virtualRouterId: routerId.id, members, purpose: 'fabric' }),
      guiPort,
      nbiPorts,
      statsPort,
      healthPort: HAPROXY_HEALTH_PORT,
      ...proxy,
    }),
  };
}

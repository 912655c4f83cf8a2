import { ProblemCollector } from '../../../model/errors';
import { FabricModel } from '../../../model/fabric-model';

/**
 * Placement of appliances on KVM hosts. Pure: plain data in, plain data
 * out, no construct. libvirt has no DRS, so keeping the members of a
 * highly available pair on different hosts is decided here, at synth time.
 */

/** What placement needs to know about one appliance. */
export interface PlacementNode {
  readonly name: string;
  /** Position in the fabric's `appliances` list. */
  readonly index: number;
  /** Host the operator chose, if any. */
  readonly host?: string;
}

/** Appliances that must be spread over the hosts, so one host failure cannot take down all of them. */
export interface SeparatedGroup {
  /** What the group is, for messages, e.g. `load-balancer cluster`. */
  readonly cluster: string;
  readonly members: readonly string[];
}

/**
 * The groups the model names that must not share a host: every pair that
 * holds a VIP (load balancers, database, monitoring).
 */
export function separatedGroupsOf(model: FabricModel): SeparatedGroup[] {
  return [
    { cluster: 'load-balancer cluster', members: model.loadBalancer.members },
    ...(model.database ? [{ cluster: 'database cluster', members: model.database.members }] : []),
    ...(model.monitoring.vrrp ? [{ cluster: 'monitoring cluster', members: model.monitoring.members }] : []),
  ];
}

/**
 * The most members of a group one host may hold: spread evenly, so for a
 * pair on two or more hosts one each, and everything on a single host.
 */
export function maxMembersPerHost(groupSize: number, hostCount: number): number {
  return Math.ceil(groupSize / Math.max(hostCount, 1));
}

/**
 * Assigns every appliance to a host. Explicit hosts are kept; the others are
 * assigned in node order to the host holding the fewest members of their
 * groups, then the fewest appliances, then the first in `hosts` order (round
 * robin when nothing is pinned). The result depends only on node order and
 * explicit hosts: appending an appliance without a host moves no other one.
 * Problems (unknown host, a group crowded onto one host) go to `problems`,
 * with paths relative to the fabric.
 */
export function placeAppliances(
  nodes: readonly PlacementNode[],
  hosts: readonly string[],
  groups: readonly SeparatedGroup[],
  problems: ProblemCollector,
): Map<string, string> {
  const placement = new Map<string, string>();
  const explicit = new Set<string>();
  const load = new Map<string, number>(hosts.map((h) => [h, 0]));
  const place = (node: string, host: string) => {
    placement.set(node, host);
    load.set(host, load.get(host)! + 1);
  };

  for (const node of nodes) {
    if (node.host === undefined) continue;
    if (!load.has(node.host)) {
      problems.add(
        `appliances[${node.index}].host`,
        `appliance '${node.name}' names host '${String(node.host)}', which is not one of the platform's hosts`,
        hosts.length > 0 ? `use one of: ${hosts.join(', ')} (the names under hosts), or leave host out` : 'add the host under the platform hosts',
      );
      continue;
    }
    explicit.add(node.name);
    place(node.name, node.host);
  }

  const groupsOf = (node: string) => groups.filter((g) => g.members.includes(node));
  const membersOn = (group: SeparatedGroup, host: string) => group.members.filter((m) => placement.get(m) === host).length;
  for (const node of nodes) {
    if (node.host !== undefined || hosts.length === 0) continue;
    const mine = groupsOf(node.name);
    let best = hosts[0];
    let bestScore = [Infinity, Infinity];
    for (const host of hosts) {
      const score = [mine.reduce((sum, g) => sum + membersOn(g, host), 0), load.get(host)!];
      if (score[0] < bestScore[0] || (score[0] === bestScore[0] && score[1] < bestScore[1])) {
        best = host;
        bestScore = score;
      }
    }
    place(node.name, best);
  }

  checkSeparation(nodes, hosts, groups, placement, explicit, problems);
  return placement;
}

function checkSeparation(
  nodes: readonly PlacementNode[],
  hosts: readonly string[],
  groups: readonly SeparatedGroup[],
  placement: Map<string, string>,
  explicit: Set<string>,
  problems: ProblemCollector,
): void {
  const indexOf = new Map(nodes.map((n) => [n.name, n.index]));
  for (const group of groups) {
    const limit = maxMembersPerHost(group.members.length, hosts.length);
    for (const host of hosts) {
      const here = group.members.filter((m) => placement.get(m) === host);
      if (here.length <= limit) continue;
      const others = hosts.filter((h) => h !== host && group.members.filter((m) => placement.get(m) === h).length < limit);
      // Move the last member that was pinned here; automatic placement never crowds a host by itself.
      const pinned = here.filter((m) => explicit.has(m));
      const move = pinned[pinned.length - 1] ?? here[here.length - 1];
      const names = here.map((m) => `'${m}'`);
      const members = names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
      const crowd = here.length === 2 ? 'both' : `all ${here.length}`;
      const elsewhere = others.length > 0 ? others : hosts.filter((h) => h !== host);
      const consequence =
        here.length === group.members.length
          ? `losing '${host}' would take the whole cluster down`
          : `with ${hosts.length} hosts at most ${limit} of its ${group.members.length} members may share one`;
      problems.add(
        `appliances[${indexOf.get(move)}].host`,
        `appliances ${members} of the ${group.cluster} are ${crowd} placed on host '${host}' although host${elsewhere.length === 1 ? '' : 's'} ${elsewhere.map((h) => `'${h}'`).join(', ')} exist${elsewhere.length === 1 ? 's' : ''}: ${consequence}`,
        `place '${move}' on ${elsewhere.length === 1 ? `'${elsewhere[0]}'` : `one of ${elsewhere.map((h) => `'${h}'`).join(', ')}`}, or leave its host out so the platform keeps the ${group.cluster} apart`,
      );
    }
  }
}

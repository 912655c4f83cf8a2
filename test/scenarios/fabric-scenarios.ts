import { serviceUnitName } from '../../cloud-init/application-service';
import { applicationReadyUrl } from '../../cloud-init/apply-bundle-agent';
import { FIREWALL_TABLE } from '../../cloud-init/firewall';
import { HAPROXY_UNIT } from '../../cloud-init/haproxy';
import { KEEPALIVED_UNIT, vrrpStateFile } from '../../cloud-init/keepalived';
import { WATCHDOG_SYSLOG_TAG } from '../../cloud-init/node-paths';
import type { VrrpInstance } from '../../model/fabric-model';
import { describeDisruption, SamplerSummary } from '../../e2e/lib/disruption-sampler';
import { firstSuccess, sleep, tryShAsync, waitFor } from '../../e2e/lib/host-commands';
import { VipMoveWatch } from '../../e2e/lib/vip-watch';
import { median as medianOf } from '../harness/exec';
import { FabricUnderTest, NodeCommandResult, ScenarioResult } from './fabric-under-test';

/**
 * The failure scenarios both tiers run from this one definition: the
 * namespace harness (test/failover/shared-scenarios.test.ts) and the VM tier
 * (e2e/run-e2e.ts). Each acts on the fabric only through FabricUnderTest,
 * takes every name, port and unit from the model, asks for positive
 * evidence (an HTTP 2xx from a named application server that is up, a VIP
 * holder that has the address), is bounded in time and in count, and
 * judges itself: a result passes when its `problems` are empty. Figures a
 * tier holds itself to (a faster recovery in namespaces than under TCG) are
 * that tier's own assertions on the result.
 */

/** Each request that times a recovery after a fault has this deadline, as the disruption samplers' samples do. */
export const AFTER_FAULT_DEADLINE_S = 2;

// ---- what the client sees ---------------------------------------------------

/** A command in the client's namespace, bounded by `timeoutMs`. */
function fromClient(fut: FabricUnderTest, timeoutMs: number, ...argv: string[]): Promise<{ ok: boolean; out: string }> {
  return tryShAsync('ip', ['netns', 'exec', fut.clientNamespace, ...argv], timeoutMs);
}

/** One GET from the client (curl -f: an HTTP error is a failure); the body names the node that answered. */
export async function clientGet(fut: FabricUnderTest, url: string, timeoutS: number): Promise<{ ok: boolean; body: string; seconds: number }> {
  const t0 = Date.now();
  const r = await fromClient(fut, (timeoutS + 2) * 1000, 'curl', '-sfk', '--max-time', String(timeoutS), url);
  return { ok: r.ok, body: r.out.trim(), seconds: (Date.now() - t0) / 1000 };
}

/** A GET through the fabric VIP; `node` is set only when an application server that is up answered 2xx with its name. */
export async function fabricAnswer(fut: FabricUnderTest, timeoutS = 1): Promise<{ ok: boolean; body: string; seconds: number; node?: string }> {
  const r = await clientGet(fut, `https://${fut.model.vip}/`, timeoutS);
  const node = r.ok && fut.model.applicationServers.members.includes(r.body) && fut.isUp(r.body) ? r.body : undefined;
  return { ...r, node };
}

/** After a fault: a request with the samplers' deadline is answered by a running application server. */
export const fabricServes = async (fut: FabricUnderTest) => (await fabricAnswer(fut, AFTER_FAULT_DEADLINE_S)).node !== undefined;

/** A ping of the device VIP on the device network, from the client's interface there. */
export async function deviceAnswers(fut: FabricUnderTest, deadlineS: number): Promise<boolean> {
  const vip = fut.model.deviceNetwork?.vrrp?.vip;
  if (!vip || !fut.clientDeviceInterface) return false;
  return (await fromClient(fut, (deadlineS + 3) * 1000, 'ping', '-c', '1', '-W', String(deadlineS), '-I', fut.clientDeviceInterface, vip)).ok;
}

/** A TCP connect from the client, bounded to 2 s: a dropped SYN gets no answer, a closed port a refusal. */
async function connect(fut: FabricUnderTest, host: string, port: number): Promise<string> {
  const r = await fromClient(fut, 8000, 'bash', '-c', `timeout 2 bash -c 'exec 3<> /dev/tcp/${host}/${port}' 2> /dev/null; echo "rc=$?"`);
  const rc = /rc=(\d+)/.exec(r.out)?.[1];
  return rc === '0' ? 'connected' : rc === '124' ? 'no answer' : `refused (${rc ?? r.out.trim()})`;
}

// ---- what a node says --------------------------------------------------------

/** exec that reads a node which cannot answer as a failed command instead of throwing. */
const tryExec = (fut: FabricUnderTest, node: string, command: string, timeoutMs = 10_000): Promise<NodeCommandResult> =>
  fut.exec(node, command, timeoutMs).catch((err: Error) => ({ exitCode: -1, stdout: err.message }));

/** The node holding `address`; throws (naming every holder) unless exactly one does. */
async function soleHolder(fut: FabricUnderTest, address: string, what: string): Promise<string> {
  const holders = await fut.holders(address);
  if (holders.length !== 1) throw new Error(`${what} ${address} held by [${holders.join(', ')}], not by exactly one node`);
  return holders[0];
}

/** The VRRP instances of the fabric, with what each is for. */
function vrrpInstances(fut: FabricUnderTest): VrrpInstance[] {
  const m = fut.model;
  return [m.loadBalancer.vrrp, m.database?.vrrp, m.monitoring.dedicated ? m.monitoring.vrrp : undefined, m.deviceNetwork?.vrrp].filter((v): v is VrrpInstance => v !== undefined);
}

/** The units that make a node a working member of the fabric again after it returns. */
export function memberUnits(fut: FabricUnderTest, node: string): string[] {
  const m = fut.model;
  return [KEEPALIVED_UNIT, ...(m.loadBalancer.members.includes(node) ? [HAPROXY_UNIT] : []), ...(m.applicationServers.members.includes(node) ? [serviceUnitName(m.applicationServers.service)] : [])];
}

/** The application service's main PID on `node` (0: none); throws when systemctl cannot tell. */
async function applicationPid(fut: FabricUnderTest, node: string): Promise<number> {
  const unit = serviceUnitName(fut.model.applicationServers.service);
  const r = await fut.exec(node, `systemctl show -p MainPID --value ${unit}`, 10_000);
  const pid = Number(r.stdout.trim());
  if (r.exitCode !== 0 || !Number.isInteger(pid)) throw new Error(`${node}: systemctl show -p MainPID ${unit} exited ${r.exitCode}: ${r.stdout.trim()}`);
  return pid;
}

/** Whether the application service on `node` passes its own health check, asked on the node (the firewall lets only the balancers in). */
async function applicationHealthy(fut: FabricUnderTest, node: string): Promise<boolean> {
  const service = fut.model.applicationServers.service;
  const nodeModel = fut.model.nodes.find((n) => n.name === node)!;
  // The URL the node's own agent waits for after a restart; a check that is not HTTP: a TCP connect to the service.
  const url = applicationReadyUrl(fut.model, nodeModel);
  const probe = url ? `curl -fsS --max-time 1 -o /dev/null ${url}` : `timeout 1 bash -c 'exec 3<> /dev/tcp/${nodeModel.managementAddress}/${service.port}'`;
  return (await tryExec(fut, node, probe)).exitCode === 0;
}

/** Waits until the application service runs under a main PID other than `old` and is healthy: seconds since `since`, or undefined. */
async function applicationRestarted(fut: FabricUnderTest, node: string, old: number, since: number, timeoutMs: number, pollMs: number): Promise<{ seconds?: number; newPid: number }> {
  let newPid = 0;
  const seconds = await waitFor(async () => {
    newPid = await applicationPid(fut, node).catch(() => 0);
    return newPid > 0 && newPid !== old && (await applicationHealthy(fut, node));
  }, timeoutMs, pollMs, since);
  return { seconds, newPid };
}

/** The application server the service faults hit unless told: the last one (a balancer only when every server is one). */
export function serviceFaultNode(fut: FabricUnderTest): string {
  const { applicationServers, loadBalancer } = fut.model;
  return [...applicationServers.members].reverse().find((n) => !loadBalancer.members.includes(n)) ?? applicationServers.members[applicationServers.members.length - 1];
}

const result = (r: Omit<ScenarioResult, 'problems'>, problems: readonly (string | false | undefined)[]): ScenarioResult => ({
  ...r,
  problems: problems.filter((p): p is string => typeof p === 'string'),
});

const list = (names: readonly string[]) => `[${names.join(', ')}]`;

// ---- 1. balancing -------------------------------------------------------------

export interface BalancingOptions {
  /** GETs without a cookie after every server has answered once. @default 30 */
  readonly requests?: number;
  /** How far each server's share may be from an even one. @default 2 */
  readonly tolerance?: number;
}

/**
 * Balancing over every application server: each one answers through the
 * VIP first (it is in rotation), then every one of `requests` GETs without a
 * cookie must be answered, with even shares (round robin).
 */
export async function balancing(fut: FabricUnderTest, options: BalancingOptions = {}): Promise<ScenarioResult> {
  const requests = options.requests ?? 30;
  const tolerance = options.tolerance ?? 2;
  const servers = fut.model.applicationServers.members;
  const seen = new Set<string>();
  await waitFor(async () => {
    const a = await fabricAnswer(fut, 2);
    if (a.node) seen.add(a.node);
    return servers.every((n) => seen.has(n));
  }, 60_000, 200);
  const served = new Map<string, number>();
  let failed = 0;
  let slowest = 0;
  for (let i = 0; i < requests; i++) {
    const a = await fabricAnswer(fut, 2);
    slowest = Math.max(slowest, a.seconds);
    if (a.node) served.set(a.node, (served.get(a.node) ?? 0) + 1);
    else failed++;
  }
  const share = requests / servers.length;
  const uneven = servers.filter((n) => Math.abs((served.get(n) ?? 0) - share) > tolerance);
  return result(
    {
      id: 'balancing',
      title: 'balancing over every application server',
      detail: `${servers.map((n) => `${n}:${served.get(n) ?? 0}`).join(' ')} of ${requests} GETs (each within ±${tolerance} of ${share.toFixed(1)} required)`,
      total: requests,
      failed,
      max_latency_s: slowest,
    },
    [
      servers.some((n) => !seen.has(n)) && `${list(servers.filter((n) => !seen.has(n)))} never answered through the VIP within 60 s`,
      failed > 0 && `${failed} of ${requests} GETs were not answered 2xx by an application server`,
      uneven.length > 0 && `the shares of ${list(uneven)} are not within ±${tolerance} of ${share.toFixed(1)}`,
    ],
  );
}

// ---- 2. the host firewall -------------------------------------------------------

/**
 * The host firewall is loaded on every node with input dropped by default;
 * it drops what the client may not reach (an application server's own
 * port: only the balancers may) and lets an operator network in (the
 * client is in the management network, the shipped adminCidrs: a
 * balancer's stats port).
 */
export async function firewall(fut: FabricUnderTest): Promise<ScenarioResult> {
  const m = fut.model;
  const up = m.nodes.map((n) => n.name).filter((n) => fut.isUp(n));
  const tables = await Promise.all(up.map(async (node) => ({ node, loaded: await tryExec(fut, node, `nft list table ${FIREWALL_TABLE}`, 20_000).then((r) => r.exitCode === 0 && /policy drop;/.test(r.stdout)) })));
  const appOnly = m.applicationServers.members.find((n) => !m.loadBalancer.members.includes(n)) ?? m.applicationServers.members[0];
  const address = (node: string) => m.nodes.find((n) => n.name === node)!.managementAddress;
  const appPort = m.applicationServers.service.port;
  const balancer = m.loadBalancer.members[0];
  const dropped = await connect(fut, address(appOnly), appPort);
  const stats = await connect(fut, address(balancer), m.loadBalancer.statsPort);
  const missing = tables.filter((t) => !t.loaded).map((t) => t.node);
  return result(
    {
      id: 'firewall',
      title: 'every node drops what the client may not reach',
      detail: `ruleset ${FIREWALL_TABLE} loaded with input policy drop on ${list(tables.filter((t) => t.loaded).map((t) => t.node))}; the client to ${appOnly}:${appPort} (balancers only): ${dropped}; to ${balancer}:${m.loadBalancer.statsPort} (operator networks): ${stats}`,
    },
    [
      !m.firewall.enabled && 'the fabric has its firewall disabled',
      missing.length > 0 && `no ruleset with input policy drop on ${list(missing)}`,
      dropped !== 'no answer' && `the client's connect to ${appOnly}:${appPort} was ${dropped}, not dropped`,
      stats !== 'connected' && `the client's connect to the stats port ${balancer}:${m.loadBalancer.statsPort} was ${stats}, not connected`,
    ],
  );
}

// ---- 3. the application service dies or hangs ---------------------------------------

/** The application service is killed (SIGKILL of its main process): its unit's Restart= brings it back under a new PID, healthy. */
export async function applicationKilled(fut: FabricUnderTest, node = serviceFaultNode(fut)): Promise<ScenarioResult> {
  const unit = serviceUnitName(fut.model.applicationServers.service);
  await waitFor(async () => (await tryExec(fut, node, 'true')).exitCode === 0, 60_000, 1000);
  const pid = await applicationPid(fut, node);
  if (pid <= 0) throw new Error(`${unit} on ${node} has no main process before the kill`);
  const killed = await fut.exec(node, `kill -KILL ${pid}`);
  if (killed.exitCode !== 0) throw new Error(`kill -KILL ${pid} on ${node} exited ${killed.exitCode}: ${killed.stdout.trim()}`);
  const { seconds, newPid } = await applicationRestarted(fut, node, pid, Date.now(), 60_000, 200);
  return result(
    { id: 'app-kill', title: `killed application service on ${node} restarted`, seconds, detail: `kill -KILL of ${unit}'s main PID ${pid} on the node; healthy again with main PID ${newPid || 'none'}` },
    [seconds === undefined && `${unit} was not healthy under a new main PID within 60 s`],
  );
}

/**
 * The application service hangs (SIGSTOP of its processes): it does not
 * exit, so systemd sees nothing; the fabric watchdog's probes notice and
 * restart it, and log that they did.
 */
export async function applicationHung(fut: FabricUnderTest, node = serviceFaultNode(fut)): Promise<ScenarioResult> {
  const unit = serviceUnitName(fut.model.applicationServers.service);
  const restartsLogged = async () => (await fut.journal(node, WATCHDOG_SYSLOG_TAG)).filter((line) => line.includes(`restarting ${unit}`)).length;
  const before = await restartsLogged();
  const hungPid = await applicationPid(fut, node);
  if (hungPid <= 0) throw new Error(`${unit} on ${node} has no main process to hang`);
  const stopped = await fut.exec(node, `systemctl kill --signal=SIGSTOP ${unit}`);
  if (stopped.exitCode !== 0) throw new Error(`systemctl kill --signal=SIGSTOP ${unit} on ${node} exited ${stopped.exitCode}: ${stopped.stdout.trim()}`);
  const { seconds, newPid } = await applicationRestarted(fut, node, hungPid, Date.now(), 180_000, 500);
  const restarts = (await restartsLogged()) - before;
  return result(
    {
      id: 'app-hang',
      title: `hung application service on ${node} restarted by the watchdog`,
      seconds,
      detail: `SIGSTOP of ${unit} on the node; healthy again with main PID ${newPid || 'none'} (was ${hungPid}); watchdog restarts logged since the fault: ${restarts} (probes every ${fut.model.watchdog.probeIntervalSeconds} s)`,
    },
    [seconds === undefined && `${unit} was not healthy under a new main PID within 180 s`, restarts === 0 && `the watchdog (${WATCHDOG_SYSLOG_TAG}) logged no restart of ${unit}`],
  );
}

// ---- 4. the VIP holder stalls ---------------------------------------------------------

/**
 * The fabric VIP holder stalls for `pauseMs` (a hypervisor pause),
 * shorter than the master-down interval: the VIP must stay where it is and
 * no sample of any frontend may fail.
 */
export async function holderPause(fut: FabricUnderTest, pauseMs = 300): Promise<ScenarioResult> {
  const vip = fut.model.vip;
  const holder = await soleHolder(fut, vip, 'fabric VIP');
  const watch = new VipMoveWatch(fut.clientNamespace, vip);
  watch.start();
  const sampler = fut.sampler(120_000);
  let stood = 0;
  let disruption: SamplerSummary[];
  let moves: ReturnType<VipMoveWatch['stop']>;
  try {
    await sleep(3000);
    stood = await fut.stall(holder, pauseMs);
    await sleep(8000);
  } finally {
    disruption = await sampler.stop();
    moves = watch.stop();
  }
  const after = await fut.holders(vip);
  const failed = disruption.reduce((n, d) => n + d.failed, 0);
  return result(
    {
      id: 'holder-pause',
      title: `VIP holder ${holder} stalled for ${pauseMs} ms`,
      detail: `stood ${stood} ms; VIP moves ${moves.moves}; held by ${list(after)} after; ${describeDisruption(disruption)}`,
      failed,
      measured: { pause_ms: stood, vip_moves: moves.moves, disruption },
    },
    [
      moves.moves !== 0 && `the VIP moved ${moves.moves} time(s)`,
      (after.length !== 1 || after[0] !== holder) && `the VIP is held by ${list(after)} after, not by ${holder} alone`,
      failed > 0 && `${failed} samples failed`,
      disruption.length === 0 && 'no sampler reported',
    ],
  );
}

// ---- 5. every VIP has one holder ----------------------------------------------------------

/** Every VIP of the fabric is held by exactly one node. */
export async function oneHolderPerVip(fut: FabricUnderTest): Promise<ScenarioResult> {
  const held = await Promise.all(vrrpInstances(fut).map(async (v) => ({ purpose: v.purpose, vip: v.vip, holders: await fut.holders(v.vip) })));
  return result(
    { id: 'one-vip-holder', title: 'every VIP held by exactly one node', detail: held.map((h) => `${h.purpose} ${list(h.holders)}`).join('; ') },
    held.map((h) => h.holders.length !== 1 && `the ${h.purpose} VIP ${h.vip} is held by ${list(h.holders)}`),
  );
}

// ---- 6. the VIP holder loses power ---------------------------------------------------------

/** One power-off of the fabric VIP holder; times from the power-off. */
export interface VipPowerOffRun {
  readonly holder: string;
  /** The first answer from a running application server through the VIP (a new request every 100 ms). */
  readonly answered_s?: number;
  readonly answered_by?: string;
  /** The client saw the VIP's new MAC (the new holder's gratuitous ARP). */
  readonly vip_moved_s?: number;
  readonly vip_moves: number;
  readonly held_after: readonly string[];
}

export interface VipPowerOffOptions {
  /** Power-offs in a row, the powered-off balancer returning as the standby before the next. @default 1 */
  readonly runs?: number;
  /** A median the runs are compared with in the detail (a goal, not a pass condition). */
  readonly goalMedianS?: number;
  /** Also time the device VIP, which moves with the fabric VIP (one sync group), in the first power-off. @default false */
  readonly timeDeviceVip?: boolean;
}

/**
 * Powers the fabric VIP holder off, `runs` times (the old holder back as
 * the standby in between): each run passes when a running application
 * server answers through the VIP, after exactly one move, with one new
 * holder. The last holder powered off stays off. With `timeDeviceVip`, a
 * second result (`device-vip-poweroff`) times the device VIP in the first
 * run.
 */
export async function vipHolderPowerOff(fut: FabricUnderTest, options: VipPowerOffOptions = {}): Promise<ScenarioResult[]> {
  const wanted = options.runs ?? 1;
  const vip = fut.model.vip;
  const deviceVip = options.timeDeviceVip ? fut.model.deviceNetwork?.vrrp?.vip : undefined;
  const runs: VipPowerOffRun[] = [];
  const results: ScenarioResult[] = [];
  let returning: string | undefined;
  let first: string | undefined;
  while (runs.length < wanted) {
    if (returning) await returnAsStandby(fut, returning, fut.model.loadBalancer.vrrp);
    const holder = await soleHolder(fut, vip, 'fabric VIP');
    first ??= holder;
    const withDevice = deviceVip !== undefined && runs.length === 0;
    if (withDevice && (await soleHolder(fut, deviceVip, 'device VIP')) !== holder) throw new Error(`the device VIP is not on the fabric VIP holder ${holder}: they move as one sync group`);
    const watch = new VipMoveWatch(fut.clientNamespace, vip);
    watch.start();
    let moves: ReturnType<VipMoveWatch['stop']>;
    const offAt = Date.now();
    let answered: number | undefined;
    try {
      await fut.powerOff(holder);
      let deviceBack: number | undefined;
      [answered, deviceBack] = await Promise.all([
        firstSuccess(() => fabricServes(fut), 60_000, 100, offAt),
        withDevice ? firstSuccess(() => deviceAnswers(fut, AFTER_FAULT_DEADLINE_S), 60_000, 100, offAt) : Promise.resolve(undefined),
      ]);
      if (withDevice) results.push(deviceVipBack(holder, deviceBack, ' (the same power-off as the fabric VIP holder)'));
      // A second move (a flap, or the old holder's ghost) would show within the next adverts.
      await sleep(2000);
    } finally {
      moves = watch.stop();
    }
    const after = await fut.holders(vip);
    runs.push({
      holder,
      answered_s: answered,
      answered_by: answered !== undefined ? (await fabricAnswer(fut)).node : undefined,
      vip_moved_s: moves.movedAt.length ? (moves.movedAt[0] - offAt) / 1000 : undefined,
      vip_moves: moves.moves,
      held_after: after,
    });
    returning = holder;
    if (answered === undefined || moves.moves !== 1 || after.length !== 1 || after[0] === holder) break;
  }
  const answered = runs.map((r) => r.answered_s).filter((s): s is number => s !== undefined);
  const median = answered.length ? medianOf(answered) : undefined;
  const max = answered.length ? Math.max(...answered) : undefined;
  const goal = options.goalMedianS;
  const each = runs.map((r) => `${r.holder} off: VIP moved after ${r.vip_moved_s?.toFixed(2) ?? '-'} s (moves ${r.vip_moves}), HTTP 200 from ${r.answered_by ?? 'nobody'} after ${r.answered_s?.toFixed(2) ?? '-'} s, held by ${list(r.held_after)}`);
  results.unshift(
    result(
      {
        id: 'vip-holder-poweroff',
        title: `power off fabric VIP holder ${first}${wanted > 1 ? `, then the new holder, ${wanted} times in all (the old one back as standby in between)` : ''}`,
        seconds: median,
        detail:
          `${wanted > 1 ? `median ${median?.toFixed(2) ?? '-'} s, max ${max?.toFixed(2) ?? '-'} s over ${answered.length} of ${wanted} runs${goal !== undefined ? ` (goal: median <= ${goal} s: ${median !== undefined && median <= goal ? 'met' : 'missed'})` : ''}; ` : ''}` +
          `${each.join('; ')}; measured from the client from the power-off, a new request every 100 ms (${AFTER_FAULT_DEADLINE_S} s each)`,
        measured: { runs, median_s: median, max_s: max, ...(goal !== undefined ? { goal_median_s: goal } : {}) },
      },
      [
        runs.length < wanted && `only ${runs.length} of ${wanted} runs: the last one failed`,
        ...runs.map((r) => r.answered_by === undefined && `after ${r.holder}'s power-off no running application server answered through the VIP within 60 s`),
        ...runs.map((r) => r.vip_moves !== 1 && `after ${r.holder}'s power-off the VIP moved ${r.vip_moves} times, not once`),
        ...runs.map((r) => (r.held_after.length !== 1 || r.held_after[0] === r.holder) && `after ${r.holder}'s power-off the VIP is held by ${list(r.held_after)}`),
      ],
    ),
  );
  return results;
}

/** The device VIP's answer after `holder` lost power (a ping on the device network). */
export function deviceVipBack(holder: string, seconds: number | undefined, same: string): ScenarioResult {
  return result(
    { id: 'device-vip-poweroff', title: `power off device VIP holder ${holder}${same}`, seconds, detail: `ping on the device network, a new one every 100 ms (${AFTER_FAULT_DEADLINE_S} s each) from the power-off` },
    [seconds === undefined && 'the device VIP did not answer within 60 s'],
  );
}

/**
 * Powers `node` on again and waits (bounded: 300 s) until it has rejoined
 * as the standby of `instance`: its notify hook recorded BACKUP and its
 * units are active. Then 5 s more, for the balancers' health checks to see
 * its application server up again before the next fault.
 */
export async function returnAsStandby(fut: FabricUnderTest, node: string, instance: VrrpInstance): Promise<number> {
  await fut.powerOn(node);
  const units = memberUnits(fut, node);
  const stateFile = vrrpStateFile(instance.name);
  const up = await waitFor(async () => (await tryExec(fut, node, `systemctl is-active --quiet ${units.join(' ')} && grep -q ' BACKUP ' ${stateFile}`)).exitCode === 0, 300_000, 2000);
  if (up === undefined) throw new Error(`${node} did not come back as the standby of ${instance.name} within 300 s (${units.join(', ')} active and BACKUP in ${stateFile})`);
  await sleep(5000);
  return up;
}

import { HAPROXY_UNIT } from '../../cloud-init/haproxy';
import { KEEPALIVED_UNIT } from '../../cloud-init/keepalived';
import { nowMs, pollUntil, sleep, within } from './exec';
import { FabricHarness, HarnessNode, NodeInput } from './fabric-harness';
import { ProbeRecord } from './prober';
import { describeDisruption, SamplerSummary } from '../../e2e/lib/disruption-sampler';

/**
 * The failure scenarios, shared by the jest tests (which assert) and the
 * benchmark (which reports). Each one is bounded in time and in count and
 * leaves the fabric running; the caller owns the harness and stops it.
 * Times are milliseconds from the moment the fault was injected.
 */

export type Log = (message: string) => void;
const quiet: Log = () => undefined;

// ---- 1. the VIP and the balancing ----------------------------------------

export interface BalancingResult {
  readonly holders: string[];
  /** Requests per serving node without a cookie. */
  readonly spread: Record<string, number>;
  /** Serving nodes seen by a client that sends the cookie back. */
  readonly stickyNodes: string[];
  readonly failed: number;
}

export async function checkBalancing(h: FabricHarness, requests = 12): Promise<BalancingResult> {
  const holders = h.vipHolders();
  const url = `https://${h.vip}/`;
  const spread: Record<string, number> = {};
  let failed = 0;
  const plain = h.prober({ url, intervalMs: 10, timeoutMs: 2000, durationMs: 20_000, maxRequests: requests });
  await within(plain.done, 25_000);
  for (const r of await plain.stop()) {
    if (r.ok && r.body) spread[r.body] = (spread[r.body] ?? 0) + 1;
    else failed++;
  }
  const sticky = h.prober({ url, intervalMs: 10, timeoutMs: 2000, durationMs: 20_000, maxRequests: requests, sticky: true });
  await within(sticky.done, 25_000);
  const stickyRecords = await sticky.stop();
  failed += stickyRecords.filter((r) => !r.ok).length;
  return { holders, spread, stickyNodes: [...new Set(stickyRecords.filter((r) => r.ok).map((r) => r.body ?? ''))], failed };
}

// ---- 2. VIP failover -------------------------------------------------------

/**
 * vrrp-crash: SIGKILL to keepalived's VRRP child (its parent respawns it);
 * keepalived-kill: SIGKILL to keepalived's main process (the unit's Restart=
 * and ExecStopPost= take over); link-down: the holder's eth0 goes down.
 */
export type VipFault = 'vrrp-crash' | 'keepalived-kill' | 'link-down';

export interface FailoverRun {
  readonly fault: VipFault;
  readonly from: string;
  readonly to: string;
  /** Until the standby's notify hook reported MASTER. */
  readonly takeoverMs: number;
  /** Until the client got an answer through the VIP from the new holder (ARP points at it). */
  readonly clientMs: number;
  /** Longest time the client got no answer at all (0 when the old holder kept answering meanwhile). */
  readonly outageMs: number;
  readonly failedRequests: number;
  /** Holders right after the old holder came back and the fabric settled. */
  readonly holdersAfterReturn: string[];
  /** Whether both nodes held the VIP at any moment after the fault. */
  readonly sawTwoHolders: boolean;
  /** The longest stretch during which both nodes held the VIP (sampled every ~20 ms). */
  readonly twoHoldersMs: number;
  /** How often the VIP moved, the old holder's return included. */
  readonly vipMoves: number;
  /** The disruption sampler's figures per frontend and connection kind. */
  readonly disruption: readonly SamplerSummary[];
}

/** The keepalived VRRP child of a node, found as the keepalived process whose parent is the unit's main process. */
export async function vrrpChildPid(h: FabricHarness, node: HarnessNode): Promise<number | undefined> {
  const main = (await h.unit(node, KEEPALIVED_UNIT)).mainPid;
  if (main === undefined) return undefined;
  return (await h.ps(node)).find((p) => p.comm === 'keepalived' && p.ppid === main && p.state !== 'Z')?.pid;
}

/** Waits (bounded) until exactly one node holds the VIP and has held it for `stableMs`. */
/** The node that alone holds the VIP (stable for 1.5 s), or an error that says who holds it `before` the fault. */
async function soleHolder(h: FabricHarness, before: string): Promise<HarnessNode> {
  const holders = await waitSingleHolder(h, 15_000, 1500);
  if (holders.length !== 1) throw new Error(`before ${before} the VIP is on [${holders.join(', ')}], not on exactly one node`);
  return h.node(holders[0]);
}

export async function waitSingleHolder(h: FabricHarness, timeoutMs: number, stableMs = 1500): Promise<string[]> {
  let since = nowMs();
  let last = '';
  const result = await pollUntil(() => {
    const holders = h.vipHolders();
    const key = holders.join(',');
    if (key !== last) {
      last = key;
      since = nowMs();
    }
    return holders.length === 1 && nowMs() - since >= stableMs ? holders : undefined;
  }, timeoutMs, 50);
  return result ?? h.vipHolders();
}

/**
 * Samples which nodes hold the VIP every ~20 ms in the background (bounded
 * by `maxMs`), adds up how long more than one node held it, and counts the
 * VIP's moves: each time a node that did not hold it at the last sample does.
 */
class HolderTimeline {
  private stopped = false;
  private readonly done: Promise<void>;
  doubleMs = 0;
  longestDoubleMs = 0;
  moves = 0;

  constructor(h: FabricHarness, maxMs: number) {
    this.done = (async () => {
      const start = nowMs();
      let last = nowMs();
      let since: number | undefined;
      let before: string[] | undefined;
      for (let i = 0; i < Math.ceil(maxMs / 20) && !this.stopped && nowMs() - start < maxMs; i++) {
        const now = nowMs();
        const holders = h.vipHolders();
        if (before) this.moves += holders.filter((n) => !before!.includes(n)).length;
        before = holders;
        if (holders.length > 1) {
          this.doubleMs += now - last;
          since ??= now;
          this.longestDoubleMs = Math.max(this.longestDoubleMs, now - since);
        } else since = undefined;
        last = now;
        await sleep(20);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function outage(records: readonly ProbeRecord[], from: number): { outageMs: number; failed: number } {
  const after = records.filter((r) => r.t0 >= from);
  const failed = after.filter((r) => !r.ok);
  if (failed.length === 0) return { outageMs: 0, failed: 0 };
  // Longest stretch without an answer: from a failed request's start to the end of the next good one.
  let longest = 0;
  let start: number | undefined;
  for (const r of after) {
    if (!r.ok && start === undefined) start = r.t0;
    if (r.ok && start !== undefined) {
      longest = Math.max(longest, r.t1 - start);
      start = undefined;
    }
  }
  return { outageMs: longest, failed: failed.length };
}

export async function vipFailover(h: FabricHarness, fault: VipFault, inputs: readonly NodeInput[], log: Log = quiet): Promise<FailoverRun> {
  const holders = await waitSingleHolder(h, 15_000, 500);
  if (holders.length !== 1) throw new Error(`before the fault the VIP is on [${holders.join(', ')}], not on exactly one node`);
  const from = h.node(holders[0]);
  const others = h.balancers.filter((n) => n.name !== from.name);
  if (others.length !== 1) throw new Error(`expected one standby balancer, found ${others.length}`);
  const to = others[0];
  const prober = h.prober({ url: `https://${h.vip}/`, intervalMs: 25, timeoutMs: 300, durationMs: 20_000, maxRequests: 1000 });
  const sampler = h.sampler(45_000);
  let timeline: HolderTimeline | undefined;
  try {
    const warm = await prober.waitFor((rs) => (rs.filter((r) => r.ok && r.mac === from.mac).length >= 3 ? true : undefined), 5000);
    if (!warm) throw new Error(`the client gets no answers through the VIP on ${from.name} before the fault`);
    let t0: number;
    timeline = new HolderTimeline(h, 45_000);
    if (fault === 'vrrp-crash') {
      const child = await vrrpChildPid(h, from);
      if (child === undefined) throw new Error(`${from.name}: no keepalived VRRP child found`);
      t0 = (await h.signal(from, { pid: child }, 'SIGKILL')).t;
    } else if (fault === 'keepalived-kill') {
      t0 = (await h.signal(from, { unit: KEEPALIVED_UNIT, whom: 'main' }, 'SIGKILL')).t;
    } else {
      t0 = nowMs();
      h.linkDown(from);
    }
    let sawTwoHolders = false;
    const moved = await pollUntil(() => {
      const now = h.vipHolders();
      if (now.length > 1) sawTwoHolders = true;
      return now.includes(to.name) ? true : undefined;
    }, 10_000, 20);
    if (!moved) throw new Error(`${fault} on ${from.name}: the VIP did not move to ${to.name} within 10 s (holders [${h.vipHolders().join(', ')}])`);
    const state = await pollUntil(() => {
      const s = h.vrrpState(to);
      return s && s.state === 'MASTER' && s.t >= t0 - 50 ? s : undefined;
    }, 3000, 20);
    const answered = await prober.waitFor((rs) => rs.find((r) => r.ok && r.t0 >= t0 && r.mac === to.mac), 10_000);
    if (!answered) throw new Error(`${fault} on ${from.name}: the client got no answer from ${to.name} through the VIP within 10 s`);
    // A little more traffic after the switch, to see that it stays.
    await prober.waitFor((rs) => (rs.filter((r) => r.t0 > answered.t1).length >= 8 ? true : undefined), 3000);
    const records = await prober.stop();
    const o = outage(records, t0);
    if (h.vipHolders().length > 1) sawTwoHolders = true;

    // The old holder returns: link up again, keepalived's parent respawns its VRRP child, or Restart= restarts keepalived.
    if (fault === 'link-down') h.linkUp(from, inputs.find((n) => n.name === from.name));
    await sleep(300);
    if (h.vipHolders().length > 1) sawTwoHolders = true;
    const holdersAfterReturn = await waitSingleHolder(h, 15_000, 1500);
    await timeline.stop();
    const disruption = await sampler.stop();
    if (timeline.doubleMs > 0) sawTwoHolders = true;
    const run: FailoverRun = {
      fault,
      from: from.name,
      to: to.name,
      takeoverMs: state ? state.t - t0 : NaN,
      clientMs: answered.t1 - t0,
      outageMs: o.outageMs,
      failedRequests: o.failed,
      holdersAfterReturn,
      sawTwoHolders,
      twoHoldersMs: timeline.longestDoubleMs,
      vipMoves: timeline.moves,
      disruption,
    };
    log(`${fault} ${from.name}->${to.name}: takeover ${run.takeoverMs.toFixed(0)} ms, client ${run.clientMs.toFixed(0)} ms, outage ${run.outageMs.toFixed(0)} ms (${run.failedRequests} failed), holders after return [${holdersAfterReturn.join(', ')}]${sawTwoHolders ? `, two holders for up to ${run.twoHoldersMs.toFixed(0)} ms` : ''}; VIP moves ${run.vipMoves}; ${describeDisruption(disruption)}`);
    return run;
  } finally {
    await timeline?.stop();
    await prober.stop();
    await sampler.stop();
  }
}

export interface HolderPauseResult {
  readonly holder: string;
  readonly pauseMs: number;
  /** Whether any node but the holder held the VIP at any sample, during the pause or the 3 s after it. */
  readonly vipMoved: boolean;
  /** How long two nodes held the VIP at once, in ms (longest stretch). */
  readonly twoHoldersMs: number;
  readonly vipMoves: number;
  readonly disruption: readonly SamplerSummary[];
}

/**
 * The VIP holder stalls for `pauseMs` (a hypervisor pause such as a vMotion
 * stun freezes a VM whole): its keepalived and HAProxy are stopped
 * (SIGSTOP) and continued. The VIP must stay where it is.
 */
export async function holderPause(h: FabricHarness, pauseMs: number, log: Log = quiet): Promise<HolderPauseResult> {
  const holder = await soleHolder(h, 'the pause');
  const timeline = new HolderTimeline(h, pauseMs + 10_000);
  const sampler = h.sampler(pauseMs + 15_000);
  let vipMoved = false;
  let frozen = false;
  // keepalived first on stopping and last on continuing: it is what must ride out the stall.
  const freeze = async (signal: 'SIGSTOP' | 'SIGCONT') => {
    // Frozen as soon as one unit may be stopped, so that the finally continues it.
    if (signal === 'SIGSTOP') frozen = true;
    for (const unit of signal === 'SIGSTOP' ? [KEEPALIVED_UNIT, HAPROXY_UNIT] : [HAPROXY_UNIT, KEEPALIVED_UNIT]) await h.signal(holder, { unit, whom: 'all' }, signal);
    if (signal === 'SIGCONT') frozen = false;
  };
  try {
    await freeze('SIGSTOP');
    const t0 = nowMs();
    // Sampled every 20 ms while paused and for 3 s after.
    for (let i = 0; i < Math.ceil((pauseMs + 3000) / 20) && nowMs() - t0 < pauseMs + 3000; i++) {
      if (frozen && nowMs() - t0 >= pauseMs) await freeze('SIGCONT');
      const now = h.vipHolders();
      if (now.some((n) => n !== holder.name)) vipMoved = true;
      await sleep(20);
    }
    await timeline.stop();
    const disruption = await sampler.stop();
    const result = { holder: holder.name, pauseMs, vipMoved, twoHoldersMs: timeline.longestDoubleMs, vipMoves: timeline.moves, disruption };
    log(`${holder.name} paused ${pauseMs} ms: the VIP ${vipMoved ? 'MOVED' : 'stayed'}${timeline.longestDoubleMs > 0 ? `, two holders for ${timeline.longestDoubleMs.toFixed(0)} ms` : ''}; ${describeDisruption(disruption)}`);
    return result;
  } finally {
    if (frozen) await freeze('SIGCONT').catch(() => undefined);
    await timeline.stop();
    await sampler.stop();
    // Whatever happened, the next scenario starts from one holder.
    await waitSingleHolder(h, 15_000, 1500);
  }
}

export interface HaproxyCrashResult {
  readonly holder: string;
  /** From the kill to the client's next answer, in ms; 0 when no request failed. */
  readonly clientBackMs: number;
  readonly failedRequests: number;
  /** Whether the VIP left the holder (keepalived's HAProxy tracker) or stayed (HAProxy was back first). */
  readonly vipMoved: boolean;
  readonly twoHoldersMs: number;
  readonly vipMoves: number;
  readonly disruption: readonly SamplerSummary[];
}

/**
 * HAProxy crashes on the VIP holder (SIGKILL of every HAProxy process).
 * keepalived's tracker moves the VIP, or the supervisor's restart brings
 * HAProxy back first; either way clients must be answered again. In the
 * namespace harness the tracker is the pgrep check `adapt.ts` puts in
 * place of `vrrp_track_process` (see the harness notes).
 */
export async function haproxyCrash(h: FabricHarness, log: Log = quiet): Promise<HaproxyCrashResult> {
  const holder = await soleHolder(h, 'the crash');
  const prober = h.prober({ url: `https://${h.vip}/`, intervalMs: 25, timeoutMs: 500, durationMs: 15_000, maxRequests: 700 });
  const timeline = new HolderTimeline(h, 20_000);
  const sampler = h.sampler(20_000);
  let vipMoved = false;
  try {
    if (!(await prober.waitFor((rs) => (rs.filter((r) => r.ok).length >= 5 ? true : undefined), 5000))) throw new Error('the client gets no answers through the VIP before the crash');
    const t0 = (await h.signal(holder, { unit: HAPROXY_UNIT, whom: 'all' }, 'SIGKILL')).t;
    // Answered again: at least 3 s watched, and five good answers in a row after the last failure (0: none failed).
    const back = await prober.waitFor((rs) => {
      const after = rs.filter((r) => r.t0 >= t0);
      if (after.length === 0 || after[after.length - 1].t1 - t0 < 3000) return undefined;
      const lastBad = after.map((r) => r.ok).lastIndexOf(false);
      if (lastBad < 0) return 0;
      const tail = after.slice(lastBad + 1);
      return tail.length >= 5 ? tail[0].t1 - t0 : undefined;
    }, 12_000);
    for (let i = 0; i < 50; i++) {
      if (h.vipHolders().some((n) => n !== holder.name)) vipMoved = true;
      await sleep(20);
    }
    const records = await prober.stop();
    await timeline.stop();
    const disruption = await sampler.stop();
    if (back === undefined) throw new Error(`HAProxy killed on ${holder.name}: the client was not answered again within 12 s`);
    const result = { holder: holder.name, clientBackMs: back, failedRequests: records.filter((r) => r.t0 >= t0 && !r.ok).length, vipMoved, twoHoldersMs: timeline.longestDoubleMs, vipMoves: timeline.moves, disruption };
    log(`HAProxy killed on ${holder.name}: clients answered again after ${back.toFixed(0)} ms (${result.failedRequests} failed), the VIP ${vipMoved ? 'moved' : 'stayed'}${timeline.longestDoubleMs > 0 ? `, two holders for ${timeline.longestDoubleMs.toFixed(0)} ms` : ''}; ${describeDisruption(disruption)}`);
    return result;
  } finally {
    await prober.stop();
    await timeline.stop();
    await sampler.stop();
    await waitSingleHolder(h, 15_000, 1500);
  }
}

// ---- 3. losing an application server under load -------------------------

/** The status (UP, DOWN, MAINT...) `balancer`'s HAProxy gives `server` in `backend`, or undefined when it cannot tell. */
async function serverStatus(h: FabricHarness, balancer: HarnessNode, server: string, backend = 'application_servers'): Promise<string | undefined> {
  const rows = await h.haproxyStat(balancer).catch(() => []);
  return rows.find((r) => r.pxname === backend && r.svname === server)?.status;
}

export interface BackendLossResult {
  readonly victim: string;
  readonly balancer: string;
  readonly requests: number;
  readonly failed: number;
  readonly failures: ProbeRecord[];
  /** From the kill until the balancer's `show stat` says the server is DOWN (NaN if it came back first). */
  readonly markedDownMs: number;
  /** Requests served by the victim that started after the kill (must be 0 until it is restarted). */
  readonly servedByVictimAfterKill: number;
  readonly spread: Record<string, number>;
}

export async function backendLoss(h: FabricHarness, victimName: string, options: { intervalMs?: number; durationMs?: number; killAfterMs?: number; unit?: string; backend?: string } = {}, log: Log = quiet): Promise<BackendLossResult> {
  const intervalMs = options.intervalMs ?? 25;
  const durationMs = options.durationMs ?? 6000;
  const killAfterMs = options.killAfterMs ?? 2000;
  const holders = await waitSingleHolder(h, 15_000, 500);
  if (holders.length !== 1) throw new Error(`the VIP is on [${holders.join(', ')}]`);
  const balancer = h.node(holders[0]);
  const victim = h.node(victimName);
  const unit = appUnit(victim, options.unit);
  const backend = options.backend ?? 'application_servers';
  const prober = h.prober({ url: `https://${h.vip}/`, intervalMs, timeoutMs: 5000, durationMs, maxRequests: Math.ceil(durationMs / intervalMs) + 10 });
  try {
    await prober.waitFor((rs) => (rs.length > 0 && rs[rs.length - 1].t1 - rs[0].t0 >= killAfterMs ? true : undefined), killAfterMs + 5000);
    const tKill = (await h.signal(victim, { unit, whom: 'main' }, 'SIGKILL')).t;
    const down = await pollUntil(async () => (/^DOWN/.test((await serverStatus(h, balancer, victim.name, backend)) ?? '') ? nowMs() : undefined), 3000, 20);
    await within(prober.done, durationMs + 10_000);
    const records = await prober.stop();
    const failures = records.filter((r) => !r.ok);
    const spread: Record<string, number> = {};
    for (const r of records) if (r.ok && r.body) spread[r.body] = (spread[r.body] ?? 0) + 1;
    const restartedAt = (await h.unit(victim, unit)).lastStart ?? Infinity;
    const result: BackendLossResult = {
      victim: victim.name,
      balancer: balancer.name,
      requests: records.length,
      failed: failures.length,
      failures,
      markedDownMs: down !== undefined ? down - tKill : NaN,
      servedByVictimAfterKill: records.filter((r) => r.ok && r.body === victim.name && r.t0 > tKill && r.t0 < restartedAt).length,
      spread,
    };
    log(`backend loss ${victim.name} (balancer ${balancer.name}): ${result.requests} requests, ${result.failed} failed, marked DOWN after ${result.markedDownMs.toFixed(0)} ms, spread ${JSON.stringify(spread)}`);
    return result;
  } finally {
    await prober.stop();
  }
}

export interface SilentLossResult {
  readonly victim: string;
  /** Requests the streams sent, and the ones that failed (an error, a timeout or a status other than 200). */
  readonly requests: number;
  readonly failures: ProbeRecord[];
  /** The requests that were waiting on the victim when its link went: started before, answered after. */
  readonly inFlight: ProbeRecord[];
  /** The slowest request of all, in ms from its start. */
  readonly slowestMs: number;
  /** When the balancer's checks marked the victim DOWN, in ms after its link went. */
  readonly markedDownMs: number;
  /** The disruption sampler's figures (new and kept-alive connections), from the drop on. */
  readonly disruption: readonly SamplerSummary[];
}

/**
 * An application server dies without a word while requests wait on it, as a
 * node that loses power does: its application is stopped (SIGSTOP: the kernel
 * still accepts and acknowledges requests, nothing answers), so that requests
 * routed to it hang, and then its link goes down (no RST, no ICMP). Several
 * streams of GETs on new connections run meanwhile. The requests that were
 * waiting on it must be answered by another server.
 */
export async function silentBackendLoss(h: FabricHarness, victimName: string, inputs: readonly NodeInput[], options: { streams?: number; hangMs?: number; durationMs?: number; unit?: string } = {}, log: Log = quiet): Promise<SilentLossResult> {
  const streams = options.streams ?? 3;
  const hangMs = options.hangMs ?? 400;
  const durationMs = options.durationMs ?? 5000;
  const holders = await waitSingleHolder(h, 15_000, 500);
  if (holders.length !== 1) throw new Error(`the VIP is on [${holders.join(', ')}]`);
  const balancer = h.node(holders[0]);
  const victim = h.node(victimName);
  const unit = appUnit(victim, options.unit);
  // The victim must be in rotation first (an earlier fault may still have it DOWN): bounded, 20 s.
  const up = await pollUntil(async () => (/^UP/.test((await serverStatus(h, balancer, victim.name)) ?? '') ? true : undefined), 20_000, 100);
  if (!up) throw new Error(`${victim.name} is not UP on ${balancer.name} before the fault (${(await serverStatus(h, balancer, victim.name)) ?? 'not listed'})`);
  // A request gets 10 s: without a way to notice the silent server, HAProxy would wait out `timeout server` (60 s).
  const probers = Array.from({ length: streams }, () => h.prober({ url: `https://${h.vip}/`, intervalMs: 25, timeoutMs: 10_000, durationMs, maxRequests: Math.ceil(durationMs / 25) + 10 }));
  const sampler = h.sampler(durationMs + 5000);
  let linkDown = false;
  try {
    for (const p of probers) {
      if (!(await p.waitFor((rs) => (rs.filter((r) => r.ok).length >= 5 ? true : undefined), 5000))) throw new Error('a stream got no answers through the VIP before the fault');
    }
    await h.signal(victim, { unit, whom: 'main' }, 'SIGSTOP');
    await sleep(hangMs);
    const tDrop = nowMs();
    h.linkDown(victim);
    linkDown = true;
    const down = await pollUntil(async () => (/^DOWN/.test((await serverStatus(h, balancer, victim.name)) ?? '') ? nowMs() : undefined), 5000, 20);
    await within(Promise.all(probers.map((p) => p.done)), durationMs + 15_000);
    const records = (await Promise.all(probers.map((p) => p.stop()))).flat();
    // From the SIGSTOP on: the samples sent to the victim from then on are the ones that wait on it.
    const disruption = await sampler.stop(tDrop - hangMs);
    const result: SilentLossResult = {
      victim: victim.name,
      requests: records.length,
      failures: records.filter((r) => !r.ok),
      inFlight: records.filter((r) => r.t0 < tDrop && r.t1 > tDrop),
      slowestMs: Math.max(...records.map((r) => r.t1 - r.t0)),
      markedDownMs: down !== undefined ? down - tDrop : NaN,
      disruption,
    };
    log(`silent loss of ${victim.name} (balancer ${balancer.name}): ${result.requests} requests, ${result.failures.length} failed, ${result.inFlight.length} in flight at the drop (answered by ${result.inFlight.map((r) => r.body ?? r.error).join(', ')}), slowest ${result.slowestMs.toFixed(0)} ms, marked DOWN ${result.markedDownMs.toFixed(0)} ms after the drop; ${describeDisruption(disruption)}`);
    return result;
  } finally {
    await Promise.all(probers.map((p) => p.stop()));
    await sampler.stop();
    if (linkDown) h.linkUp(victim, inputs.find((n) => n.name === victim.name));
    await h.signal(victim, { unit, whom: 'main' }, 'SIGCONT').catch(() => undefined);
  }
}

// ---- 4. the watchdog -------------------------------------------------------

/** The application service unit (the demo app by default); `preferred` is the model's service name. */
export function appUnit(node: HarnessNode, preferred = 'fabric-app.service'): string {
  const u = node.units.find((x) => x.name === preferred) ?? node.units.find((x) => x.argv.some((a) => a.endsWith('/demo-app-server.py')));
  if (!u) throw new Error(`${node.name} runs no application service`);
  return u.name;
}

function appUrl(node: HarnessNode, unit: string): string {
  const u = node.units.find((x) => x.name === unit)!;
  const port = u.argv[u.argv.indexOf('--port') + 1];
  if (!port) throw new Error(`${node.name}: cannot tell the port of ${unit} from its command line`);
  return `http://${node.address}:${port}/healthz`;
}

export interface ServiceRecovery {
  readonly node: string;
  readonly unit: string;
  readonly fault: 'crash' | 'hang';
  /** From the fault until the service answers its health check again. */
  readonly backMs: number;
  /** From the fault until the watchdog's `systemctl kill` (hang), or until the new process started (crash). */
  readonly actionMs: number;
  /** Who brought it back: "Restart=" (the unit's own policy) or "systemctl restart" (the watchdog). */
  readonly restartedBy: string;
}

export async function serviceRecovery(h: FabricHarness, nodeName: string, fault: 'crash' | 'hang', log: Log = quiet, preferredUnit?: string): Promise<ServiceRecovery> {
  const node = h.node(nodeName);
  const unit = appUnit(node, preferredUnit);
  const before = (await h.unit(node, unit)).mainPid;
  if (before === undefined) throw new Error(`${nodeName}: ${unit} is not running`);
  const since = (await h.events(node)).length;
  // From the node itself: the firewall lets only the balancers (and the node) reach the service.
  const prober = h.prober({ url: appUrl(node, unit), intervalMs: 25, timeoutMs: 300, durationMs: 40_000, maxRequests: 2000 }, node);
  try {
    // Answering for 2.5 s first: the watchdog has then seen it healthy, so its failure count starts from 0.
    const warm = await prober.waitFor((rs) => {
      const lastFail = [...rs].reverse().find((r) => !r.ok);
      const ok = rs.filter((r) => r.ok && (!lastFail || r.t0 > lastFail.t1));
      return ok.length > 0 && ok[ok.length - 1].t1 - ok[0].t0 >= 2500 ? true : undefined;
    }, 10_000);
    if (!warm) throw new Error(`${nodeName}: ${unit} does not answer steadily before the fault`);
    const t0 = (await h.signal(node, { pid: before }, fault === 'crash' ? 'SIGKILL' : 'SIGSTOP')).t;
    const back = await prober.waitFor((rs) => {
      const firstFail = rs.find((r) => r.t0 >= t0 && !r.ok);
      return firstFail ? rs.find((r) => r.t0 > firstFail.t0 && r.ok) : undefined;
    }, 25_000);
    if (!back) throw new Error(`${nodeName}: ${unit} did not come back within 25 s after a ${fault}`);
    const events = await h.events(node, since);
    const start = events.find((e) => e.kind === 'start' && e.unit === unit && e.t >= t0);
    const kill = events.find((e) => e.kind === 'systemctl' && e.t >= t0 && /^kill /.test(e.detail ?? '') && (e.detail ?? '').includes(unit));
    const result: ServiceRecovery = {
      node: nodeName,
      unit,
      fault,
      backMs: back.t1 - t0,
      actionMs: (fault === 'hang' ? kill?.t : start?.t) !== undefined ? (fault === 'hang' ? kill!.t : start!.t) - t0 : NaN,
      restartedBy: start?.detail ?? 'unknown',
    };
    log(`${fault} of ${unit} on ${nodeName}: back after ${result.backMs.toFixed(0)} ms (restarted by ${result.restartedBy}, action after ${result.actionMs.toFixed(0)} ms)`);
    return result;
  } finally {
    await prober.stop();
  }
}

export interface BalancerFailureResult {
  readonly from: string;
  readonly to: string;
  /** Watchdog restarts of haproxy on the old holder before it left the election. */
  readonly restarts: number;
  /** From the first hang until the standby held the VIP. */
  readonly vipMovedMs: number;
  /** From the first hang until the client got answers again (through the new holder). */
  readonly clientBackMs: number;
  /** Eligibility files on the old holder and their content. */
  readonly eligibility: Record<string, string>;
  readonly holdersAfter: string[];
}

/**
 * HAProxy on the VIP holder keeps hanging (every new HAProxy process is
 * stopped with SIGSTOP as soon as it appears). keepalived's health check
 * moves the VIP within seconds; the hanging goes on until the watchdog gives
 * up restarting it and takes the node out of the VIP election for good.
 */
export async function balancerFailsRepeatedly(h: FabricHarness, log: Log = quiet, timeoutMs = 90_000): Promise<BalancerFailureResult> {
  const holders = await waitSingleHolder(h, 15_000, 500);
  if (holders.length !== 1) throw new Error(`the VIP is on [${holders.join(', ')}]`);
  const from = h.node(holders[0]);
  const to = h.balancers.find((n) => n.name !== from.name);
  if (!to) throw new Error('no standby balancer');
  const since = (await h.events(from)).length;
  const prober = h.prober({ url: `https://${h.vip}/`, intervalMs: 50, timeoutMs: 500, durationMs: timeoutMs + 10_000, maxRequests: 5000 });
  try {
    await prober.waitFor((rs) => (rs.some((r) => r.ok) ? true : undefined), 5000);
    const t0 = nowMs();
    let moved: number | undefined;
    const stoppedPids = new Set<number>();
    const ineligible = () =>
      h.listNodeDir(from, '/run/appliance-fabric').some((f) => f.startsWith('vrrp-ineligible') && h.readNodeFile(from, `/run/appliance-fabric/${f}`).trim() === '1');
    // Bounded: at most timeoutMs, one round every 100 ms.
    for (let i = 0; i < Math.ceil(timeoutMs / 100) && nowMs() - t0 < timeoutMs; i++) {
      const running = (await h.ps(from)).filter((p) => p.comm === 'haproxy' && p.state !== 'T' && p.state !== 'Z' && !stoppedPids.has(p.pid));
      for (const p of running) {
        await h.signal(from, { pid: p.pid }, 'SIGSTOP');
        stoppedPids.add(p.pid);
      }
      if (moved === undefined && h.vipHolders().includes(to.name)) moved = nowMs();
      if (moved !== undefined && ineligible()) break;
      await sleep(100);
    }
    if (moved === undefined) throw new Error(`the VIP stayed on ${from.name} for ${timeoutMs} ms while its HAProxy kept hanging\n${await h.diagnostics()}`);
    const clientBack = await prober.waitFor((rs) => rs.find((r) => r.ok && r.t0 >= moved! && r.mac === to.mac), 1_000);
    const events = await h.events(from, since);
    const restarts = events.filter((e) => e.kind === 'systemctl' && /^restart /.test(e.detail ?? '') && (e.detail ?? '').includes(HAPROXY_UNIT)).length;
    const eligibility: Record<string, string> = {};
    for (const f of h.listNodeDir(from, '/run/appliance-fabric').filter((x) => x.startsWith('vrrp-ineligible'))) {
      eligibility[f] = h.readNodeFile(from, `/run/appliance-fabric/${f}`).trim();
    }
    const holdersAfter = await waitSingleHolder(h, 10_000, 1000);
    const result: BalancerFailureResult = {
      from: from.name,
      to: to.name,
      restarts,
      vipMovedMs: moved - t0,
      clientBackMs: clientBack ? clientBack.t1 - t0 : NaN,
      eligibility,
      holdersAfter,
    };
    log(`HAProxy hanging on ${from.name}: ${restarts} watchdog restarts, VIP on ${to.name} after ${result.vipMovedMs.toFixed(0)} ms, clients back after ${result.clientBackMs.toFixed(0)} ms, eligibility ${JSON.stringify(eligibility)}`);
    return result;
  } finally {
    await prober.stop();
  }
}

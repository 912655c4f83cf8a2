/**
 * Failover benchmark (tier 3 of DESIGN.md): runs the rendered fabric in
 * network namespaces with the real keepalived, HAProxy, demo application and
 * fabric watchdog, injects faults and prints how long recovery takes.
 *
 *   npm run bench:failover [-- --runs N] [-- --quick]
 *
 * Prints a table and writes test-results/failover-bench.json. Needs root,
 * keepalived, haproxy, curl, iproute2, util-linux (unshare, setpriv) and
 * systemd-tmpfiles. Uses only 198.51.100.0/24, inside namespaces it creates
 * and removes. Exits 1 when a goal is missed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_ADVERT_INTERVAL_SECONDS } from '../model/defaults';
import { PROJECT_ROOT } from '../stacks/project-root';
import { SamplerSummary } from '../e2e/lib/disruption-sampler';
import { measuredCommit } from '../e2e/lib/measured-commit';
import { median } from '../test/harness/exec';
import { FabricHarness } from '../test/harness/fabric-harness';
import { namespaceFabricSpec, renderFabric, RenderedFabric } from '../test/harness/render';
import {
  backendLoss, BackendLossResult, balancerFailsRepeatedly, BalancerFailureResult, FailoverRun, haproxyCrash, HaproxyCrashResult, holderPause, HolderPauseResult,
  serviceRecovery, ServiceRecovery, silentBackendLoss, SilentLossResult, vipFailover, VipFault,
} from '../test/harness/scenarios';

interface Row {
  readonly what: string;
  readonly runs: number;
  readonly median: string;
  readonly max: string;
  readonly goal: string;
  readonly met?: boolean;
}

const live = new Set<FabricHarness>();
/** A hypervisor stall the VIP must ride out (QEMU's default migration downtime is 300 ms). */
const HOLDER_PAUSE_MS = 300;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const log = (m: string) => process.stderr.write(`  ${m}\n`);
const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a');

async function withFabric<T>(rendered: RenderedFabric, body: (h: FabricHarness) => Promise<T>): Promise<T> {
  const h = await FabricHarness.start(rendered);
  live.add(h);
  try {
    await h.waitReady(30_000);
    return await body(h);
  } finally {
    const { leftovers } = await h.stop();
    live.delete(h);
    if (leftovers.length) log(`cleanup found leftovers: ${leftovers.join('; ')}`);
  }
}

async function failoverSeries(advert: number, runs: number): Promise<Map<VipFault, FailoverRun[]>> {
  const spec = namespaceFabricSpec(advert === DEFAULT_ADVERT_INTERVAL_SECONDS ? {} : { advertIntervalSeconds: advert });
  const rendered = renderFabric(spec);
  if (rendered.model.loadBalancer.vrrp.advertIntervalSeconds !== advert) {
    throw new Error(`the rendered advert interval is ${rendered.model.loadBalancer.vrrp.advertIntervalSeconds} s, expected ${advert} s`);
  }
  log(`advert_int ${advert} s:`);
  return withFabric(rendered, async (h) => {
    const out = new Map<VipFault, FailoverRun[]>();
    const faults: VipFault[] = advert === DEFAULT_ADVERT_INTERVAL_SECONDS ? ['vrrp-crash', 'link-down', 'keepalived-kill'] : ['vrrp-crash', 'link-down'];
    for (const fault of faults) {
      const list: FailoverRun[] = [];
      for (let i = 0; i < runs; i++) list.push(await vipFailover(h, fault, rendered.nodes, log));
      out.set(fault, list);
    }
    return out;
  });
}

async function main(): Promise<number> {
  const runs = Number(arg('--runs') ?? (process.argv.includes('--quick') ? 3 : 10));
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs takes a whole number from 1 to 50');
  const started = Date.now();
  const rows: Row[] = [];
  const byAdvert = new Map<number, Map<VipFault, FailoverRun[]>>();

  // Scenario 2: VIP failover, for the shipped advert interval and two others.
  for (const advert of [...new Set([DEFAULT_ADVERT_INTERVAL_SECONDS, 0.4, 1.0])]) {
    const series = await failoverSeries(advert, runs);
    byAdvert.set(advert, series);
    for (const [fault, list] of series) {
      const client = list.map((r) => r.clientMs);
      const isDefault = advert === DEFAULT_ADVERT_INTERVAL_SECONDS;
      const faultName = { 'vrrp-crash': 'keepalived VRRP child killed', 'keepalived-kill': 'keepalived main process killed', 'link-down': 'eth0 down' }[fault];
      rows.push({
        what: `VIP failover, ${faultName}, advert_int ${advert} s${isDefault ? ' (default)' : ''}`,
        runs: list.length,
        median: seconds(median(client)),
        max: seconds(Math.max(...client)),
        // Issue 11's goal in namespaces: median at most 1.0 s, max at most 1.5 s (the main process's resignation included).
        goal: isDefault ? '<= 1.0 s median, <= 1.5 s max' : '',
        ...(isDefault ? { met: median(client) <= 1000 && Math.max(...client) <= 1500 } : {}),
      });
      const takeover = list.map((r) => r.takeoverMs);
      const gap = list.map((r) => r.outageMs);
      rows.push({ what: '  standby reports MASTER (notify hook)', runs: list.length, median: seconds(median(takeover)), max: seconds(Math.max(...takeover)), goal: '' });
      const double = list.map((r) => r.twoHoldersMs);
      rows.push({ what: '  both nodes held the VIP (longest stretch)', runs: list.length, median: seconds(median(double)), max: seconds(Math.max(...double)), goal: 'never', met: list.every((r) => !r.sawTwoHolders) });
      rows.push({
        what: '  client without any answer',
        runs: list.length,
        median: seconds(median(gap)),
        max: seconds(Math.max(...gap)),
        goal: 'one holder after the old returns',
        met: list.every((r) => r.holdersAfterReturn.length === 1),
      });
    }
  }

  // Scenarios 3 and 4 on a fabric with the shipped defaults.
  log('backend loss and watchdog (defaults):');
  const defaults = renderFabric(namespaceFabricSpec());
  const unit = `${defaults.model.applicationServers.service.name}.service`;
  const { losses, silent, pauses, haproxyCrashes, crashes, hangs, balancer, notes } = await withFabric(defaults, async (h) => {
    const losses: BackendLossResult[] = [];
    for (let i = 0; i < runs; i++) losses.push(await backendLoss(h, i % 2 === 0 ? 'node3' : 'node2', { intervalMs: 25, durationMs: 6000, killAfterMs: 2000, unit }, log));
    // An application node that dies without a word, with GETs waiting on it (as a power-off leaves them).
    const silent: SilentLossResult[] = [];
    for (let i = 0; i < runs; i++) silent.push(await silentBackendLoss(h, 'node3', defaults.nodes, { streams: 3, hangMs: 400, durationMs: 5000, unit }, log));
    const pauses: HolderPauseResult[] = [];
    for (let i = 0; i < runs; i++) pauses.push(await holderPause(h, HOLDER_PAUSE_MS, log));
    const haproxyCrashes: HaproxyCrashResult[] = [];
    for (let i = 0; i < runs; i++) haproxyCrashes.push(await haproxyCrash(h, log));
    const crashes: ServiceRecovery[] = [];
    const hangs: ServiceRecovery[] = [];
    for (let i = 0; i < runs; i++) crashes.push(await serviceRecovery(h, 'node3', 'crash', log, unit));
    for (let i = 0; i < runs; i++) hangs.push(await serviceRecovery(h, 'node3', 'hang', log, unit));
    const balancer: BalancerFailureResult = await balancerFailsRepeatedly(h, log);
    return { losses, silent, pauses, haproxyCrashes, crashes, hangs, balancer, notes: [...h.notes] };
  });
  const down = losses.map((r) => r.markedDownMs).filter(Number.isFinite);
  rows.push({ what: 'Dead application server marked DOWN by HAProxy', runs: down.length, median: seconds(median(down)), max: seconds(Math.max(...down)), goal: '< 1 s', met: down.length === losses.length && Math.max(...down) < 1000 });
  const failed = losses.reduce((s, r) => s + r.failed, 0);
  const total = losses.reduce((s, r) => s + r.requests, 0);
  rows.push({ what: 'Failed GETs while an application server dies (40/s)', runs: losses.length, median: `${failed} of ${total}`, max: `${Math.max(...losses.map((r) => r.failed))} in one run`, goal: '0', met: failed === 0 });
  // The three new-connection streams and the disruption sampler's new and kept-alive samplers alike.
  const sampled = (runs: { disruption: readonly SamplerSummary[] }[]) => runs.flatMap((r) => r.disruption);
  const silentTotal = silent.reduce((n, r) => n + r.requests, 0) + sampled(silent).reduce((n, d) => n + d.samples, 0);
  const silentFailed = silent.reduce((n, r) => n + r.failures.length, 0) + sampled(silent).reduce((n, d) => n + d.failed, 0);
  const silentSlowest = Math.max(...silent.map((r) => r.slowestMs), ...sampled(silent).map((d) => d.slowestS * 1000));
  rows.push({ what: 'GETs while an application node dies silently (GETs waiting on it; new and kept-alive connections)', runs: silent.length, median: `${silentFailed} of ${silentTotal} failed`, max: `slowest ${seconds(silentSlowest)}`, goal: '0 failed, none > 2 s', met: silentFailed === 0 && silentSlowest <= 2000 });
  const pauseMoves = pauses.filter((r) => r.vipMoved).length;
  rows.push({ what: `VIP holder paused ${HOLDER_PAUSE_MS / 1000} s (keepalived and HAProxy stopped)`, runs: pauses.length, median: `${pauseMoves} moved`, max: '', goal: 'the VIP stays', met: pauseMoves === 0 });
  const haproxyBack = haproxyCrashes.map((r) => r.clientBackMs);
  rows.push({ what: `HAProxy killed on the VIP holder: clients answered again (VIP moved in ${haproxyCrashes.filter((r) => r.vipMoved).length})`, runs: haproxyCrashes.length, median: seconds(median(haproxyBack)), max: seconds(Math.max(...haproxyBack)), goal: '' });
  const crashBack = crashes.map((r) => r.backMs);
  rows.push({ what: 'Crashed service back (SIGKILL; Restart=)', runs: crashes.length, median: seconds(median(crashBack)), max: seconds(Math.max(...crashBack)), goal: '< 5 s', met: Math.max(...crashBack) < 5000 });
  const hangBack = hangs.map((r) => r.backMs);
  rows.push({ what: 'Hung service back (SIGSTOP; fabric watchdog)', runs: hangs.length, median: seconds(median(hangBack)), max: seconds(Math.max(...hangBack)), goal: '< 15 s', met: Math.max(...hangBack) < 15_000 });
  const moved = balancer.holdersAfter.length === 1 && balancer.holdersAfter[0] === balancer.to;
  rows.push({ what: `HAProxy hangs on the VIP holder: VIP moved (after ${balancer.restarts} watchdog restarts)`, runs: 1, median: seconds(balancer.vipMovedMs), max: seconds(balancer.vipMovedMs), goal: 'moves', met: moved });
  rows.push({ what: '  clients answered again (through the new holder)', runs: 1, median: seconds(balancer.clientBackMs), max: seconds(balancer.clientBackMs), goal: '' });

  // The holder dies (its VRRP process crashes, or its link goes), with the shipped advert interval.
  const holderDies = [...(byAdvert.get(DEFAULT_ADVERT_INTERVAL_SECONDS)?.entries() ?? [])].filter(([fault]) => fault !== 'keepalived-kill').flatMap(([, list]) => list);
  for (const [fault, list] of [['VIP holder dies', holderDies], ['VIP holder paused', pauses], ['HAProxy killed on the holder', haproxyCrashes], ['application node dies silently', silent]] as const) {
    for (const [sampler, d] of Object.entries(disruptionOf(list))) {
      rows.push({ what: `Disruption, ${fault}: ${sampler} (${d.failed}/${d.samples} samples failed, slowest ${d.slowest_s.toFixed(2)} s)`, runs: list.length, median: `${d.disruption_s.median.toFixed(2)} s`, max: `${d.disruption_s.max.toFixed(2)} s`, goal: '' });
    }
  }

  printTable(rows);
  const allRuns = [...byAdvert.values()].flatMap((m) => [...m.values()].flat());
  const s = (ms: number) => Math.round(ms) / 1000;
  const summary = (ms: number[]) => ({ median: s(median(ms)), max: s(Math.max(...ms)), runs: ms.length });
  const file = path.join(PROJECT_ROOT, 'test-results', 'failover-bench.json');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        runs_per_fault: runs,
        measured_at: new Date(started).toISOString(),
        commit: measuredCommit(),
        seconds: Math.round((Date.now() - started) / 1000),
        advert_interval_s: DEFAULT_ADVERT_INTERVAL_SECONDS,
        // The holder dies (its VRRP process crashes, or its link goes): from the fault to the client's first answer through the new holder.
        vip_failover_s: { ...summary(holderDies.map((r) => r.clientMs)), double_holder_runs: holderDies.filter((r) => r.sawTwoHolders).length },
        vip_failover_by_advert: Object.fromEntries(
          [...byAdvert].map(([advert, series]) => [String(advert), Object.fromEntries([...series].map(([fault, list]) => [fault, { ...summary(list.map((r) => r.clientMs)), takeover: summary(list.map((r) => r.takeoverMs)), double_holder_runs: list.filter((r) => r.sawTwoHolders).length }]))]),
        ),
        double_holder_runs: allRuns.filter((r) => r.sawTwoHolders).length + pauses.filter((r) => r.twoHoldersMs > 0).length + haproxyCrashes.filter((r) => r.twoHoldersMs > 0).length,
        // OpenShift-style disruption per fault: per frontend and connection kind (new, reused), 50 ms samples with a 2 s deadline.
        disruption: {
          vip_failover: disruptionOf(holderDies),
          holder_pause: disruptionOf(pauses),
          haproxy_crash: disruptionOf(haproxyCrashes),
          app_node_loss: disruptionOf(silent),
        },
        vip_moves: {
          vip_failover: { runs: holderDies.length, total: holderDies.reduce((n, r) => n + r.vipMoves, 0), note: 'the failover and, with nopreempt, no move back when the old holder returns' },
          holder_pause: pauses.reduce((n, r) => n + r.vipMoves, 0),
          haproxy_crash: haproxyCrashes.reduce((n, r) => n + r.vipMoves, 0),
        },
        app_node_loss: { total: silentTotal, failed: silentFailed, max_latency_s: s(silentSlowest), runs: silent.length, marked_down_s: summary(silent.map((r) => r.markedDownMs)), how: 'the application stopped (SIGSTOP) with GETs waiting on it, then its link down: no RST, as a power-off' },
        app_crash: { total: losses.reduce((n, r) => n + r.requests, 0), failed, marked_down_s: summary(down), runs: losses.length },
        holder_pause: { pause_s: HOLDER_PAUSE_MS / 1000, runs: pauses.length, vip_moves: pauses.reduce((n, r) => n + r.vipMoves, 0), runs_moved: pauseMoves },
        haproxy_crash: { ...summary(haproxyBack), vip_moved_runs: haproxyCrashes.filter((r) => r.vipMoved).length, note: 'vrrp_track_process needs the initial network namespace; the harness swaps it for an equivalent pgrep check (test/harness/adapt.ts), so this is that check, not the real tracker' },
        hung_service_s: summary(hangs.map((r) => r.backMs)),
        harness_notes: notes,
        crashed_service_s: summary(crashBack),
        rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nwritten: ${path.relative(PROJECT_ROOT, file)}\n`);
  process.stdout.write(`\n${runs} runs per measurement; ${((Date.now() - started) / 1000).toFixed(0)} s in all. Times are from the fault to the client's first answer from the new holder (VIP) or from the service.\n`);
  return rows.some((r) => r.met === false) ? 1 : 0;
}

/** Per sampler over the runs of one fault: disruption median and max, failed samples, the slowest sample. */
function disruptionOf(runs: readonly { disruption: readonly SamplerSummary[] }[]): Record<string, { disruption_s: { median: number; max: number }; failed: number; samples: number; slowest_s: number }> {
  const by = new Map<string, SamplerSummary[]>();
  for (const d of runs.flatMap((r) => r.disruption)) by.set(d.sampler, [...(by.get(d.sampler) ?? []), d]);
  return Object.fromEntries(
    [...by].map(([sampler, list]) => [
      sampler,
      {
        disruption_s: { median: median(list.map((d) => d.disruptionS)), max: Math.max(...list.map((d) => d.disruptionS)) },
        failed: list.reduce((n, d) => n + d.failed, 0),
        samples: list.reduce((n, d) => n + d.samples, 0),
        slowest_s: Math.max(...list.map((d) => d.slowestS)),
      },
    ]),
  );
}

function printTable(rows: Row[]): void {
  const header: Row = { what: 'Measurement', runs: 0, median: 'median', max: 'max', goal: 'goal' };
  const cells = (r: Row) => [r.what, r === header ? 'runs' : String(r.runs), r.median, r.max, r.goal ? `${r.goal}${r.met === undefined ? '' : r.met ? '  ok' : '  MISSED'}` : ''];
  const all = [header, ...rows].map(cells);
  const widths = all[0].map((_, i) => Math.max(...all.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === 1 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
  process.stdout.write(`\n${line(all[0])}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${all.slice(1).map(line).join('\n')}\n`);
}

async function cleanupAndExit(code: number): Promise<never> {
  for (const h of live) await h.stop().catch(() => undefined);
  process.exit(code);
}

process.on('SIGINT', () => void cleanupAndExit(130));
process.on('SIGTERM', () => void cleanupAndExit(143));
main().then(
  (code) => cleanupAndExit(code),
  async (err: unknown) => {
    process.stderr.write(`failover bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    await cleanupAndExit(2);
  },
);

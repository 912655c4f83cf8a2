import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { FabricModel } from '../../model/fabric-model';
import { PROJECT_ROOT } from '../../stacks/project-root';

/**
 * Disruption as OpenShift's disruption monitor measures it, shared by the
 * namespace harness and the VM tier: per frontend a sampler on new
 * connections and one on a reused connection, a sample every 50 ms with a
 * 2 s deadline (disruption-sampler-worker.ts), and disruption as the time
 * from the start of the first failing sample to the start of the next
 * success, summed over the run.
 */

/** One frontend: an HTTP(S) URL (two samplers) or a TCP address (a connect sampler). */
export interface SamplerTarget {
  /** Short name of the frontend in the report (`gui`, `nbi-8443`, `device-tcp`). */
  readonly name: string;
  readonly url?: string;
  readonly tcp?: { readonly host: string; readonly port: number };
  /** Bodies that count as a right answer (the application servers' names); any body when absent. */
  readonly bodyOneOf?: readonly string[];
}

export interface SamplerConfig {
  readonly targets: readonly SamplerTarget[];
  /** @default 50 */
  readonly intervalMs: number;
  /** A sample not answered within this is a failure. @default 2000 */
  readonly deadlineMs: number;
  /** The samplers stop by themselves after this (bounded); stop() ends them sooner. */
  readonly durationMs: number;
}

/** One timed request as a client saw it (the harness's prober records the same). */
export interface TimedRequest {
  /** Wall-clock ms at the request's start and end. */
  readonly t0: number;
  readonly t1: number;
  readonly ok: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly error?: string;
  /** The target's MAC in the client's ARP table right after the request (which node the VIP led to). */
  readonly mac?: string;
}

/** One sample, as the worker prints it. */
export interface SampleRecord extends TimedRequest {
  /** The sampler: `<frontend>/new`, `<frontend>/reused` or `<frontend>/connect`. */
  readonly s: string;
  /** Whether the sample went out on a connection that had served one before. */
  readonly reused?: boolean;
}

export interface SamplerSummary {
  readonly sampler: string;
  readonly samples: number;
  readonly failed: number;
  /** From the first failing sample's start to the next success's start, summed, in seconds. */
  readonly disruptionS: number;
  /** The slowest sample, answered or failed, in seconds. */
  readonly slowestS: number;
  /** The first failures: when (s after the run's first sample), what, how long it took. */
  readonly failures: readonly { readonly atS: number; readonly kind: string; readonly latencyS: number }[];
}

/**
 * Every frontend of a fabric as the model has it: the GUI and each NBI port
 * through the fabric VIP (answered with an application server's name), and
 * each device TCP port through the device VIP.
 */
export function frontendTargets(model: FabricModel): SamplerTarget[] {
  const lb = model.loadBalancer;
  const names = model.applicationServers.members;
  const https = (port: number) => `https://${model.vip}${port === 443 ? '' : `:${port}`}/`;
  return [
    { name: 'gui', url: https(lb.guiPort), bodyOneOf: names },
    ...lb.nbiPorts.map((port) => ({ name: `nbi-${port}`, url: https(port), bodyOneOf: names })),
    ...(model.deviceNetwork?.vrrp ? model.deviceNetwork.tcpPorts.map((port) => ({ name: `device-${port}`, tcp: { host: model.deviceNetwork!.vrrp!.vip, port } })) : []),
  ];
}

export const SAMPLE_INTERVAL_MS = 50;
export const SAMPLE_DEADLINE_MS = 2000;
const MAX_DESCRIBED = 10;
const round = (ms: number) => Math.round(ms) / 1000;

/** Summarizes each sampler's records (those that started at or after `fromMs`, when given). */
export function summarizeDisruption(records: readonly SampleRecord[], fromMs = -Infinity): SamplerSummary[] {
  const bySampler = new Map<string, SampleRecord[]>();
  for (const r of records) if (r.t0 >= fromMs) bySampler.set(r.s, [...(bySampler.get(r.s) ?? []), r]);
  const first = Math.min(...records.map((r) => r.t0));
  return [...bySampler.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([sampler, list]) => {
      const sorted = [...list].sort((a, b) => a.t0 - b.t0);
      let disruption = 0;
      let since: number | undefined;
      for (const r of sorted) {
        if (!r.ok && since === undefined) since = r.t0;
        if (r.ok && since !== undefined) {
          disruption += r.t0 - since;
          since = undefined;
        }
      }
      // Still failing at the end: disrupted until the last sample ended.
      if (since !== undefined) disruption += sorted[sorted.length - 1].t1 - since;
      const failed = sorted.filter((r) => !r.ok);
      return {
        sampler,
        samples: sorted.length,
        failed: failed.length,
        disruptionS: round(disruption),
        slowestS: round(Math.max(0, ...sorted.map((r) => r.t1 - r.t0))),
        failures: failed.slice(0, MAX_DESCRIBED).map((r) => ({ atS: round(r.t0 - first), kind: r.error ?? String(r.status), latencyS: round(r.t1 - r.t0) })),
      };
    });
}

/** One line per sampler, for logs and result details. */
export function describeDisruption(summaries: readonly SamplerSummary[]): string {
  return summaries
    .map((s) => `${s.sampler}: ${s.failed}/${s.samples} failed, disrupted ${s.disruptionS.toFixed(2)} s, slowest ${s.slowestS.toFixed(2)} s${s.failures.length ? ` (${s.failures.map((f) => `${f.kind} at ${f.atS.toFixed(2)} s`).join(', ')})` : ''}`)
    .join('; ');
}

/**
 * The host side of a running sampler: starts the worker through `enter`
 * (the command that runs a program in the client's namespace, e.g.
 * `['ip', 'netns', 'exec', ns]`) and collects its records as they arrive.
 */
export class DisruptionSampler {
  readonly records: SampleRecord[] = [];
  readonly done: Promise<void>;
  private readonly child: ChildProcess;
  private exited = false;

  constructor(enter: readonly string[], config: Partial<SamplerConfig> & Pick<SamplerConfig, 'targets' | 'durationMs'>, hooks: { onSpawn?(pid: number): void; onExit?(pid: number): void } = {}) {
    const full: SamplerConfig = { intervalMs: SAMPLE_INTERVAL_MS, deadlineMs: SAMPLE_DEADLINE_MS, ...config };
    // Compiled by the build (tsc), also when this module runs from its source under ts-jest.
    const worker = path.join(PROJECT_ROOT, 'dist', 'e2e', 'lib', 'disruption-sampler-worker.js');
    if (!existsSync(worker)) throw new Error(`the disruption sampler's worker ${worker} is missing: run npm run build`);
    this.child = spawn(enter[0], [...enter.slice(1), process.execPath, worker, JSON.stringify(full)], { stdio: ['pipe', 'pipe', 'inherit'] });
    if (this.child.pid === undefined) throw new Error(`could not start the disruption sampler (${enter.join(' ')})`);
    const pid = this.child.pid;
    hooks.onSpawn?.(pid);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.records.push(JSON.parse(line) as SampleRecord);
      } catch {
        /* not a record */
      }
    });
    this.child.stdin!.on('error', () => undefined);
    this.done = new Promise((resolve) =>
      this.child.on('exit', () => {
        this.exited = true;
        hooks.onExit?.(pid);
        resolve();
      }),
    );
  }

  get running(): boolean {
    return !this.exited;
  }

  /** Ends the samplers (each finishes its sample in flight, at most the deadline), then summarizes. */
  async stop(fromMs?: number): Promise<SamplerSummary[]> {
    if (!this.exited) this.child.stdin!.write('stop\n');
    const bound = (ms: number) => Promise.race([this.done, new Promise((r) => setTimeout(r, ms).unref())]);
    await bound(SAMPLE_DEADLINE_MS + 3000);
    if (!this.exited) this.child.kill('SIGKILL');
    await bound(3000);
    return summarizeDisruption(this.records, fromMs);
  }
}

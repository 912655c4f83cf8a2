import { nowMs, sleep } from './exec';
import { FabricHarness } from './fabric-harness';
import { ProbeRecord } from './prober';

/**
 * Day 2 on a running fabric: a change is made while a client streams
 * requests through the VIP, and what the client saw is measured. Shared by
 * the jest tests (which assert) and anything that reports figures.
 */

export interface StreamFigures {
  readonly step: string;
  readonly requests: number;
  readonly failed: number;
  readonly slowestMs: number;
  /** From the start of the first failed request to the end of the last one (0 when none failed). */
  readonly failureSpanMs: number;
  /** Each distinct failure (status or error) with its count. */
  readonly failures: Readonly<Record<string, number>>;
  /** Times the set of VIP holders changed (sampled every ~50 ms). */
  readonly vipMoves: number;
  /** The holders seen, in order (one entry when the VIP stayed put). */
  readonly holders: readonly string[];
}

/** Samples the fabric VIP's holders in the background, bounded by `maxMs`. */
class VipWatch {
  private stopped = false;
  private readonly done: Promise<void>;
  readonly holders: string[] = [];
  moves = 0;

  constructor(h: FabricHarness, maxMs: number) {
    this.done = (async () => {
      const start = nowMs();
      for (let i = 0; i < Math.ceil(maxMs / 50) && !this.stopped && nowMs() - start < maxMs; i++) {
        const key = h.vipHolders().join('+') || 'nobody';
        if (this.holders.length === 0) this.holders.push(key);
        else if (this.holders[this.holders.length - 1] !== key) {
          this.holders.push(key);
          this.moves++;
        }
        await sleep(50);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

/**
 * Runs `change` while a client sends a GET through https://VIP/ every
 * `intervalMs` on a new connection (new TLS session each, as new clients
 * would), and keeps streaming `afterMs` after it; returns what `change`
 * returned, the client's records and the figures.
 */
export async function underStream<T>(
  h: FabricHarness,
  step: string,
  change: () => Promise<T>,
  options: { intervalMs?: number; afterMs?: number; maxMs?: number } = {},
): Promise<{ result: T; records: ProbeRecord[]; figures: StreamFigures }> {
  const maxMs = options.maxMs ?? 120_000;
  const prober = h.prober({ url: `https://${h.vip}/`, intervalMs: options.intervalMs ?? 25, timeoutMs: 3000, durationMs: maxMs, maxRequests: Math.ceil(maxMs / (options.intervalMs ?? 25)) });
  const watch = new VipWatch(h, maxMs);
  let result: T;
  let records: ProbeRecord[];
  try {
    const running = await prober.waitFor((r) => (r.length >= 5 ? true : undefined), 10_000);
    if (!running) throw new Error(`${step}: the client stream did not start`);
    result = await change();
    await sleep(options.afterMs ?? 1000);
  } finally {
    records = await prober.stop();
    await watch.stop();
  }
  const failed = records.filter((r) => !r.ok);
  const failures: Record<string, number> = {};
  for (const r of failed) {
    const what = r.error ?? `HTTP ${r.status}`;
    failures[what] = (failures[what] ?? 0) + 1;
  }
  const figures: StreamFigures = {
    step,
    requests: records.length,
    failed: failed.length,
    slowestMs: Math.max(0, ...records.map((r) => r.t1 - r.t0)),
    failureSpanMs: failed.length ? Math.max(...failed.map((r) => r.t1)) - Math.min(...failed.map((r) => r.t0)) : 0,
    failures,
    vipMoves: watch.moves,
    holders: watch.holders,
  };
  return { result, records, figures };
}

export function formatFigures(rows: readonly StreamFigures[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [
    line(['step', 'requests', 'failed', 'slowest', 'VIP moves', 'VIP holder(s)']),
    line(['---', '---:', '---:', '---:', '---:', '---']),
    ...rows.map((r) => {
      const failed = r.failed ? `${r.failed} within ${(r.failureSpanMs / 1000).toFixed(2)} s (${Object.entries(r.failures).map(([what, n]) => `${n}x ${what}`).join(', ')})` : '0';
      return line([r.step, String(r.requests), failed, `${(r.slowestMs / 1000).toFixed(3)} s`, String(r.vipMoves), r.holders.join(' -> ')]);
    }),
  ].join('\n');
}

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The e2e's results: every scenario gets a stable id (the same in every
 * run, so runs can be compared), and a scenario that was expected but never
 * recorded (an earlier step failed, a holder was not found) is recorded as
 * failed instead of silently missing.
 */
export interface Result {
  /** Stable across runs: `boot-node1`, `vip-after-boot`, `app-poweroff`, ... */
  readonly id: string;
  /** What it did, for a person (may name nodes). */
  readonly scenario: string;
  readonly outcome: 'pass' | 'fail' | 'skip';
  readonly seconds?: number;
  readonly detail: string;
  /** For a result that measures requests: how many were sent, how many failed, the slowest. */
  readonly total?: number;
  readonly failed?: number;
  readonly max_latency_s?: number;
  /** More measured figures (a boot's phases, a node name). */
  readonly measured?: Record<string, unknown>;
}

export class StackResults {
  readonly results: Result[] = [];
  private readonly started = Date.now();

  constructor(
    readonly stack: string,
    /** The ids this stack must record, in order. */
    private readonly expected: string[] = [],
  ) {}

  expect(ids: string[]): void {
    for (const id of ids) if (!this.expected.includes(id)) this.expected.push(id);
  }

  has(id: string): boolean {
    return this.results.some((r) => r.id === id);
  }

  record(r: Result): Result {
    this.results.push(r);
    const figures = r.total !== undefined ? ` [${r.failed} of ${r.total} failed, slowest ${r.max_latency_s?.toFixed(2)} s]` : '';
    console.log(`[e2e] ${this.stack}: ${r.outcome.toUpperCase()} ${r.id} (${r.scenario})${r.seconds !== undefined ? ` ${r.seconds.toFixed(2)} s` : ''}${figures}: ${r.detail}`);
    return r;
  }

  fail(id: string, scenario: string, detail: string): Result {
    return this.record({ id, scenario, outcome: 'fail', detail });
  }

  /** Records every expected id not recorded yet as failed: nothing expected goes missing. */
  closeMissing(why: string): void {
    for (const id of this.expected) if (!this.has(id)) this.fail(id, 'not run', why);
  }

  get passed(): number {
    return this.results.filter((r) => r.outcome === 'pass').length;
  }

  get failed(): number {
    return this.results.filter((r) => r.outcome === 'fail').length;
  }

  write(dir: string, extra: Record<string, unknown>): string {
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `e2e-${this.stack}.json`);
    const body = {
      stack: this.stack,
      seconds: Math.round((Date.now() - this.started) / 1000),
      passed: this.passed,
      failed: this.failed,
      ...extra,
      results: this.results,
    };
    writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
    return file;
  }

  printTable(): void {
    console.log(`\n${this.stack}: id | outcome | seconds | requests | detail`);
    console.log('--- | --- | --- | --- | ---');
    for (const r of this.results) {
      const requests = r.total !== undefined ? `${r.total - (r.failed ?? 0)}/${r.total} ok, max ${r.max_latency_s?.toFixed(2)} s` : '';
      console.log(`${r.id} | ${r.outcome} | ${r.seconds?.toFixed(2) ?? ''} | ${requests} | ${r.scenario}: ${r.detail}`);
    }
  }
}

/**
 * The settings in which `tuned` differs from `shipped` (two normalized
 * fabric models), grouped by key: which values the product ships, which the
 * e2e ran with, and where in the model.
 */
export function differingSettings(shipped: unknown, tuned: unknown): { setting: string; shipped: unknown[]; e2e: unknown[]; paths: string[] }[] {
  const diffs: { path: string; a: unknown; b: unknown }[] = [];
  const walk = (a: unknown, b: unknown, at: string) => {
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
      for (const k of keys) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      diffs.push({ path: at, a, b });
    }
  };
  walk(shipped, tuned, '');
  const byKey = new Map<string, { setting: string; shipped: unknown[]; e2e: unknown[]; paths: string[] }>();
  for (const d of diffs) {
    const setting = d.path.replace(/\[\d+\]/g, '[]');
    const leaf = setting.split('.').pop()!;
    const entry = byKey.get(leaf) ?? { setting: leaf, shipped: [], e2e: [], paths: [] };
    if (!entry.shipped.includes(d.a)) entry.shipped.push(d.a);
    if (!entry.e2e.includes(d.b)) entry.e2e.push(d.b);
    entry.paths.push(d.path);
    byKey.set(leaf, entry);
  }
  return [...byKey.values()];
}

import { spawnSync } from 'node:child_process';

/**
 * Small, bounded process helpers for the namespace harness. Every call has a
 * time limit; nothing here loops without a bound.
 */

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { input: options.input, encoding: 'utf8', timeout: options.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024 });
  if (r.error) return { status: -1, stdout: '', stderr: `${cmd} could not run: ${r.error.message}` };
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Runs a command and throws, with its output, unless it exits 0. */
export function runOk(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Wall-clock milliseconds, read now: comparable with the timestamps of every
 * other process of a run (supervisors, probers, samplers, the journal's
 * `date +%s.%N`). Not performance.timeOrigin + performance.now(): that is
 * the wall clock at the process's start plus a monotonic count, so after the
 * machine's clock is stepped, processes started before and after the step
 * disagree for the rest of the run (a rehearsal measured every link-down
 * failover 9.4 s too slow and node3's DOWN 9.2 s before its kill that way).
 */
export function nowMs(): number {
  return Date.now();
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than
 * undefined, or until `timeoutMs` has passed (then undefined). Bounded in
 * time and in count.
 */
export async function pollUntil<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 50): Promise<T | undefined> {
  const deadline = nowMs() + timeoutMs;
  const maxTries = Math.ceil(timeoutMs / Math.max(intervalMs, 1)) + 2;
  for (let i = 0; i < maxTries; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    if (nowMs() >= deadline) return undefined;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - nowMs())));
  }
  return undefined;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Waits for `promise` at most `ms`; undefined on timeout. The timer is cleared either way (no dangling handle). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

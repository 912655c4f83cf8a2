import { execFile, spawnSync } from 'node:child_process';

/** Runs a command, bounded in time; throws with its output when it fails. */
export function sh(cmd: string, args: string[], timeoutMs = 30000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Like sh, but returns success instead of throwing. */
export function trySh(cmd: string, args: string[], timeoutMs = 30000): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/**
 * Like trySh, without blocking the event loop: checks that are polled side
 * by side (a database write and a VIP probe after one power-off) must not
 * wait for each other.
 */
export function tryShAsync(cmd: string, args: string[], timeoutMs = 30000): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: !error, out: `${stdout ?? ''}${stderr ?? ''}` });
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` every `intervalMs` until it is true or `timeoutMs` passes;
 * returns the seconds since `since` (default: the call), or undefined.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100, since = Date.now()): Promise<number | undefined> {
  const start = Date.now();
  for (let i = 0; Date.now() - start < timeoutMs && i < Math.ceil(timeoutMs / intervalMs) + 1; i++) {
    if (await check()) return (Date.now() - since) / 1000;
    await sleep(intervalMs);
  }
  return undefined;
}

/**
 * When a service came back, as a client sees it: a new attempt of `probe`
 * starts every `everyMs` without waiting for the ones before (each is
 * bounded by its own deadline), until one succeeds or `timeoutMs` passes.
 * Returns the seconds from `since` to the end of the first successful
 * attempt, or undefined. Polling one attempt after another would measure the
 * attempt's own timeout instead: a connection sent to the dead holder just
 * before the VIP moved waits out its SYN retransmission (1 s) while a new
 * one would already be answered.
 */
export async function firstSuccess(probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100, since = Date.now()): Promise<number | undefined> {
  const start = Date.now();
  let answeredAt: number | undefined;
  const attempts: Promise<void>[] = [];
  for (let i = 0; answeredAt === undefined && Date.now() - start < timeoutMs && i < Math.ceil(timeoutMs / everyMs) + 1; i++) {
    attempts.push(
      probe().then(
        (ok) => {
          if (ok) answeredAt ??= Date.now();
        },
        () => undefined,
      ),
    );
    await sleep(everyMs);
  }
  // The attempts still running end within their own deadlines; none is left behind.
  await Promise.all(attempts);
  return answeredAt === undefined ? undefined : (answeredAt - since) / 1000;
}

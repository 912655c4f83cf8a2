import { ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pollUntil, within } from './exec';
import type { TimedRequest } from '../../e2e/lib/disruption-sampler';

/**
 * The client: a small program run in the client namespace that sends
 * requests one after another at a bounded rate for a bounded time and
 * prints one JSON line per request. Each request opens a new TCP and TLS
 * connection (as a new client would), so without a cookie HAProxy's round
 * robin spreads them. After each answer it records which MAC address the
 * client's ARP table holds for the target, so the harness can tell which
 * node the VIP led to.
 */

export interface ProberConfig {
  readonly url: string;
  /** Milliseconds between the starts of consecutive requests (a request never overlaps the next). */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /** Keep and send back cookies (session stickiness). */
  readonly sticky?: boolean;
}

export interface ProbeRecord extends TimedRequest {
  readonly i: number;
}

/* istanbul ignore next */
export function proberMain(cfg: ProberConfig): void {
  const https = require('node:https') as typeof import('node:https');
  const http = require('node:http') as typeof import('node:http');
  const fs = require('node:fs') as typeof import('node:fs');
  // The wall clock now, as every process of the run reads it (see nowMs in exec.ts).
  const now = () => Date.now();
  const target = new URL(cfg.url);
  const lib = target.protocol === 'https:' ? https : http;
  let cookie = '';
  const macOf = (ip: string): string | undefined => {
    try {
      const line = fs
        .readFileSync('/proc/net/arp', 'utf8')
        .split('\n')
        .find((l) => l.split(/\s+/)[0] === ip);
      const mac = line?.split(/\s+/)[3];
      return mac && mac !== '00:00:00:00:00:00' ? mac : undefined;
    } catch {
      return undefined;
    }
  };
  const once = (i: number) =>
    new Promise<void>((resolve) => {
      const t0 = now();
      let done = false;
      const finish = (r: { ok: boolean; status?: number; body?: string; error?: string }) => {
        if (done) return;
        done = true;
        const rec = { i, t0, t1: now(), ...r, mac: macOf(target.hostname) };
        process.stdout.write(`${JSON.stringify(rec)}\n`);
        resolve();
      };
      const req = lib.request(
        cfg.url,
        { method: 'GET', agent: false, rejectUnauthorized: false, timeout: cfg.timeoutMs, headers: cookie ? { Cookie: cookie } : {} },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            const set = res.headers['set-cookie'];
            if (cfg.sticky && set && set.length > 0) cookie = set.map((c) => c.split(';')[0]).join('; ');
            finish({ ok: res.statusCode === 200, status: res.statusCode, body: body.trim() });
          });
          res.on('error', (e) => finish({ ok: false, error: String(e) }));
        },
      );
      req.on('timeout', () => {
        req.destroy(new Error('timeout'));
      });
      req.on('error', (e) => finish({ ok: false, error: e.message }));
      req.end();
      setTimeout(() => {
        req.destroy(new Error('hard timeout'));
        finish({ ok: false, error: 'hard timeout' });
      }, cfg.timeoutMs * 2 + 100).unref();
    });
  void (async () => {
    const start = now();
    for (let i = 0; i < cfg.maxRequests && now() - start < cfg.durationMs; i++) {
      const t = now();
      await once(i);
      const rest = cfg.intervalMs - (now() - t);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    }
    process.exit(0);
  })();
  process.on('SIGTERM', () => process.exit(0));
}

/** Host side of a running prober: collects its records as they arrive. */
export class Prober {
  readonly records: ProbeRecord[] = [];
  private readonly child: ChildProcess;
  private exited = false;
  readonly done: Promise<void>;

  constructor(command: string, args: readonly string[], onSpawn: (pid: number) => void, onExit: (pid: number) => void) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`could not start the prober (${command})`);
    const pid = this.child.pid;
    onSpawn(pid);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      try {
        this.records.push(JSON.parse(line) as ProbeRecord);
      } catch {
        /* not a record */
      }
    });
    this.child.stderr!.resume();
    this.done = new Promise((resolve) =>
      this.child.on('exit', () => {
        this.exited = true;
        onExit(pid);
        resolve();
      }),
    );
  }

  /** Waits (bounded) until `predicate` returns a value for the records so far; undefined on timeout or when the prober has ended. */
  async waitFor<T>(predicate: (records: readonly ProbeRecord[]) => T | undefined, timeoutMs: number): Promise<T | undefined> {
    let result: T | undefined;
    await pollUntil(() => {
      result = predicate(this.records);
      return result !== undefined || this.exited ? true : undefined;
    }, timeoutMs, 20);
    return result;
  }

  async stop(): Promise<ProbeRecord[]> {
    if (!this.exited) this.child.kill('SIGTERM');
    await within(this.done, 3000);
    if (!this.exited) this.child.kill('SIGKILL');
    await within(this.done, 3000);
    return this.records;
  }

}

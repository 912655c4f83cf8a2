import { spawn } from 'node:child_process';

export interface StreamResult {
  readonly sent: number;
  readonly failed: number;
  /** Failures by kind: HTTP status or error code. */
  readonly failures: Record<string, number>;
  /** The slowest successful request, in milliseconds. */
  readonly slowestMs: number;
  /** The slowest request, answered or failed, in milliseconds. */
  readonly maxLatencyMs: number;
}

/**
 * A steady, bounded stream of idempotent GETs from inside the namespace, as
 * a browser sends them: over a few kept-alive TLS connections, so the
 * measurement is about the fabric and not about TLS handshakes on a slow
 * emulated CPU. Each request may take up to 90 s, as long as a browser
 * waits: a request in flight to a node that loses power is answered only
 * after HAProxy's server timeout retries it elsewhere (each retry may wait
 * that timeout again, so the stream waits up to 250 s for the last answer,
 * and counts what is still unanswered then as failed). Runs as a separate
 * node process in the namespace.
 */
export function streamRequests(namespace: string, url: string, perSecond: number, durationMs: number): Promise<StreamResult> {
  return startStream(namespace, url, perSecond, durationMs).result;
}

/**
 * The same stream for a step of unknown length: it runs until `stop()` (or
 * `maxMs`), then waits for the requests in flight, as above.
 */
export function requestStream(namespace: string, url: string, perSecond: number, maxMs: number): { stop(): Promise<StreamResult> } {
  const s = startStream(namespace, url, perSecond, maxMs);
  return {
    stop: () => {
      s.stop();
      return s.result;
    },
  };
}

function startStream(namespace: string, url: string, perSecond: number, durationMs: number): { stop(): void; result: Promise<StreamResult> } {
  const script = `
const https = require('node:https');
const agent = new https.Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
let total = Math.round(${perSecond} * ${durationMs} / 1000);
let sent = 0, done = 0, failed = 0, slowestMs = 0, maxLatencyMs = 0; const failures = {};
const fail = (k) => { failed++; failures[k] = (failures[k] || 0) + 1; };
const report = () => { process.stdout.write(JSON.stringify({ sent, failed, failures, slowestMs, maxLatencyMs })); process.exit(0); };
const finish = (t0) => { maxLatencyMs = Math.max(maxLatencyMs, Date.now() - t0); if (++done === total) report(); };
// A line on stdin ends the stream early: nothing more is sent, the requests in flight are waited for.
process.stdin.on('data', () => { total = sent; if (done === total) report(); });
const timer = setInterval(() => {
  if (sent >= total) { clearInterval(timer); return; }
  sent++;
  const t0 = Date.now();
  const req = https.get(${JSON.stringify(url)}, { agent, timeout: 90000 }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode !== 200) fail(String(res.statusCode)); else slowestMs = Math.max(slowestMs, Date.now() - t0); finish(t0); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => { fail(e.code || e.message); finish(t0); });
}, ${1000 / perSecond});
setTimeout(() => { process.stdout.write(JSON.stringify({ sent, failed: failed + (sent - done), failures: { ...failures, unfinished: sent - done }, slowestMs, maxLatencyMs: ${durationMs + 250000} })); process.exit(0); }, ${durationMs + 250000});
`;
  const p = spawn('ip', ['netns', 'exec', namespace, process.execPath, '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const result = new Promise<StreamResult>((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', () => {
      try {
        resolve(JSON.parse(out) as StreamResult);
      } catch {
        reject(new Error(`request stream gave no result: ${out}`));
      }
    });
  });
  p.stdin.on('error', () => undefined);
  return { stop: () => p.stdin.write('stop\n'), result };
}

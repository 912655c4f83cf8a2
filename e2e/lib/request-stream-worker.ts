/**
 * The request stream's worker (request-stream.ts starts it inside the
 * client's namespace): `node request-stream-worker.js URL PER_SECOND DURATION_MS [CONNECTIONS]`.
 * Sends PER_SECOND idempotent GETs per second for DURATION_MS (or until a
 * line arrives on stdin), waits for the requests in flight, and prints one
 * JSON StreamResult on stdout.
 */
import https from 'node:https';

/** A browser waits this long for an answer; a request in flight to a node that lost power is answered after HAProxy's server timeout retries it. */
const REQUEST_DEADLINE_MS = 90_000;
/**
 * An idle kept-alive connection is closed by this client after 5 s (as
 * Node's own global agent does), well before HAProxy's 10 s
 * `timeout http-keep-alive`. Without it a request sent on a connection the
 * server is closing at that moment gets ECONNRESET, a race of the client's
 * and not the fabric's (RFC 9112 §9.3.1).
 */
const IDLE_SOCKET_MS = 5_000;
/** A backstop after the stream ends: every request has met its deadline by then, so it reports only a stuck worker. */
const DRAIN_MS = REQUEST_DEADLINE_MS + 10_000;
/** Failures described one by one (time, kind, connection); the rest are only counted. */
const MAX_DESCRIBED = 20;

/** The slowest answered request, taken apart: how much of its time was the client's own queue. */
export interface SlowestRequest {
  /** When it was sent, in ms from the stream's start. */
  readonly sentAtMs: number;
  readonly latencyMs: number;
  /** How long it waited in the client for one of its connections before it went out. */
  readonly queuedMs: number;
  readonly reusedConnection: boolean;
}

export interface FailureDetail {
  /** When the request was sent, in ms from the stream's start. */
  readonly sentAtMs: number;
  /** HTTP status, error code ('response <code>' once the answer had begun), or 'deadline'. */
  readonly kind: string;
  readonly latencyMs: number;
  /** Whether it went out on a kept-alive connection that had served a request before. */
  readonly reusedConnection: boolean;
}

const [url, perSecondArg, durationArg, connectionsArg = '4'] = process.argv.slice(2);
const perSecond = Number(perSecondArg);
const durationMs = Number(durationArg);
const connections = Number(connectionsArg);
if (!url || !(perSecond > 0) || !(durationMs > 0) || !(Number.isInteger(connections) && connections > 0)) {
  process.stderr.write('usage: request-stream-worker URL PER_SECOND DURATION_MS [CONNECTIONS]\n');
  process.exit(64);
}

const agent = new https.Agent({ keepAlive: true, maxSockets: connections, timeout: IDLE_SOCKET_MS, rejectUnauthorized: false });
const started = Date.now();
let total = Math.round((perSecond * durationMs) / 1000);
let sent = 0;
let done = 0;
let failed = 0;
let slowestMs = 0;
let maxLatencyMs = 0;
let slowest: SlowestRequest | undefined;
/** Every answered request as [sentAtMs, latencyMs]: the caller picks those that ran across its fault. */
const answered: [number, number][] = [];
const failures: Record<string, number> = {};
const failureDetails: FailureDetail[] = [];

function report(extra: { unfinished?: number } = {}): never {
  const result = { startedAt: started, sent, failed, failures, failureDetails, slowestMs, maxLatencyMs, slowest, answered };
  if (extra.unfinished) {
    result.failed += extra.unfinished;
    failures.unfinished = extra.unfinished;
    result.maxLatencyMs = Date.now() - started;
  }
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

function sendOne(): void {
  sent++;
  const t0 = Date.now();
  let onConnectionAt: number | undefined;
  let settled = false;
  const settle = (kind: string | undefined, reusedConnection: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    const latencyMs = Date.now() - t0;
    maxLatencyMs = Math.max(maxLatencyMs, latencyMs);
    if (kind === undefined) {
      if (latencyMs > slowestMs) slowest = { sentAtMs: t0 - started, latencyMs, queuedMs: (onConnectionAt ?? t0) - t0, reusedConnection };
      slowestMs = Math.max(slowestMs, latencyMs);
      answered.push([t0 - started, latencyMs]);
    } else {
      failed++;
      failures[kind] = (failures[kind] ?? 0) + 1;
      if (failureDetails.length < MAX_DESCRIBED) failureDetails.push({ sentAtMs: t0 - started, kind, latencyMs, reusedConnection });
    }
    if (++done === total) report();
  };
  // The request's own socket timeout, so that a busy connection does not keep the agent's idle one (Node applies
  // the agent's timeout to a socket in use unless the request sets its own); the deadline below acts first.
  const req = https.get(url, { agent, timeout: REQUEST_DEADLINE_MS }, (res) => {
    res.resume();
    res.on('end', () => settle(res.statusCode === 200 ? undefined : String(res.statusCode), req.reusedSocket));
    res.on('error', (e: NodeJS.ErrnoException) => settle(`response ${e.code ?? e.message}`, req.reusedSocket));
  });
  // Bounds the request however it is stuck: queued for a connection, connecting, or waiting for its answer.
  const deadline = setTimeout(() => {
    req.destroy();
    settle('deadline', req.reusedSocket);
  }, REQUEST_DEADLINE_MS);
  req.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message, req.reusedSocket));
  // The agent hands the request a connection (a kept-alive one, or a new one) when one of its CONNECTIONS is free.
  req.on('socket', () => (onConnectionAt = Date.now()));
}

// A line on stdin ends the stream early: nothing more is sent, the requests in flight are waited for.
process.stdin.on('data', () => {
  total = sent;
  if (done === total) report();
});
const timer = setInterval(() => {
  if (sent >= total) {
    clearInterval(timer);
    return;
  }
  sendOne();
}, 1000 / perSecond);
setTimeout(() => report({ unfinished: sent - done }), durationMs + DRAIN_MS);

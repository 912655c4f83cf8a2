import { spawn } from 'node:child_process';
import path from 'node:path';
import type { FailureDetail, SlowestRequest } from './request-stream-worker';

export interface StreamResult {
  readonly sent: number;
  readonly failed: number;
  /** Failures by kind: HTTP status or error code. */
  readonly failures: Record<string, number>;
  /** The first failures one by one: when sent, what, and on which kind of connection. */
  readonly failureDetails: readonly FailureDetail[];
  /** The slowest successful request, in milliseconds. */
  readonly slowestMs: number;
  /** The slowest request, answered or failed, in milliseconds. */
  readonly maxLatencyMs: number;
  /** The slowest successful request taken apart (absent when none succeeded). */
  readonly slowest?: SlowestRequest;
  /** When the worker started sending (epoch ms, this host's clock): `sentAtMs` counts from here. */
  readonly startedAt: number;
  /** Every answered request as [sentAtMs, latencyMs]. */
  readonly answered: readonly (readonly [number, number])[];
}

/**
 * A steady, bounded stream of idempotent GETs from inside the namespace, as
 * a browser sends them: over `connections` kept-alive TLS connections (closed
 * by the client after 5 s idle), so the measurement is about the fabric and not
 * about TLS handshakes on a slow emulated CPU. Each request has 90 s, as
 * long as a browser waits, so that a slow answer is measured rather than
 * cut: a GET in flight to a node that loses power is retried elsewhere when
 * HAProxy's read timeout strikes (readTimeoutSeconds). A request not
 * answered 200 by then is failed. Runs as a separate node
 * process in the namespace (request-stream-worker.ts).
 */
export function streamRequests(namespace: string, url: string, perSecond: number, durationMs: number, connections = 4): Promise<StreamResult> {
  return startStream(namespace, url, perSecond, durationMs, connections).result;
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

function startStream(namespace: string, url: string, perSecond: number, durationMs: number, connections = 4): { stop(): void; result: Promise<StreamResult> } {
  const worker = path.join(__dirname, 'request-stream-worker.js');
  const p = spawn('ip', ['netns', 'exec', namespace, process.execPath, worker, url, String(perSecond), String(durationMs), String(connections)], { stdio: ['pipe', 'pipe', 'inherit'] });
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

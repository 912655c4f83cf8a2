/**
 * The disruption sampler's worker (disruption-sampler.ts starts it inside
 * the client's namespace): `node disruption-sampler-worker.js CONFIG_JSON`.
 *
 * Two samplers per HTTP frontend, as OpenShift's disruption monitor has
 * them: one opens a new connection for every sample (what a new client
 * sees: ARP, TCP, TLS, HAProxy's routing), one keeps a single kept-alive
 * connection for as long as it works (what a browser sees: a reset or a
 * close of a connection in use). A TCP frontend gets a connect sampler.
 * Each sampler starts a sample every `intervalMs` (never two at once) and
 * gives it `deadlineMs`; a sample fails on an error, the deadline, a status
 * outside 200-399 or a body that is not one of `bodyOneOf`. One JSON line
 * per sample on stdout (a SampleRecord); a line on stdin or SIGTERM ends it.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { SampleRecord, SamplerConfig, SamplerTarget } from './disruption-sampler';

const cfg = JSON.parse(process.argv[2] ?? '{}') as SamplerConfig;
if (!Array.isArray(cfg.targets) || cfg.targets.length === 0 || !(cfg.intervalMs > 0) || !(cfg.deadlineMs > 0) || !(cfg.durationMs > 0)) {
  process.stderr.write('usage: disruption-sampler-worker \'{"targets":[...],"intervalMs":50,"deadlineMs":2000,"durationMs":N}\'\n');
  process.exit(64);
}
// The wall clock now, as the run's other processes read it (not timeOrigin + performance.now(), which a clock step splits).
const now = () => Date.now();
const started = now();
let stopping = false;

/** The MAC the client's ARP table holds for `ip` (which node the VIP led to), if any. */
function macOf(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  try {
    const mac = readFileSync('/proc/net/arp', 'utf8').split('\n').find((l) => l.split(/\s+/)[0] === ip)?.split(/\s+/)[3];
    return mac && mac !== '00:00:00:00:00:00' ? mac : undefined;
  } catch {
    return undefined;
  }
}

function emit(r: SampleRecord): void {
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

type Outcome = Omit<SampleRecord, 's' | 't0' | 't1' | 'mac'>;

function httpSample(target: SamplerTarget, agent: http.Agent | false): Promise<Outcome> {
  const url = new URL(target.url!);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(o);
    };
    const req = lib.get(url, { agent, rejectUnauthorized: false, timeout: cfg.deadlineMs } as https.RequestOptions, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.length + body.length <= 4096 ? c : ''));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = body.trim();
        const goodStatus = status >= 200 && status <= 399;
        const goodBody = !target.bodyOneOf || target.bodyOneOf.includes(text);
        settle({ ok: goodStatus && goodBody, status, body: text.slice(0, 64), reused: req.reusedSocket, ...(goodStatus && !goodBody ? { error: 'unexpected body' } : {}) });
      });
      res.on('error', (e: NodeJS.ErrnoException) => settle({ ok: false, error: `response ${e.code ?? e.message}`, reused: req.reusedSocket }));
    });
    const deadline = setTimeout(() => {
      settle({ ok: false, error: 'deadline', reused: req.reusedSocket });
      req.destroy();
    }, cfg.deadlineMs);
    req.on('error', (e: NodeJS.ErrnoException) => settle({ ok: false, error: e.code ?? e.message, reused: req.reusedSocket }));
  });
}

function tcpSample(target: SamplerTarget): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.tcp!.host, port: target.tcp!.port });
    const done = (o: Outcome) => {
      clearTimeout(deadline);
      socket.destroy();
      resolve(o);
    };
    const deadline = setTimeout(() => done({ ok: false, error: 'deadline' }), cfg.deadlineMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
  });
}

async function runSampler(name: string, sample: () => Promise<Outcome>, arpFor: string | undefined): Promise<void> {
  const maxSamples = Math.ceil(cfg.durationMs / cfg.intervalMs) + 1;
  for (let i = 0; i < maxSamples && !stopping && now() - started < cfg.durationMs; i++) {
    const t0 = now();
    const o = await sample();
    emit({ s: name, t0, t1: now(), ...o, mac: macOf(arpFor) });
    const rest = t0 + cfg.intervalMs - now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
}

const samplers: Promise<void>[] = [];
for (const target of cfg.targets) {
  if (target.url) {
    const host = new URL(target.url).hostname;
    samplers.push(runSampler(`${target.name}/new`, () => httpSample(target, false), host));
    // One connection, kept alive as long as it works; a broken one is replaced by the next sample.
    const agent = new (target.url.startsWith('https:') ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 1 });
    samplers.push(runSampler(`${target.name}/reused`, () => httpSample(target, agent), host));
  } else if (target.tcp) {
    samplers.push(runSampler(`${target.name}/connect`, () => tcpSample(target), target.tcp.host));
  }
}
process.stdin.on('data', () => (stopping = true));
process.stdin.on('error', () => undefined);
process.on('SIGTERM', () => process.exit(0));
void Promise.all(samplers).then(() => process.exit(0));

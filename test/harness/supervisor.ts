import type { UnitSpec } from './units';

/**
 * The stand-in for systemd inside one node. It runs in the node's own PID,
 * mount, UTS and network namespaces, as the child of a shell that is PID 1
 * there (the shell reaps orphans, e.g. a keepalived VRRP child whose parent
 * died). It starts the units cloud-init's runcmd starts, emulates what the
 * rendered units and drop-ins ask of systemd (Restart=, RestartSec=,
 * StartLimit*, KillMode=, TimeoutStopSec=, ExecStopPost=) and answers the
 * `systemctl` verbs the watchdog uses (kill, reset-failed, restart; also
 * start, stop, reload, is-active, show) on a Unix socket, through a small
 * `systemctl` script placed first in the node's PATH. The harness talks to
 * the same socket to signal processes and read what happened.
 *
 * Not emulated: Type=notify readiness (a unit counts as started once its
 * process runs), cgroups (a unit's processes are its process group), the
 * journal (each unit's output goes to /run/fabric-harness/log/UNIT.log).
 */

export const HARNESS_RUN_DIR = '/run/fabric-harness';
export const SUPERVISOR_SOCKET = `${HARNESS_RUN_DIR}/systemd.sock`;
export const JOURNAL_FILE = `${HARNESS_RUN_DIR}/journal.log`;
/** systemd's PATH for services; the shims live in /usr/local/sbin and /usr/local/bin, so they come first. */
export const UNIT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SupervisorConfig {
  readonly node: string;
  readonly socketPath: string;
  readonly logDir: string;
  readonly eventsFile: string;
  readonly path: string;
  /** The word of a unit's ExecReload= that stands for $MAINPID (units.ts). */
  readonly mainPidPlaceholder: string;
  /** In start order. */
  readonly units: readonly UnitSpec[];
  /** The body of a function returning units.ts's parseEnvironmentFile (environmentFileParserSource). */
  readonly environmentFileParser: string;
}

export type UnitState = 'inactive' | 'active' | 'deactivating' | 'auto-restart' | 'failed';

export interface UnitStatus {
  readonly name: string;
  readonly state: UnitState;
  readonly mainPid?: number;
  readonly starts: number;
  readonly lastStart?: number;
  readonly lastExit?: { readonly t: number; readonly code: number | null; readonly signal: string | null };
}

export interface SupervisorEvent {
  readonly t: number;
  readonly kind: 'boot' | 'start' | 'exit' | 'restart-scheduled' | 'start-limit' | 'stop' | 'kill' | 'signal' | 'systemctl' | 'stop-exec' | 'stop-post' | 'reload' | 'exec' | 'error';
  readonly unit?: string;
  readonly pid?: number;
  readonly detail?: string;
}

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly state: string;
  readonly comm: string;
}

/**
 * The supervisor program. Self-contained (see node-program.ts): it runs
 * from its own source text inside the node.
 */
/* istanbul ignore next */
export function supervisorMain(cfg: SupervisorConfig): void {
  const cp = require('node:child_process') as typeof import('node:child_process');
  const fs = require('node:fs') as typeof import('node:fs');
  const http = require('node:http') as typeof import('node:http');

  type State = 'inactive' | 'active' | 'deactivating' | 'auto-restart' | 'failed';
  interface Unit {
    spec: UnitSpec;
    state: State;
    child?: import('node:child_process').ChildProcess;
    pid?: number;
    /** Process group of the current or last run, kept until its processes are gone. */
    pgid?: number;
    startTimes: number[];
    starts: number;
    lastStart?: number;
    lastExit?: { t: number; code: number | null; signal: string | null };
    timer?: NodeJS.Timeout;
    stopping: boolean;
    /** Resolves when the current run has ended and been cleaned up. */
    settled: Promise<void>;
    settle: () => void;
  }

  // The wall clock now, as every process of the run reads it (see nowMs in exec.ts).
  const now = () => Date.now();
  const events: SupervisorEvent[] = [];
  const ev = (e: Omit<SupervisorEvent, 't'>) => {
    const full = { t: now(), ...e };
    events.push(full);
    try {
      fs.appendFileSync(cfg.eventsFile, `${JSON.stringify(full)}\n`);
    } catch {
      /* the events file is a convenience */
    }
  };
  const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const groupAlive = (pgid: number) => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signalName = (s: string): NodeJS.Signals | number => {
    if (/^\d+$/.test(s)) return Number(s);
    const up = s.toUpperCase();
    return (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
  };
  const sendSignal = (target: number, sig: NodeJS.Signals | number): boolean => {
    try {
      process.kill(target, sig);
      return true;
    } catch {
      return false;
    }
  };

  const parseEnvironmentFile = new Function(cfg.environmentFileParser)() as (text: string) => Record<string, string>;
  /** As systemd at every start: Environment=, then each EnvironmentFile= read now (an optional one may be missing). */
  const environmentOf = (spec: UnitSpec): Record<string, string> => {
    const env: Record<string, string> = { ...spec.unitEnvironment };
    for (const value of spec.environmentFiles) {
      const optional = value.startsWith('-');
      const file = optional ? value.slice(1) : value;
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch {
        if (optional) continue;
        throw new Error(`EnvironmentFile ${file} cannot be read`);
      }
      Object.assign(env, parseEnvironmentFile(text));
    }
    return env;
  };

  const units = new Map<string, Unit>();
  for (const spec of cfg.units) {
    const u: Unit = { spec, state: 'inactive', startTimes: [], starts: 0, stopping: false, settled: Promise.resolve(), settle: () => undefined };
    units.set(spec.name, u);
  }

  const runCommand = (argv: readonly string[], unit: Unit) =>
    new Promise<number | null>((resolve) => {
      const log = fs.openSync(`${cfg.logDir}/${unit.spec.name}.log`, 'a');
      let child: import('node:child_process').ChildProcess;
      try {
        child = cp.spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log], env: { ...unit.spec.environment, PATH: cfg.path, LANG: 'C.UTF-8' }, timeout: unit.spec.timeoutStopSec * 1000 });
      } finally {
        fs.closeSync(log);
      }
      child.on('error', () => resolve(203));
      child.on('exit', (code) => resolve(code));
    });

  const start = (u: Unit, reason: string): { code: number; out: string } => {
    if (u.timer) {
      clearTimeout(u.timer);
      u.timer = undefined;
    }
    if (u.child) return { code: 0, out: '' };
    const t = now();
    u.startTimes = u.startTimes.filter((x) => t - x < u.spec.startLimitIntervalSec * 1000);
    if (u.startTimes.length >= u.spec.startLimitBurst) {
      u.state = 'failed';
      ev({ kind: 'start-limit', unit: u.spec.name, detail: `${u.startTimes.length} starts within ${u.spec.startLimitIntervalSec} s` });
      return { code: 1, out: `Job for ${u.spec.name} failed because the start limit was hit (start-limit-hit).` };
    }
    u.startTimes.push(t);
    let environment: Record<string, string>;
    try {
      environment = environmentOf(u.spec);
    } catch (err) {
      u.state = 'failed';
      ev({ kind: 'error', unit: u.spec.name, detail: String(err) });
      return { code: 1, out: `Job for ${u.spec.name} failed: ${String(err)}` };
    }
    const log = fs.openSync(`${cfg.logDir}/${u.spec.name}.log`, 'a');
    let child: import('node:child_process').ChildProcess;
    try {
      child = cp.spawn(u.spec.argv[0], u.spec.argv.slice(1), {
        detached: true, // own process group: the unit's "cgroup"
        stdio: ['ignore', log, log],
        cwd: '/',
        env: { ...environment, PATH: cfg.path, LANG: 'C.UTF-8' },
        ...(u.spec.uid !== undefined ? { uid: u.spec.uid, gid: u.spec.gid } : {}),
      });
    } finally {
      fs.closeSync(log);
    }
    u.settled = new Promise<void>((r) => (u.settle = r));
    u.child = child;
    u.pid = child.pid;
    u.pgid = child.pid;
    u.state = 'active';
    u.starts++;
    u.lastStart = t;
    ev({ kind: 'start', unit: u.spec.name, pid: child.pid, detail: reason });
    child.on('error', (err) => {
      ev({ kind: 'error', unit: u.spec.name, detail: String(err) });
      if (child.pid === undefined) void onExit(u, child, 203, null);
    });
    child.on('exit', (code, signal) => void onExit(u, child, code, signal));
    return { code: 0, out: '' };
  };

  const onExit = async (u: Unit, child: import('node:child_process').ChildProcess, code: number | null, signal: string | null) => {
    if (u.child !== child) return;
    const pid = u.pid;
    u.child = undefined;
    u.pid = undefined;
    u.lastExit = { t: now(), code, signal };
    ev({ kind: 'exit', unit: u.spec.name, pid, detail: signal ? `signal ${signal}` : `code ${code}` });
    const pgid = u.pgid;
    // The main process is gone: systemd stops the rest of the unit's processes.
    if (pgid !== undefined && u.spec.killMode !== 'process' && u.spec.killMode !== 'none' && groupAlive(pgid)) {
      sendSignal(-pgid, u.spec.killMode === 'mixed' ? 'SIGKILL' : 'SIGTERM');
      const deadline = now() + u.spec.timeoutStopSec * 1000;
      for (let i = 0; i < 10_000 && groupAlive(pgid) && now() < deadline; i++) await wait(20);
      if (groupAlive(pgid)) sendSignal(-pgid, 'SIGKILL');
      for (let i = 0; i < 250 && groupAlive(pgid); i++) await wait(20);
    }
    u.pgid = undefined;
    for (const argv of u.spec.execStopPost) {
      const rc = await runCommand(argv, u);
      ev({ kind: 'stop-post', unit: u.spec.name, detail: `${argv.join(' ')} -> ${rc}` });
    }
    const clean = code === 0 || (signal !== null && ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'].includes(signal));
    const policy = u.spec.restart;
    const restart =
      !u.stopping &&
      (policy === 'always' ||
        (policy === 'on-failure' && !clean) ||
        (policy === 'on-abnormal' && signal !== null && !clean) ||
        (policy === 'on-abort' && signal !== null && !clean) ||
        (policy === 'on-success' && clean));
    if (u.stopping) u.state = 'inactive';
    else if (restart) {
      u.state = 'auto-restart';
      ev({ kind: 'restart-scheduled', unit: u.spec.name, detail: `in ${u.spec.restartSec} s (Restart=${policy})` });
      u.timer = setTimeout(() => {
        u.timer = undefined;
        if (u.state === 'auto-restart') start(u, 'Restart=');
      }, u.spec.restartSec * 1000);
    } else u.state = clean ? 'inactive' : 'failed';
    u.settle();
  };

  const stop = async (u: Unit): Promise<void> => {
    if (u.timer) {
      clearTimeout(u.timer);
      u.timer = undefined;
    }
    if (!u.child) {
      await u.settled;
      if (u.state === 'auto-restart') u.state = 'inactive';
      return;
    }
    u.stopping = true;
    u.state = 'deactivating';
    const pid = u.pid!;
    ev({ kind: 'stop', unit: u.spec.name, pid });
    // As systemd does: the unit's ExecStop= commands first, with $MAINPID; then the stop signal to what is left.
    for (const argv of u.spec.execStop) {
      const words = argv.map((w) => w.split(cfg.mainPidPlaceholder).join(String(pid)));
      const rc = await runCommand(words, u);
      ev({ kind: 'stop-exec', unit: u.spec.name, detail: `${words.join(' ')} -> ${rc}` });
    }
    if (u.spec.killMode === 'control-group') sendSignal(-pid, 'SIGTERM');
    else sendSignal(pid, 'SIGTERM');
    sendSignal(-pid, 'SIGCONT'); // as systemd does, so a stopped process sees the SIGTERM
    const timedOut = await Promise.race([u.settled.then(() => false), wait(u.spec.timeoutStopSec * 1000).then(() => true)]);
    if (timedOut) sendSignal(-pid, 'SIGKILL');
    await Promise.race([u.settled, wait(15_000)]);
    u.stopping = false;
    if (u.state === 'deactivating') u.state = 'inactive';
  };

  const kill = (u: Unit, sig: NodeJS.Signals | number, whom: string): number[] => {
    const hit: number[] = [];
    if (whom === 'main') {
      if (u.pid !== undefined && sendSignal(u.pid, sig)) hit.push(u.pid);
    } else if (u.pgid !== undefined && sendSignal(-u.pgid, sig)) hit.push(-u.pgid);
    ev({ kind: 'kill', unit: u.spec.name, detail: `${String(sig)} to ${whom}: ${hit.join(',') || 'nothing'}` });
    return hit;
  };

  const status = (u: Unit): UnitStatus => ({
    name: u.spec.name,
    state: u.state,
    ...(u.pid !== undefined ? { mainPid: u.pid } : {}),
    starts: u.starts,
    ...(u.lastStart !== undefined ? { lastStart: u.lastStart } : {}),
    ...(u.lastExit ? { lastExit: u.lastExit } : {}),
  });

  const systemctl = async (args: string[]): Promise<{ code: number; out: string }> => {
    let sig: NodeJS.Signals | number = 'SIGTERM';
    let whom = 'all';
    let property: string | undefined;
    const words: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a.startsWith('--signal=')) sig = signalName(a.slice('--signal='.length));
      else if (a === '-s' || a === '--signal') sig = signalName(args[++i] ?? 'SIGTERM');
      else if (/^--kill-(whom|who)=/.test(a)) whom = a.slice(a.indexOf('=') + 1);
      else if (a.startsWith('--property=')) property = a.slice('--property='.length);
      else if (a === '-p' || a === '--property') property = args[++i];
      else if (a.startsWith('-')) continue; // --no-block, --quiet, --no-pager: no difference here
      else words.push(a);
    }
    const [verb, ...rawNames] = words;
    ev({ kind: 'systemctl', detail: args.join(' ') });
    const names = rawNames.map((n) => (n.includes('.') ? n : `${n}.service`));
    const missing = names.filter((n) => !units.has(n));
    const list = names.map((n) => units.get(n)!).filter(Boolean);
    // The properties the rendered scripts ask for (with --value): is the unit installed at all, and its main pid (0 when none).
    if (verb === 'show' && property === 'LoadState') return { code: 0, out: names.map((n) => (units.has(n) ? 'loaded' : 'not-found')).join('\n') };
    if (verb === 'show' && property === 'MainPID') return { code: 0, out: names.map((n) => String(units.get(n)?.pid ?? 0)).join('\n') };
    switch (verb) {
      case 'daemon-reload':
      case 'enable':
      case 'disable':
        return { code: 0, out: '' };
      case 'is-active': {
        const states = names.map((n) => (units.get(n)?.state === 'active' ? 'active' : units.get(n)?.state ?? 'inactive'));
        return { code: states.every((s) => s === 'active') ? 0 : 3, out: states.join('\n') };
      }
      case 'is-failed': {
        const states = names.map((n) => units.get(n)?.state ?? 'inactive');
        return { code: states.some((s) => s === 'failed') ? 0 : 1, out: states.join('\n') };
      }
      case 'show':
      case 'status':
        return { code: missing.length ? 4 : 0, out: list.map((u) => JSON.stringify(status(u))).join('\n') };
    }
    if (missing.length) return { code: 5, out: `Unit ${missing[0]} not loaded.` };
    switch (verb) {
      case 'start': {
        const r = list.map((u) => start(u, 'systemctl start'));
        return r.find((x) => x.code !== 0) ?? { code: 0, out: '' };
      }
      case 'stop':
        await Promise.all(list.map(stop));
        return { code: 0, out: '' };
      case 'restart':
      case 'try-restart':
      case 'reload-or-restart': {
        const out: { code: number; out: string }[] = [];
        for (const u of list) {
          if (verb === 'try-restart' && !u.child) continue;
          await stop(u);
          out.push(start(u, `systemctl ${verb}`));
        }
        return out.find((x) => x.code !== 0) ?? { code: 0, out: '' };
      }
      case 'reload': {
        // As systemd does: the unit's ExecReload= commands in order, with $MAINPID; the first that fails fails the job.
        for (const u of list) {
          if (!u.child || u.pid === undefined) return { code: 1, out: `${u.spec.name} is not active, cannot reload.` };
          if (u.spec.execReload.length === 0) return { code: 1, out: `Failed to reload ${u.spec.name}: Job type reload is not applicable for unit ${u.spec.name}.` };
          for (const argv of u.spec.execReload) {
            const words = argv.map((w) => w.split(cfg.mainPidPlaceholder).join(String(u.pid)));
            const rc = await runCommand(words, u);
            ev({ kind: 'reload', unit: u.spec.name, detail: `${words.join(' ')} -> ${rc}` });
            if (rc !== 0) return { code: 1, out: `Job for ${u.spec.name} failed because the control process exited with error code (${rc}).` };
          }
        }
        return { code: 0, out: '' };
      }
      case 'kill':
        for (const u of list) kill(u, sig, whom);
        return { code: 0, out: '' };
      case 'reset-failed':
        for (const u of list) {
          u.startTimes = [];
          if (u.state === 'failed') u.state = 'inactive';
        }
        return { code: 0, out: '' };
      default:
        return { code: 1, out: `systemctl (harness): verb '${verb}' is not emulated` };
    }
  };

  const ps = (): ProcessInfo[] => {
    const out: ProcessInfo[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const open = stat.indexOf('(');
        const close = stat.lastIndexOf(')');
        const rest = stat.slice(close + 2).split(' ');
        out.push({ pid: Number(entry), comm: stat.slice(open + 1, close), state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) });
      } catch {
        /* exited meanwhile */
      }
    }
    return out;
  };

  const body = (req: import('node:http').IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (data += c));
      req.on('end', () => resolve(data));
    });

  let shuttingDown = false;
  const shutdown = async () => {
    shuttingDown = true;
    for (const u of [...units.values()].reverse()) await stop(u);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://node');
      const text = await body(req);
      const json = (value: unknown) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(value));
      };
      try {
        if (url.pathname === '/systemctl') {
          const args = text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
          const r = await systemctl(args);
          res.end(`${r.out}\n${r.code}`);
        } else if (url.pathname === '/status') {
          json({ node: cfg.node, pid: process.pid, units: [...units.values()].map(status) });
        } else if (url.pathname === '/events') {
          json(events.slice(Number(url.searchParams.get('since') ?? 0)));
        } else if (url.pathname === '/ps') {
          json(ps());
        } else if (url.pathname === '/signal') {
          // {signal, pid} | {signal, pidFile} | {signal, unit, whom} | {signal, comm}
          const r = JSON.parse(text) as { signal: string; pid?: number; pidFile?: string; unit?: string; whom?: string; comm?: string };
          const sig = signalName(r.signal);
          let targets: number[] = [];
          if (r.pid !== undefined) targets = [r.pid];
          else if (r.pidFile) targets = [Number(fs.readFileSync(r.pidFile, 'utf8').trim())];
          else if (r.comm) targets = ps().filter((p) => p.comm === r.comm && p.state !== 'Z').map((p) => p.pid);
          else if (r.unit && units.has(r.unit)) {
            json({ hit: kill(units.get(r.unit)!, sig, r.whom ?? 'all'), t: now() });
            return;
          }
          const t = now();
          const hit = targets.filter((p) => Number.isInteger(p) && p > 1 && sendSignal(p, sig));
          ev({ kind: 'signal', detail: `${String(sig)} to ${hit.join(',') || 'nothing'} (${text})` });
          json({ hit, t });
        } else if (url.pathname === '/exec') {
          // {argv, timeoutMs}: what cloud-init's runcmd or an operator's shell would run on the node, as root.
          const r = JSON.parse(text) as { argv: string[]; timeoutMs?: number };
          ev({ kind: 'exec', detail: r.argv[0] });
          const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
            const child = cp.execFile(r.argv[0], r.argv.slice(1), { env: { PATH: cfg.path, LANG: 'C.UTF-8', HOME: '/root' }, timeout: r.timeoutMs ?? 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
              const e = err as (Error & { code?: number | string; signal?: string }) | null;
              resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr: e && typeof e.code !== 'number' && !e.signal ? `${stderr}${e.message}` : stderr });
            });
            child.stdin?.end();
          });
          json(result);
        } else if (url.pathname === '/shutdown') {
          await shutdown();
          json({ ok: true, left: ps().filter((p) => p.pid !== 1 && p.pid !== process.pid).length });
          setTimeout(() => process.exit(0), 50);
        } else {
          res.statusCode = 404;
          res.end('not found');
        }
      } catch (err) {
        res.statusCode = 500;
        res.end(String(err));
      }
    })();
  });
  try {
    fs.unlinkSync(cfg.socketPath);
  } catch {
    /* none left over */
  }
  server.listen(cfg.socketPath, () => {
    ev({ kind: 'boot', detail: `supervisor of ${cfg.node} (pid ${process.pid}) starting ${cfg.units.map((u) => u.name).join(' ')}` });
    // Like `systemctl restart a b c` in the runcmd: every unit is queued at once.
    for (const u of units.values()) if (!shuttingDown) start(u, 'boot');
  });
  process.on('SIGTERM', () => void shutdown().then(() => process.exit(0)));
}

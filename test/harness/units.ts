import { parse } from 'yaml';

/**
 * Reads systemd units the way systemd would on a node (the package's unit,
 * then the drop-ins, then the environment files) and reduces each to what the
 * harness's stand-in for systemd needs: the command line, the restart policy
 * and how to stop it. Only the settings the fabric's units use are
 * understood; an unknown [Service] setting is reported, not ignored silently.
 */

/** What the in-node supervisor runs for one unit. */
export interface UnitSpec {
  readonly name: string;
  readonly argv: readonly string[];
  /** Environment= and EnvironmentFile= as they were when the unit was loaded (ExecStart= is expanded with it). */
  readonly environment: Readonly<Record<string, string>>;
  /** Environment= alone. */
  readonly unitEnvironment: Readonly<Record<string, string>>;
  /**
   * EnvironmentFile= values as written (a leading `-`: the file may be missing): systemd reads them
   * at every start, so the supervisor does too (a restart takes a changed file up).
   */
  readonly environmentFiles: readonly string[];
  readonly restart: 'no' | 'always' | 'on-failure' | 'on-abnormal' | 'on-abort' | 'on-success' | 'on-watchdog';
  readonly restartSec: number;
  readonly timeoutStopSec: number;
  readonly killMode: 'control-group' | 'mixed' | 'process' | 'none';
  /** ExecStop= commands, run (as root, like the `+` prefix) before the stop signal; MAINPID_PLACEHOLDER as in execReload. */
  readonly execStop: readonly (readonly string[])[];
  readonly execStopPost: readonly (readonly string[])[];
  /** ExecReload= commands; the word MAINPID_PLACEHOLDER stands where systemd puts $MAINPID. */
  readonly execReload: readonly (readonly string[])[];
  readonly startLimitBurst: number;
  readonly startLimitIntervalSec: number;
  /** Numeric ids to run as (DynamicUser= is approximated by nobody). */
  readonly uid?: number;
  readonly gid?: number;
  /** The files the unit was assembled from, for messages. */
  readonly sources: readonly string[];
  /** Settings seen but not emulated (e.g. Type=notify readiness, sandboxing). */
  readonly notEmulated: readonly string[];
}

/** A view of a node's file system (its own files over the host's). */
export interface NodeFs {
  read(path: string): string | undefined;
  list(dir: string): string[];
}

/** Stands for $MAINPID in a unit's ExecReload= until the supervisor knows the pid. */
export const MAINPID_PLACEHOLDER = '\u0000MAINPID\u0000';

const UNIT_DIRS = ['/etc/systemd/system', '/run/systemd/system', '/lib/systemd/system', '/usr/lib/systemd/system'];

/** systemd's defaults (systemd.service(5), systemd-system.conf(5)). */
const DEFAULTS = { restartSec: 0.1, timeoutStopSec: 90, startLimitBurst: 5, startLimitIntervalSec: 10 };

export function parseTimespan(value: string): number {
  const v = value.trim();
  if (v === 'infinity') return Infinity;
  let total = 0;
  let matched = false;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)\s*(ms|msec|s|sec|seconds?|m|min|minutes?|h|hr|hours?|us|usec)?/g)) {
    matched = true;
    const n = Number(m[1]);
    const unit = m[2] ?? 's';
    const factor = /^(ms|msec)$/.test(unit) ? 0.001 : /^(us|usec)$/.test(unit) ? 1e-6 : /^(m|min|minutes?)$/.test(unit) ? 60 : /^(h|hr|hours?)$/.test(unit) ? 3600 : 1;
    total += n * factor;
  }
  if (!matched) throw new Error(`not a systemd time span: '${value}'`);
  return total;
}

/** Splits a systemd command line or Environment= value into words (double and single quotes, backslash escapes). */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unbalanced quote in '${line}'`);
  if (inWord) words.push(current);
  return words;
}

/** The source of splitWords and parseEnvironmentFile, for the in-node supervisor (a self-contained program, see node-program.ts). */
export function environmentFileParserSource(): string {
  return `${splitWords.toString()}\n${parseEnvironmentFile.toString()}\nreturn parseEnvironmentFile;`;
}

/** KEY=VALUE lines of an EnvironmentFile (shell-like quoting, comments). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const words = splitWords(m[2]);
    env[m[1]] = words.join(' ');
  }
  return env;
}

/** systemd's ExecStart= expansion: `${VAR}` is one word, `$VAR` splits into words, `$$` is a dollar. */
export function expandCommand(line: string, env: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const word of splitWords(line)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      out.push(...splitWords(env[whole[1]] ?? ''));
      continue;
    }
    out.push(word.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name?: string) => (m === '$$' ? '$' : env[name!] ?? '')));
  }
  return out;
}

interface Assignment {
  readonly section: string;
  readonly key: string;
  readonly value: string;
  readonly source: string;
}

function parseUnitFile(text: string, source: string): Assignment[] {
  const out: Assignment[] = [];
  let section = '';
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    out.push({ section, key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), source });
  }
  return out;
}

const EMULATED = new Set([
  'Service.ExecStart', 'Service.Environment', 'Service.EnvironmentFile', 'Service.Restart', 'Service.RestartSec',
  'Service.TimeoutStopSec', 'Service.KillMode', 'Service.ExecStop', 'Service.ExecStopPost', 'Service.ExecReload', 'Service.DynamicUser', 'Service.User', 'Service.Group',
  'Unit.StartLimitIntervalSec', 'Unit.StartLimitBurst',
]);
const IRRELEVANT_SECTIONS = new Set(['Install']);
const IRRELEVANT_UNIT_KEYS = new Set(['Description', 'Documentation', 'After', 'Wants', 'Before', 'Requires', 'ConditionFileNotEmpty', 'ConditionPathExists']);

/**
 * Assembles unit `name` from the node's unit directories, the way systemd
 * does: the first unit file found, then every `name.d/*.conf` drop-in in
 * lexical order, later assignments overriding earlier ones (an empty value
 * resets a list).
 */
export function loadUnit(fs: NodeFs, name: string, ids: (user: string) => { uid: number; gid: number }): UnitSpec {
  let mainSource: string | undefined;
  let text: string | undefined;
  for (const dir of UNIT_DIRS) {
    text = fs.read(`${dir}/${name}`);
    if (text !== undefined) {
      mainSource = `${dir}/${name}`;
      break;
    }
  }
  if (text === undefined || !mainSource) throw new Error(`unit ${name} not found in ${UNIT_DIRS.join(', ')}`);
  const dropIns = new Map<string, string>();
  for (const dir of [...UNIT_DIRS].reverse()) {
    for (const f of fs.list(`${dir}/${name}.d`)) if (f.endsWith('.conf')) dropIns.set(f, `${dir}/${name}.d/${f}`);
  }
  const sources = [mainSource, ...[...dropIns.keys()].sort().map((k) => dropIns.get(k)!)];
  const assignments = sources.flatMap((src) => parseUnitFile(src === mainSource ? text! : fs.read(src) ?? '', src));

  const single = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const notEmulated: string[] = [];
  for (const a of assignments) {
    const key = `${a.section}.${a.key}`;
    if (!EMULATED.has(key)) {
      if (!IRRELEVANT_SECTIONS.has(a.section) && !(a.section === 'Unit' && IRRELEVANT_UNIT_KEYS.has(a.key))) notEmulated.push(`${a.key}=${a.value} (${a.source})`);
      continue;
    }
    if (['Service.Environment', 'Service.EnvironmentFile', 'Service.ExecStop', 'Service.ExecStopPost', 'Service.ExecStart', 'Service.ExecReload'].includes(key)) {
      const list = lists.get(key) ?? [];
      if (a.value === '') list.length = 0;
      else list.push(a.value);
      lists.set(key, list);
    } else {
      single.set(key, a.value);
    }
  }

  const env: Record<string, string> = {};
  for (const value of lists.get('Service.EnvironmentFile') ?? []) {
    const optional = value.startsWith('-');
    const file = optional ? value.slice(1) : value;
    const content = fs.read(file);
    if (content === undefined) {
      if (!optional) throw new Error(`${name}: EnvironmentFile ${file} is missing`);
      continue;
    }
    Object.assign(env, parseEnvironmentFile(content));
  }
  // systemd.exec(5): variables from EnvironmentFile= override those from Environment=.
  const fromEnvironment: Record<string, string> = {};
  for (const value of lists.get('Service.Environment') ?? []) {
    for (const word of splitWords(value)) {
      const eq = word.indexOf('=');
      if (eq > 0) fromEnvironment[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  const environment = { ...fromEnvironment, ...env };

  const execStart = lists.get('Service.ExecStart') ?? [];
  if (execStart.length !== 1) throw new Error(`${name}: expected exactly one ExecStart=, found ${execStart.length} in ${sources.join(', ')}`);
  const stripPrefix = (line: string) => line.replace(/^[-@+!:]+/, '');
  const argv = expandCommand(stripPrefix(execStart[0]), environment);
  const execStop = (lists.get('Service.ExecStop') ?? []).map((l) => expandCommand(stripPrefix(l), { ...environment, MAINPID: MAINPID_PLACEHOLDER }));
  const execStopPost = (lists.get('Service.ExecStopPost') ?? []).map((l) => expandCommand(stripPrefix(l), environment));
  const execReload = (lists.get('Service.ExecReload') ?? []).map((l) => expandCommand(stripPrefix(l), { ...environment, MAINPID: MAINPID_PLACEHOLDER }));

  const restart = (single.get('Service.Restart') ?? 'no') as UnitSpec['restart'];
  const killMode = (single.get('Service.KillMode') ?? 'control-group') as UnitSpec['killMode'];
  let user: { uid: number; gid: number } | undefined;
  if (single.get('Service.User')) user = ids(single.get('Service.User')!);
  else if (/^(yes|true|1|on)$/i.test(single.get('Service.DynamicUser') ?? '')) {
    user = ids('nobody');
    notEmulated.push(`DynamicUser=yes (run as nobody)`);
  }
  return {
    name,
    argv,
    environment,
    unitEnvironment: fromEnvironment,
    environmentFiles: lists.get('Service.EnvironmentFile') ?? [],
    restart,
    restartSec: single.has('Service.RestartSec') ? parseTimespan(single.get('Service.RestartSec')!) : DEFAULTS.restartSec,
    timeoutStopSec: single.has('Service.TimeoutStopSec') ? parseTimespan(single.get('Service.TimeoutStopSec')!) : DEFAULTS.timeoutStopSec,
    killMode,
    execStop,
    execStopPost,
    execReload,
    startLimitBurst: single.has('Unit.StartLimitBurst') ? Number(single.get('Unit.StartLimitBurst')) : DEFAULTS.startLimitBurst,
    startLimitIntervalSec: single.has('Unit.StartLimitIntervalSec') ? parseTimespan(single.get('Unit.StartLimitIntervalSec')!) : DEFAULTS.startLimitIntervalSec,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    sources,
    notEmulated,
  };
}

/** The commands of the user-data's runcmd, each as its words (cloud-init's list form). */
export function runcmdCommands(userData: string): string[][] {
  const runcmd = (parse(userData) as { runcmd?: unknown } | null)?.runcmd ?? [];
  if (!Array.isArray(runcmd) || !runcmd.every(Array.isArray)) throw new Error('the runcmd is not a list of commands in list form');
  return runcmd.map((c: unknown[]) => c.map(String));
}

/**
 * The units the node's first boot starts, in the order cloud-init's runcmd
 * names them (every `systemctl restart|start UNITS` line, in order): the
 * harness starts the same ones.
 */
export function unitsStartedByRuncmd(userData: string): string[] {
  const units = runcmdCommands(userData)
    .filter((c) => c[0] === 'systemctl' && (c[1] === 'restart' || c[1] === 'start'))
    .flatMap((c) => c.slice(2).filter((w) => !w.startsWith('-')));
  return [...new Set(units)];
}

/**
 * The runcmd lines that run one of the node's own rendered scripts (e.g. the
 * database bootstrap), in order: the harness runs them inside the node once
 * its units have started, as cloud-init would.
 */
export function renderedScriptsOfRuncmd(userData: string, renderedPaths: readonly string[]): string[][] {
  return runcmdCommands(userData).filter((c) => renderedPaths.includes(c[0]));
}

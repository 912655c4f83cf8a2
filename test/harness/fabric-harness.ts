import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { APPLY_BUNDLE_SCRIPT } from '../../cloud-init/apply-bundle-agent';
import { assembleBundle, bundleDirectoryEntries, bundleTextOf, NodeBundle } from '../../cloud-init/bundle';
import { HAPROXY_ADMIN_SOCKET, HAPROXY_UNIT } from '../../cloud-init/haproxy';
import { shellQuote } from '../../cloud-init/shell';
import { RenderedFile, STATE_DIR } from '../../cloud-init/rendered-file';
import { KEEPALIVED_UNIT, SCRIPT_USER } from '../../cloud-init/keepalived';
import { FIREWALL_CONFIG, FIREWALL_UNIT } from '../../cloud-init/firewall';
import { CASSANDRA_INSTALL_SCRIPT, CASSANDRA_UNIT } from '../../cloud-init/cassandra';
import { CASSANDRA_AUTH_UNIT } from '../../cloud-init/cassandra-auth';
import { LINUX_WATCHDOG_UNIT } from '../../cloud-init/watchdog';
import { adaptForNamespaces } from './adapt';
import { nowMs, pollUntil, run, runOk, sleep } from './exec';
import { writeNodeProgram } from './node-program';
import { Prober, ProberConfig, proberMain } from './prober';
import { standIn } from './stand-ins';
import { DisruptionSampler, SamplerTarget } from '../../e2e/lib/disruption-sampler';
import {
  HARNESS_RUN_DIR, JOURNAL_FILE, ProcessInfo, SupervisorConfig, SupervisorEvent, supervisorMain, SUPERVISOR_SOCKET,
  UnitStatus, UNIT_PATH,
} from './supervisor';
import { environmentFileParserSource, loadUnit, MAINPID_PLACEHOLDER, NodeFs, renderedScriptsOfRuncmd, UnitSpec, unitsStartedByRuncmd } from './units';

/**
 * Runs a rendered fabric for real: one network namespace per node, all on
 * a bridge that lives in a namespace of its own, plus a client namespace.
 * Each node also gets its own PID, mount and UTS namespaces: its write_files
 * are laid over the host's /etc and /usr with overlayfs (so every path in
 * the rendered files holds unchanged, and the host's files stay untouched),
 * /run is a fresh per-node directory, and a small supervisor stands in for
 * systemd (see supervisor.ts). The real keepalived, HAProxy, demo app and
 * fabric watchdog run inside.
 *
 * Safety: only addresses of the fabric under test, only inside namespaces
 * created here, names prefixed `aft3-<pid>-<n>-`; every process and
 * namespace is tracked and removed by its own id in `stop()`.
 */

/** The only test range; the host must not be in it. */
export const TEST_NETWORK = { prefix: '198.51.100.', cidr: '198.51.100.0/24', prefixLength: 24 };
export const CLIENT_ADDRESS = '198.51.100.100';
/** The nodes' management interface, as the network-config names it. */
const MANAGEMENT_INTERFACE = 'eth0';
const NAME_PREFIX = 'aft3';

/** One node as the harness gets it: what cloud-init would get. */
export interface NodeInput {
  readonly name: string;
  readonly userData: string;
  readonly files: readonly RenderedFile[];
  readonly networkConfigData: Record<string, unknown>;
}

export interface FabricInput {
  readonly vip: string;
  readonly nodes: readonly NodeInput[];
  /**
   * The client's address (with prefix) on each network other than the
   * management one, keyed by the nodes' interface name (e.g. the device
   * network's eth3). @default none: the client is on the management network only
   */
  readonly clientAddresses?: Readonly<Record<string, string>>;
  /** The frontends the disruption sampler watches (from the model). @default the GUI through the VIP, any body */
  readonly frontends?: readonly SamplerTarget[];
}

export interface HarnessNode {
  readonly name: string;
  readonly netns: string;
  /** Host directory holding this node's own files (overlay upper dirs and /run). */
  readonly dir: string;
  readonly address: string;
  readonly mac: string;
  readonly units: readonly UnitSpec[];
  /** Units of the runcmd that the harness does not run, with the reason. */
  readonly skippedUnits: readonly string[];
  /** runcmd lines that run the node's own rendered scripts, run once its units have started. */
  readonly firstBootScripts: readonly (readonly string[])[];
  /** Whether the node runs MariaDB (and so has its own data directory). */
  readonly runsDatabase: boolean;
  /** The VRRP instances of the node's keepalived.conf, each with its VIP. */
  readonly vips: Readonly<Record<string, string>>;
  /** Its interfaces as the network-config has them (what a boot restores after a power-off). */
  readonly ethernets: readonly Ethernet[];
}

/** keepalived's instance of the fabric VIP (keepalived.ts). */
const FABRIC_INSTANCE = 'fabric_vip';

/** Directories of a node laid over the host's with overlayfs (its write_files go there). */
const OVERLAID_TOPS = ['/etc', '/usr'];
/** MariaDB's data directory: a database node's own, initialized as the package's postinst does on an image. */
const DATABASE_DATA_DIR = '/var/lib/mysql';
const DATABASE_UNIT = 'mariadb.service';
/**
 * /var/lib is the host's too, seen through an overlay whose upper dir is scratch
 * (nothing a node writes there reaches the host); the node's own directories
 * below it are bound onto it: the database's and the bundle agent's state.
 */
const VAR_LIB = '/var/lib';
const BOUND_UNDER_VAR_LIB = [DATABASE_DATA_DIR, STATE_DIR];
/** Everything a node has of its own: the overlays' upper dirs, a fresh /run, (database nodes) a data directory and the agent's state. */
const OWN_TOPS = [...OVERLAID_TOPS, '/run', ...BOUND_UNDER_VAR_LIB];

/**
 * The one place where a node's path becomes a host path: the node's own copy
 * under its directory (its overlay upper dir for /etc and /usr, its /run).
 * Inside the node every rendered path holds unchanged; nothing else maps paths.
 */
function ownPath(nodeDir: string, nodePath: string): string {
  if (!path.isAbsolute(nodePath) || nodePath.split('/').includes('..')) throw new Error(`not an absolute node path: ${nodePath}`);
  if (nodePath !== '/' && !OWN_TOPS.some((t) => nodePath === t || nodePath.startsWith(`${t}/`))) {
    throw new Error(`${nodePath} is outside the node's own directories (${OWN_TOPS.join(', ')})`);
  }
  return path.join(nodeDir, 'root', nodePath);
}
/**
 * Oneshot units of the runcmd: the boot script runs each one's command before
 * the supervisor starts, as systemd runs them before the network is up.
 */
const BOOT_ONESHOTS: Record<string, readonly string[]> = {
  [FIREWALL_UNIT]: ['nft', '-f', FIREWALL_CONFIG],
};
/** Unit of the runcmd the harness cannot run here, and why. */
const NOT_RUN: Record<string, string> = {
  [LINUX_WATCHDOG_UNIT]: 'the Linux watchdog daemon needs /dev/watchdog, which this machine lacks (DESIGN.md)',
  [CASSANDRA_UNIT]: "Cassandra is not installed here (its first boot installs it from Apache's repository); its firewall rules are tried with a stand-in listener",
  [CASSANDRA_AUTH_UNIT]: 'it sets up the roles of Cassandra, which is not installed here (test/cassandra-auth-script.test.ts runs its script against a stand-in cqlsh)',
};
/** Rendered scripts of the runcmd the harness does not run, and why. */
const NOT_RUN_SCRIPTS: Record<string, string> = {
  [CASSANDRA_INSTALL_SCRIPT]: "it installs Cassandra from Apache's repository, which the test nodes cannot reach",
};

let runCounter = 0;
let bundleCounter = 0;

export class FabricHarness {
  readonly runId: string;
  readonly dir: string;
  readonly nodes: HarnessNode[] = [];
  readonly switchNs: string;
  readonly clientNs: string;
  readonly vip: string;
  readonly frontends: readonly SamplerTarget[];
  /** Notes for the report (what was emulated or added). */
  readonly notes: string[] = [];
  private readonly namespaces: string[] = [];
  /** Host pids of every process this harness started, with a label. */
  private readonly pids = new Map<number, string>();
  private readonly children: ChildProcess[] = [];
  /** Nodes powered off (powerOff) and not booted again since. */
  private readonly poweredOff = new Set<string>();
  private stopped = false;

  private noteOnce(note: string): void {
    if (!this.notes.includes(note)) this.notes.push(note);
  }

  private constructor(input: FabricInput) {
    runCounter += 1;
    this.runId = `${NAME_PREFIX}-${process.pid}-${runCounter}`;
    this.dir = mkdtempSync(path.join(tmpdir(), `${this.runId}-`));
    chmodSync(this.dir, 0o755);
    this.switchNs = `${this.runId}-sw`;
    this.clientNs = `${this.runId}-client`;
    this.vip = input.vip;
    this.frontends = input.frontends ?? [{ name: 'gui', url: `https://${input.vip}/` }];
  }

  /** Builds the namespaces, lays out every node's files and starts the nodes. On any failure everything is removed again. */
  static async start(input: FabricInput): Promise<FabricHarness> {
    preflight(input);
    removeStaleRuns();
    const h = new FabricHarness(input);
    try {
      h.buildNetwork(input);
      for (const n of input.nodes) h.layOutNode(n);
      for (const n of h.nodes) h.bootNode(n);
      for (const n of h.nodes) await h.waitForSupervisor(n);
      await Promise.all(h.nodes.map((n) => h.runFirstBootScripts(n)));
      return h;
    } catch (err) {
      await h.stop();
      throw err;
    }
  }

  // ---- paths -------------------------------------------------------------

  /** Where a node's file is on the host (see ownPath). */
  hostPath(node: HarnessNode | string, nodePath: string): string {
    return ownPath((typeof node === 'string' ? this.node(node) : node).dir, nodePath);
  }

  /** The node's view: its own file if it has one, else the host's (overlay semantics; /run is the node's only). */
  private nodeFs(node: { dir: string }): NodeFs {
    const candidates = (p: string) => {
      if (p === '/run' || p.startsWith('/run/')) return [ownPath(node.dir, p)];
      if (OVERLAID_TOPS.some((t) => p.startsWith(`${t}/`))) return [ownPath(node.dir, p), p];
      return [p];
    };
    return {
      read: (p) => {
        for (const candidate of candidates(p)) {
          try {
            return readFileSync(candidate, 'utf8');
          } catch {
            /* next */
          }
        }
        return undefined;
      },
      list: (dir) => {
        const names = new Set<string>();
        for (const candidate of candidates(dir)) {
          try {
            readdirSync(candidate).forEach((f) => names.add(f));
          } catch {
            /* absent */
          }
        }
        return [...names];
      },
    };
  }

  node(name: string): HarnessNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name} in this harness`);
    return n;
  }

  // ---- setup -------------------------------------------------------------

  private addNetns(name: string): void {
    runOk('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    runOk('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** One bridge per network (named after the nodes' interface on it: br-eth0, br-eth3), every node and the client plugged in with veths. */
  private buildNetwork(input: FabricInput): void {
    this.addNetns(this.switchNs);
    const bridges = new Set<string>();
    const plug = (ns: string, port: string, ifname: string, mac?: string) => {
      const bridge = `br-${ifname}`;
      if (!bridges.has(bridge)) {
        runOk('ip', ['-n', this.switchNs, 'link', 'add', bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
        runOk('ip', ['-n', this.switchNs, 'link', 'set', bridge, 'up']);
        bridges.add(bridge);
      }
      runOk('ip', ['-n', this.switchNs, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
      runOk('ip', ['-n', this.switchNs, 'link', 'set', port, 'master', bridge, 'up']);
      if (mac) runOk('ip', ['-n', ns, 'link', 'set', ifname, 'address', mac]);
      runOk('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    };
    this.addNetns(this.clientNs);
    const clientAddresses: Record<string, string> = { [MANAGEMENT_INTERFACE]: `${CLIENT_ADDRESS}/${TEST_NETWORK.prefixLength}`, ...(input.clientAddresses ?? {}) };
    for (const [ifname, address] of Object.entries(clientAddresses)) {
      plug(this.clientNs, `pc-${ifname}`, ifname);
      runOk('ip', ['-n', this.clientNs, 'addr', 'add', address, 'dev', ifname]);
    }
    input.nodes.forEach((n, i) => {
      const ns = `${this.runId}-${n.name}`;
      this.addNetns(ns);
      for (const eth of ethernetsOf(n)) {
        plug(ns, `p${i + 1}-${eth.name}`, eth.name, eth.mac);
        for (const a of eth.addresses) runOk('ip', ['-n', ns, 'addr', 'add', a, 'dev', eth.name]);
        for (const r of eth.routes) runOk('ip', ['-n', ns, 'route', 'add', r.to === '0.0.0.0/0' ? 'default' : r.to, 'via', r.via]);
      }
    });
  }

  /** Writes the node's write_files (and the harness's few stand-ins) into its own directory, before its file systems are mounted. */
  private layOutNode(input: NodeInput): void {
    const dir = path.join(this.dir, input.name);
    const varLibMountpoints = BOUND_UNDER_VAR_LIB.map((d) => path.join(varLibUpper(dir), path.relative(VAR_LIB, d)));
    for (const d of [dir, ...OWN_TOPS.map((t) => ownPath(dir, t)), ...OVERLAID_TOPS.map((t) => path.join(dir, 'work', t)), varLibWork(dir), ...varLibMountpoints]) {
      mkdirSync(d, { recursive: true, mode: 0o755 });
      chmodSync(d, 0o755);
    }
    const eth = ethernetsOf(input)[0];
    const write = (file: RenderedFile) => {
      if (!OVERLAID_TOPS.some((t) => file.path.startsWith(`${t}/`))) throw new Error(`${input.name}: ${file.path} is outside ${OVERLAID_TOPS.join(', ')}; the harness would need another overlay`);
      const host = ownPath(dir, file.path);
      mkdirParents(ownPath(dir, '/'), file.path);
      writeFileSync(host, file.base64 ? Buffer.from(file.content, 'base64') : file.content);
      chmodSync(host, parseInt(file.permissions, 8));
    };
    for (const original of input.files) {
      const { file, changes } = adaptForNamespaces(original);
      changes.forEach((c) => this.noteOnce(`${file.path}: ${c}`));
      write(file);
    }

    // Stand-ins the harness adds (not part of the rendered node), each said here:
    const extras: RenderedFile[] = [
      { path: '/usr/local/sbin/systemctl', content: standIn('systemctl', { SUPERVISOR_SOCKET }), permissions: '0755' },
      { path: '/usr/local/bin/logger', content: standIn('logger', { JOURNAL_FILE }), permissions: '0755' },
      // The harness writes a node's files before it starts it, as cloud-init has when the node serves (fabric-apply-bundle --wait-ready asks).
      { path: '/usr/local/bin/cloud-init', content: standIn('cloud-init'), permissions: '0755' },
      // What cloud-init writes besides write_files: resolv.conf from the network-config, /etc/hosts (manage_etc_hosts).
      { path: '/etc/resolv.conf', content: ['# From the node\'s network-config (namespace harness).', ...eth.nameservers.map((a) => `nameserver ${a}`), ...(eth.search.length ? [`search ${eth.search.join(' ')}`] : []), ''].join('\n'), permissions: '0644' },
      { path: '/etc/hosts', content: `127.0.0.1 localhost\n127.0.1.1 ${input.name}\n`, permissions: '0644' },
    ];
    if (input.files.some((f) => f.path === '/etc/keepalived/keepalived.conf') && !input.files.some((f) => f.path === '/etc/default/keepalived')) {
      // Debian's keepalived unit reads DAEMON_ARGS from here; log to the unit's output since there is no syslog.
      extras.push({ path: '/etc/default/keepalived', content: '# Added by the namespace harness: no syslog in a test node.\nDAEMON_ARGS="--log-console --log-detail"\n', permissions: '0644' });
    }
    extras.filter((e) => !input.files.some((f) => f.path === e.path)).forEach(write);

    const fs = this.nodeFs({ dir });
    const ids = (user: string) => {
      const line = (fs.read('/etc/passwd') ?? '').split('\n').find((l) => l.startsWith(`${user}:`));
      if (!line) throw new Error(`${input.name}: user ${user} is unknown`);
      const [, , uid, gid] = line.split(':');
      return { uid: Number(uid), gid: Number(gid) };
    };
    const wanted = unitsStartedByRuncmd(input.userData).filter((u) => !BOOT_ONESHOTS[u]);
    if (wanted.length === 0) throw new Error(`${input.name}: found no 'systemctl restart UNITS' in the runcmd`);
    const scripts = renderedScriptsOfRuncmd(input.userData, input.files.map((f) => f.path));
    const skipped = [
      ...wanted.filter((u) => NOT_RUN[u]).map((u) => `${u}: ${NOT_RUN[u]}`),
      ...scripts.filter((argv) => NOT_RUN_SCRIPTS[argv[0]]).map((argv) => `${argv[0]}: ${NOT_RUN_SCRIPTS[argv[0]]}`),
    ];
    const units = wanted.filter((u) => !NOT_RUN[u]).map((u) => loadUnit(fs, u, ids));

    const runsDatabase = units.some((u) => u.name === DATABASE_UNIT);
    if (runsDatabase) initializeDatabaseDir(ownPath(dir, DATABASE_DATA_DIR), input.name);
    const firstBootScripts = scripts.filter((argv) => !NOT_RUN_SCRIPTS[argv[0]]);
    skipped.forEach((what) => this.noteOnce(`not run: ${what}`));
    const node: HarnessNode = {
      name: input.name, netns: `${this.runId}-${input.name}`, dir, address: eth.addresses[0].split('/')[0], mac: eth.mac, units, skippedUnits: skipped, firstBootScripts, runsDatabase,
      vips: vipsOfKeepalived(input),
      ethernets: ethernetsOf(input),
    };
    this.nodes.push(node);

    const cfg: SupervisorConfig = {
      node: input.name,
      socketPath: SUPERVISOR_SOCKET,
      logDir: `${HARNESS_RUN_DIR}/log`,
      eventsFile: `${HARNESS_RUN_DIR}/events.jsonl`,
      path: UNIT_PATH,
      mainPidPlaceholder: MAINPID_PLACEHOLDER,
      units,
      environmentFileParser: environmentFileParserSource(),
    };
    writeNodeProgram(path.join(dir, 'supervisor.js'), supervisorMain, cfg);
    writeFileSync(path.join(dir, 'boot.sh'), bootScript(node, input), { mode: 0o755 });
  }

  private spawnTracked(label: string, cmd: string, args: string[], logFile: string): ChildProcess {
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      // If this process dies without cleaning up, the kernel kills the child (and so the node's PID namespace).
      child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${label}`);
    const pid = child.pid;
    this.pids.set(pid, label);
    this.children.push(child);
    child.on('exit', () => this.pids.delete(pid));
    return child;
  }

  private bootNode(node: HarnessNode): void {
    this.spawnTracked(`node ${node.name}`, 'ip', [
      'netns', 'exec', node.netns,
      'unshare', '--mount', '--pid', '--fork', '--mount-proc', '--uts', '--propagation', 'private', '--kill-child=SIGKILL',
      '/bin/sh', path.join(node.dir, 'boot.sh'),
    ], path.join(node.dir, 'boot.log'));
  }

  private async waitForSupervisor(node: HarnessNode): Promise<void> {
    const ok = await pollUntil(async () => ((await this.api(node, 'GET', '/status').catch(() => undefined)) ? true : undefined), 15_000, 100);
    if (!ok) throw new Error(`${node.name}: the supervisor did not come up; boot log:\n${readText(path.join(node.dir, 'boot.log'))}`);
  }

  /** The runcmd's own scripts (e.g. the database bootstrap), in order, as cloud-init runs them after `systemctl restart`. */
  private async runFirstBootScripts(node: HarnessNode): Promise<void> {
    for (const argv of node.firstBootScripts) {
      const r = await this.exec(node, argv, 90_000);
      if (r.code !== 0) throw new Error(`${node.name}: runcmd ${argv.join(' ')} failed (${r.code ?? r.signal}):\n${r.stdout}${r.stderr}\n${tail(this.readNodeFileSafe(node, JOURNAL_FILE), 20)}`);
    }
  }

  // ---- talking to a node -------------------------------------------------

  /** Runs a command inside the node as root (as the runcmd or an operator's shell would), bounded by timeoutMs. */
  exec(node: HarnessNode | string, argv: readonly string[], timeoutMs = 30_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    return this.api(node, 'POST', '/exec', JSON.stringify({ argv, timeoutMs }), timeoutMs + 5000);
  }

  api<T = unknown>(node: HarnessNode | string, method: 'GET' | 'POST', urlPath: string, body?: string, timeoutMs = 30_000): Promise<T> {
    const n = typeof node === 'string' ? this.node(node) : node;
    return new Promise<T>((resolve, reject) => {
      const req = request({ socketPath: this.hostPath(n, SUPERVISOR_SOCKET), path: urlPath, method, timeout: timeoutMs }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${n.name} ${urlPath}: ${res.statusCode} ${data}`));
          else {
            try {
              resolve((res.headers['content-type'] === 'application/json' ? JSON.parse(data) : data) as T);
            } catch (e) {
              reject(e as Error);
            }
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${n.name} ${urlPath}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Runs `systemctl ARGS` as the node's watchdog would; returns its exit code and output. */
  async systemctl(node: HarnessNode | string, ...args: string[]): Promise<{ code: number; out: string }> {
    const text = await this.api<string>(node, 'POST', '/systemctl', `${args.join('\n')}\n`);
    const cut = text.lastIndexOf('\n');
    return { code: Number(text.slice(cut + 1)), out: text.slice(0, cut) };
  }

  async units(node: HarnessNode | string): Promise<UnitStatus[]> {
    return (await this.api<{ units: UnitStatus[] }>(node, 'GET', '/status')).units;
  }

  async unit(node: HarnessNode | string, unit: string): Promise<UnitStatus> {
    const u = (await this.units(node)).find((x) => x.name === unit);
    if (!u) throw new Error(`${typeof node === 'string' ? node : node.name} runs no ${unit}`);
    return u;
  }

  events(node: HarnessNode | string, since = 0): Promise<SupervisorEvent[]> {
    return this.api<SupervisorEvent[]>(node, 'GET', `/events?since=${since}`);
  }

  ps(node: HarnessNode | string): Promise<ProcessInfo[]> {
    return this.api<ProcessInfo[]>(node, 'GET', '/ps');
  }

  /** Sends a signal inside the node (its PID namespace); returns the time it was sent. */
  async signal(node: HarnessNode | string, target: { pid?: number; pidFile?: string; unit?: string; whom?: 'main' | 'all'; comm?: string }, signal: string): Promise<{ hit: number[]; t: number }> {
    return this.api(node, 'POST', '/signal', JSON.stringify({ ...target, signal }));
  }

  /** The nodes that have the VIP (by default the fabric VIP) on any interface right now. */
  vipHolders(vip = this.vip): string[] {
    return this.nodes.filter((n) => this.isUp(n) && this.hasAddress(n, vip)).map((n) => n.name);
  }

  /** Whether the node runs (it was not powered off, or was booted again since). */
  isUp(node: HarnessNode | string): boolean {
    return !this.poweredOff.has(typeof node === 'string' ? node : node.name);
  }

  hasAddress(node: HarnessNode, address: string): boolean {
    const out = run('ip', ['-n', node.netns, '-4', '-o', 'addr', 'show']).stdout;
    return out.includes(` ${address}/`);
  }

  /** Nodes of the load-balancer pair: their keepalived has the fabric VIP's instance. */
  get balancers(): HarnessNode[] {
    return this.nodes.filter((n) => FABRIC_INSTANCE in n.vips);
  }

  /** The VRRP state the rendered notify hook last wrote on the node, with its time. */
  vrrpState(node: HarnessNode | string, instance = FABRIC_INSTANCE): { t: number; state: string } | undefined {
    const text = readText(this.hostPath(node, `/run/appliance-fabric/vrrp-${instance}.state`)).trim();
    const [t, state] = text.split(/\s+/);
    return state ? { t: Number(t) * 1000, state } : undefined;
  }

  /**
   * Puts a configuration bundle on a node, as the delivery will (Terraform's
   * file provisioner): adapted for namespaces the way the first-boot files were
   * (adapt.ts), in a directory of the node's own /run that only root can read.
   * Returns the node path of the directory and the bundle as delivered.
   * `form: 'text'` delivers the single text file Terraform uploads instead.
   */
  deliverBundle(node: HarnessNode | string, bundle: NodeBundle, form: 'directory' | 'text' = 'directory'): { nodePath: string; delivered: NodeBundle } {
    const n = typeof node === 'string' ? this.node(node) : node;
    const files = bundle.files.map((f) => {
      const { file, changes } = adaptForNamespaces(f);
      changes.forEach((c) => this.noteOnce(`bundle ${file.path}: ${c}`));
      return { ...f, content: file.content };
    });
    const delivered = assembleBundle(bundle.node, files, ['# Adapted for the namespace harness (adapt.ts).']);
    bundleCounter += 1;
    const nodePath = `${HARNESS_RUN_DIR}/bundles/${bundleCounter}-${delivered.hash.slice(0, 12)}`;
    const hostDir = this.hostPath(n, nodePath);
    if (form === 'text') {
      mkdirSync(path.dirname(hostDir), { recursive: true, mode: 0o700 });
      writeFileSync(hostDir, bundleTextOf(delivered), { mode: 0o600 });
      return { nodePath, delivered };
    }
    mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    for (const entry of bundleDirectoryEntries(delivered)) {
      const file = path.join(hostDir, entry.relativePath);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, entry.data, { mode: 0o600 });
    }
    return { nodePath, delivered };
  }

  /** Runs the node's bundle agent (the rendered one) with these arguments, as root on the node; bounded by timeoutMs. */
  async runBundleAgent(node: HarnessNode | string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
    const t0 = performance.now();
    const r = await this.exec(node, [APPLY_BUNDLE_SCRIPT, ...args], timeoutMs);
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
  }

  /** deliverBundle, then the agent on it. */
  async applyBundle(
    node: HarnessNode | string,
    bundle: NodeBundle,
    extraArgs: readonly string[] = [],
    form: 'directory' | 'text' = 'directory',
  ): Promise<{ code: number | null; stdout: string; stderr: string; ms: number; delivered: NodeBundle }> {
    const { nodePath, delivered } = this.deliverBundle(node, bundle, form);
    return { ...(await this.runBundleAgent(node, [...extraArgs, nodePath])), delivered };
  }

  /**
   * Gives a node's stopped database server an empty data directory, as
   * mariadb-server's postinst leaves it on a new VM (the node's own MariaDB
   * must be stopped first).
   */
  resetDatabaseDir(node: HarnessNode | string): void {
    const n = typeof node === 'string' ? this.node(node) : node;
    if (!n.runsDatabase) throw new Error(`${n.name} runs no database`);
    const dir = this.hostPath(n, DATABASE_DATA_DIR);
    // Its contents only: the node may see the directory itself through a mount.
    for (const entry of readdirSync(dir)) rmSync(path.join(dir, entry), { recursive: true, force: true });
    initializeDatabaseDir(dir, n.name);
  }

  readNodeFile(node: HarnessNode | string, nodePath: string): string {
    return readText(this.hostPath(node, nodePath));
  }

  listNodeDir(node: HarnessNode | string, nodePath: string): string[] {
    try {
      return readdirSync(this.hostPath(node, nodePath));
    } catch {
      return [];
    }
  }

  // ---- whole-node faults ---------------------------------------------------

  /**
   * The node stalls for `ms`, as a hypervisor pause freezes a VM whole:
   * every process of every unit is stopped (SIGSTOP) and continued, keepalived
   * first on stopping and last on continuing, since it is what must ride out
   * the stall. The supervisor itself goes on. Returns how long it stood.
   */
  async stall(node: HarnessNode | string, ms: number): Promise<number> {
    const n = typeof node === 'string' ? this.node(node) : node;
    const order = [...n.units.map((u) => u.name)].sort((a, b) => Number(b === KEEPALIVED_UNIT) - Number(a === KEEPALIVED_UNIT));
    const stopped: string[] = [];
    const t0 = nowMs();
    try {
      for (const unit of order) {
        stopped.push(unit);
        await this.signal(n, { unit, whom: 'all' }, 'SIGSTOP');
      }
      await sleep(Math.max(0, ms - (nowMs() - t0)));
    } finally {
      for (const unit of stopped.reverse()) await this.signal(n, { unit, whom: 'all' }, 'SIGCONT').catch(() => undefined);
    }
    return nowMs() - t0;
  }

  /**
   * Power loss: the node's links go dark and every process in its network
   * namespace is killed at once (SIGKILL: no daemon resigns or cleans up).
   * Its disk (the overlays' upper directories, its /var/lib) stays.
   */
  async powerOff(node: HarnessNode | string): Promise<void> {
    const n = typeof node === 'string' ? this.node(node) : node;
    this.poweredOff.add(n.name);
    for (const eth of n.ethernets) run('ip', ['-n', n.netns, 'link', 'set', eth.name, 'down']);
    const pids = () => run('ip', ['netns', 'pids', n.netns]).stdout.split('\n').map(Number).filter((p) => p > 0);
    for (const pid of pids()) killPid(pid, 'SIGKILL');
    const gone = await pollUntil(() => (pids().length === 0 ? true : undefined), 5_000, 50);
    if (!gone) throw new Error(`${n.name}: processes ${pids().join(', ')} outlived the power-off`);
  }

  /**
   * Boots a powered-off node again, as a reboot does: its interfaces come up
   * with only the network-config's addresses (a VIP it held is gone), /run is
   * empty, its units start from its disk; the first-boot scripts do not run
   * again. Resolves when its supervisor answers.
   */
  async powerOn(node: HarnessNode | string): Promise<void> {
    const n = typeof node === 'string' ? this.node(node) : node;
    if (!this.poweredOff.has(n.name)) throw new Error(`${n.name} is not powered off`);
    for (const eth of n.ethernets) {
      runOk('ip', ['-n', n.netns, 'addr', 'flush', 'dev', eth.name]);
      for (const a of eth.addresses) runOk('ip', ['-n', n.netns, 'addr', 'add', a, 'dev', eth.name]);
      runOk('ip', ['-n', n.netns, 'link', 'set', eth.name, 'up']);
      for (const r of eth.routes) runOk('ip', ['-n', n.netns, 'route', 'replace', r.to === '0.0.0.0/0' ? 'default' : r.to, 'via', r.via]);
    }
    const runDir = ownPath(n.dir, '/run');
    for (const entry of readdirSync(runDir)) rmSync(path.join(runDir, entry), { recursive: true, force: true });
    this.bootNode(n);
    await this.waitForSupervisor(n);
    this.poweredOff.delete(n.name);
  }

  linkDown(node: HarnessNode, ifname = MANAGEMENT_INTERFACE): void {
    runOk('ip', ['-n', node.netns, 'link', 'set', ifname, 'down']);
  }

  /** Brings the interface back and restores the routes the kernel dropped with the link (networkd would). */
  linkUp(node: HarnessNode, input?: NodeInput, ifname = MANAGEMENT_INTERFACE): void {
    runOk('ip', ['-n', node.netns, 'link', 'set', ifname, 'up']);
    const routes = input ? ethernetsOf(input).find((e) => e.name === ifname)?.routes ?? [] : [];
    for (const r of routes) run('ip', ['-n', node.netns, 'route', 'replace', r.to === '0.0.0.0/0' ? 'default' : r.to, 'via', r.via]);
  }

  /** One command on a node's HAProxy admin socket; its whole answer. */
  haproxyCli(node: HarnessNode | string, command: string, timeoutMs = 1000): Promise<string> {
    const socketPath = this.hostPath(node, HAPROXY_ADMIN_SOCKET);
    return new Promise((resolve, reject) => {
      const sock = connect(socketPath);
      let data = '';
      const timer = setTimeout(() => sock.destroy(new Error(`${command} timed out`)), timeoutMs);
      sock.setEncoding('utf8');
      sock.on('connect', () => sock.write(`${command}\n`));
      sock.on('data', (c: string) => (data += c));
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.on('close', () => {
        clearTimeout(timer);
        resolve(data);
      });
    });
  }

  /** HAProxy's `show stat` on a node's admin socket, as rows keyed by the CSV header. */
  async haproxyStat(node: HarnessNode | string, timeoutMs = 1000): Promise<Record<string, string>[]> {
    const data = await this.haproxyCli(node, 'show stat', timeoutMs);
    const lines = data.split('\n').filter((l) => l.trim());
    if (lines.length === 0 || !lines[0].startsWith('# ')) throw new Error(`unexpected show stat answer: ${data.slice(0, 200)}`);
    const header = lines[0].slice(2).split(',');
    return lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  }

  /**
   * Starts the prober in the client namespace, or in node `from`'s network
   * namespace (a service that only its peers may reach, as the firewall has it).
   */
  prober(cfg: ProberConfig, from?: HarnessNode): Prober {
    const file = path.join(this.dir, `prober-${Math.random().toString(36).slice(2, 8)}.js`);
    writeNodeProgram(file, proberMain, cfg);
    const ns = from ? from.netns : this.clientNs;
    return new Prober('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', ns, process.execPath, file], (pid) => this.pids.set(pid, 'prober'), (pid) => this.pids.delete(pid));
  }

  /**
   * Starts the disruption sampler in the client namespace: new and reused
   * connections to every frontend, every 50 ms with a 2 s deadline, for at
   * most `durationMs` (the sampler shared with the VM tier).
   */
  sampler(durationMs: number, targets: readonly SamplerTarget[] = this.frontends): DisruptionSampler {
    return new DisruptionSampler(['setpriv', '--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.clientNs], { targets, durationMs }, {
      onSpawn: (pid) => this.pids.set(pid, 'disruption sampler'),
      onExit: (pid) => this.pids.delete(pid),
    });
  }

  /** One request from the client (curl, as a person would). */
  curl(url: string, extra: string[] = [], stdin?: string): { ok: boolean; body: string; stderr: string } {
    const r = run('ip', ['netns', 'exec', this.clientNs, 'curl', '-k', '-sS', '--max-time', '3', ...extra, url], { timeoutMs: 10_000, input: stdin });
    return { ok: r.status === 0, body: r.stdout.trim(), stderr: r.stderr };
  }

  /** Every VRRP instance of the fabric with its VIP and members. */
  get vrrpInstances(): { name: string; vip: string; members: HarnessNode[] }[] {
    const names = [...new Set(this.nodes.flatMap((n) => Object.keys(n.vips)))];
    return names.map((name) => {
      const members = this.nodes.filter((n) => name in n.vips);
      return { name, vip: members[0].vips[name], members };
    });
  }

  /**
   * Waits (bounded) until every unit is active, every VIP has exactly one
   * holder, every VRRP member has settled, every balancer's HAProxy counts
   * each of its checked servers UP (an application still starting, or
   * marked DOWN while it did, would otherwise get no request), and the
   * client gets an answer through the fabric VIP.
   */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const settled = () =>
      this.vrrpInstances.every(
        // A standby is FAULT until its checks have risen (two passes): ready means settled.
        (i) => this.vipHolders(i.vip).length === 1 && i.members.every((n) => ['MASTER', 'BACKUP'].includes(this.vrrpState(n, i.name)?.state ?? '')),
      );
    const ok = await pollUntil(async () => {
      for (const n of this.nodes) if ((await this.units(n)).some((u) => u.state !== 'active')) return undefined;
      if (!settled()) return undefined;
      for (const n of this.nodes.filter((node) => node.units.some((u) => u.name === HAPROXY_UNIT))) {
        const servers = (await this.haproxyStat(n).catch(() => undefined))?.filter((r) => !['FRONTEND', 'BACKEND'].includes(r.svname));
        if (!servers || servers.some((r) => r.status !== 'UP' && r.status !== 'no check')) return undefined;
      }
      return this.curl(`https://${this.vip}/`, ['--max-time', '1']).ok ? true : undefined;
    }, timeoutMs, 200);
    if (!ok) {
      const states = this.vrrpInstances.map((i) => `${i.name} (holders [${this.vipHolders(i.vip).join(', ')}]): ${i.members.map((n) => `${n.name}=${this.vrrpState(n, i.name)?.state ?? 'none'}`).join(' ')}`);
      throw new Error(`the fabric did not become ready within ${timeoutMs} ms: ${states.join('; ')}\n${await this.diagnostics()}`);
    }
  }

  /** What a failing test should print: unit states, recent events, logs. */
  async diagnostics(): Promise<string> {
    const parts: string[] = [];
    for (const n of this.nodes) {
      parts.push(`== ${n.name}`);
      try {
        parts.push((await this.units(n)).map((u) => `${u.name} ${u.state} pid=${u.mainPid ?? '-'} starts=${u.starts}`).join('\n'));
      } catch (e) {
        parts.push(`(supervisor: ${String(e)})`);
      }
      for (const f of ['boot.log']) parts.push(`-- ${f}\n${tail(readText(path.join(n.dir, f)), 15)}`);
      for (const u of n.units) parts.push(`-- ${u.name}\n${tail(this.readNodeFileSafe(n, `${HARNESS_RUN_DIR}/log/${u.name}.log`), 12)}`);
      parts.push(`-- journal\n${tail(this.readNodeFileSafe(n, JOURNAL_FILE), 12)}`);
    }
    return parts.join('\n');
  }

  private readNodeFileSafe(n: HarnessNode, p: string): string {
    try {
      return this.readNodeFile(n, p);
    } catch {
      return '';
    }
  }

  // ---- teardown ----------------------------------------------------------

  /**
   * Stops every node (units first, as systemd would at shutdown, so
   * keepalived resigns and ExecStopPost runs), then ends what is left of
   * this run's processes by pid, deletes its namespaces and its directory.
   * Safe to call twice and after a failed start.
   */
  async stop(): Promise<{ leftovers: string[] }> {
    if (this.stopped) return { leftovers: [] };
    this.stopped = true;
    const leftovers: string[] = [];
    for (const n of this.nodes) {
      await this.api(n, 'POST', '/shutdown', undefined, 25_000).catch(() => undefined);
    }
    // The node processes exit with their supervisor; whatever still runs is ended by pid.
    await pollUntil(() => (this.pids.size === 0 ? true : undefined), 5_000, 50);
    for (const [pid, label] of this.pids) {
      leftovers.push(`${label} (pid ${pid}) still ran after shutdown`);
      killPid(pid, 'SIGKILL');
    }
    await pollUntil(() => (this.pids.size === 0 ? true : undefined), 5_000, 50);
    for (const ns of this.namespaces) {
      const pids = run('ip', ['netns', 'pids', ns]).stdout.split('\n').map(Number).filter((p) => p > 0);
      for (const pid of pids) {
        leftovers.push(`pid ${pid} (${readText(`/proc/${pid}/comm`).trim()}) was left in ${ns}`);
        killPid(pid, 'SIGKILL');
      }
    }
    for (const ns of this.namespaces) {
      await pollUntil(() => (run('ip', ['netns', 'pids', ns]).stdout.trim() === '' ? true : undefined), 3_000, 50);
      run('ip', ['netns', 'del', ns]);
    }
    this.namespaces.length = 0;
    if (this.dir.startsWith(path.join(tmpdir(), `${NAME_PREFIX}-`))) rmSync(this.dir, { recursive: true, force: true });
    return { leftovers };
  }
}

// ---- helpers -------------------------------------------------------------

export interface Ethernet {
  /** The interface name inside the node (network-config's set-name). */
  name: string;
  mac: string;
  addresses: string[];
  routes: { to: string; via: string }[];
  nameservers: string[];
  search: string[];
}

/** The VRRP instances of the node's rendered keepalived.conf, each with the first address of its virtual_ipaddress block. */
function vipsOfKeepalived(n: NodeInput): Record<string, string> {
  const conf = n.files.find((f) => f.path === '/etc/keepalived/keepalived.conf')?.content ?? '';
  const vips: Record<string, string> = {};
  // An instance block runs from its `vrrp_instance NAME {` line to the next `}` at the start of a line.
  for (const block of conf.split(/^vrrp_instance /m).slice(1)) {
    const name = block.slice(0, block.indexOf(' '));
    const vip = /^\s+virtual_ipaddress \{\n\s+([0-9.]+)\//m.exec(block.slice(0, block.search(/^\}/m)))?.[1];
    if (!vip) throw new Error(`${n.name}: found no VIP for VRRP instance ${name} in keepalived.conf`);
    vips[name] = vip;
  }
  return vips;
}

/** The node's interfaces from its network-config, the management one (eth0) first. */
function ethernetsOf(n: NodeInput): Ethernet[] {
  type V2 = { match?: { macaddress?: string }; 'set-name'?: string; addresses?: string[]; routes?: { to: string; via: string }[]; nameservers?: { addresses?: string[]; search?: string[] } };
  const ethernets = (n.networkConfigData as { ethernets?: Record<string, V2> }).ethernets ?? {};
  const result = Object.entries(ethernets).map(([id, eth]) => {
    const name = eth['set-name'] ?? id;
    if (!eth.match?.macaddress || !eth.addresses?.length) throw new Error(`${n.name}: the network-config's ${name} has no MAC or no address`);
    // The switch-side veth is p<N>-<name>: an interface name has at most 15 characters.
    if (!/^[a-z0-9]{1,10}$/.test(name)) throw new Error(`${n.name}: interface name '${name}' is not one the harness can build`);
    return { name, mac: eth.match.macaddress, addresses: eth.addresses, routes: eth.routes ?? [], nameservers: eth.nameservers?.addresses ?? [], search: eth.nameservers?.search ?? [] };
  });
  if (result[0]?.name !== MANAGEMENT_INTERFACE) throw new Error(`${n.name}: the network-config's first interface is not ${MANAGEMENT_INTERFACE}`);
  return result;
}

/** The scratch upper dir of a node's /var/lib overlay (it holds only the mountpoints of the node's own directories). */
function varLibUpper(nodeDir: string): string {
  return path.join(nodeDir, 'work', 'var-lib-upper');
}
function varLibWork(nodeDir: string): string {
  return path.join(nodeDir, 'work', 'var-lib-work');
}

function mkdirParents(root: string, nodePath: string): void {
  let current = root;
  for (const part of path.dirname(nodePath).split('/').filter(Boolean)) {
    current = path.join(current, part);
    if (!existsSync(current)) {
      mkdirSync(current, { mode: 0o755 });
      chmodSync(current, 0o755);
    }
  }
}

/**
 * PID 1 of the node: mounts the node's own /etc, /usr and /run, does what
 * cloud-init does beyond write_files that matters here (the script user,
 * file owners, the rendered sysctl and tmpfiles), then runs the supervisor
 * and reaps orphans while it waits for it.
 */
function bootScript(node: HarnessNode, input: NodeInput): string {
  const own = (p: string) => ownPath(node.dir, p);
  const work = (p: string) => path.join(node.dir, 'work', p);
  const lines = [
    '#!/bin/sh',
    `# PID 1 of test node ${node.name} (appliance-fabric namespace harness).`,
    'set -eu',
    `hostname ${shellQuote(node.name)}`,
    ...OVERLAID_TOPS.map((t) => `mount -t overlay overlay -o ${shellQuote(`lowerdir=${t},upperdir=${own(t)},workdir=${work(t)}`)} ${t}`),
    `mount --bind ${shellQuote(own('/run'))} /run`,
    `mount -t overlay overlay -o ${shellQuote(`lowerdir=${VAR_LIB},upperdir=${varLibUpper(node.dir)},workdir=${varLibWork(node.dir)}`)} ${VAR_LIB}`,
    ...(node.runsDatabase ? [`mount --bind ${shellQuote(own(DATABASE_DATA_DIR))} ${DATABASE_DATA_DIR}`] : []),
    `mount --bind ${shellQuote(own(STATE_DIR))} ${STATE_DIR}`,
    // cloud-init's users: creates the script user on a node; here only in the node's own /etc if the host lacks it.
    `getent passwd ${SCRIPT_USER} > /dev/null || useradd --system --no-create-home --shell /usr/sbin/nologin ${SCRIPT_USER}`,
  ];
  for (const f of input.files) if (f.owner && f.owner !== 'root:root') lines.push(`chown ${shellQuote(f.owner)} ${shellQuote(f.path)}`);
  // runcmd `sysctl --system` would also apply the host's global kernel settings; apply only the rendered,
  // per-network-namespace ones.
  for (const f of input.files.filter((x) => x.path.startsWith('/etc/sysctl.d/'))) {
    for (const raw of f.content.split('\n')) {
      const m = /^\s*([a-z0-9_.\-/]+)\s*=\s*(\S+)\s*$/i.exec(raw);
      if (!m) continue;
      if (!m[1].startsWith('net.')) throw new Error(`${node.name}: ${f.path} sets ${m[1]}, which is not per network namespace; the harness will not change the host's kernel`);
      lines.push(`sysctl -q -w ${shellQuote(`${m[1]}=${m[2]}`)}`);
    }
  }
  lines.push(
    // What boot does for /run (e.g. haproxy's /run/haproxy), then the rendered runcmd's own tmpfiles call.
    'systemd-tmpfiles --create --prefix=/run > /dev/null 2>&1 || true',
    ...input.files.filter((f) => f.path.startsWith('/etc/tmpfiles.d/')).map((f) => `systemd-tmpfiles --create ${shellQuote(f.path)}`),
    // The firewall (and any other oneshot of the runcmd) before any service listens.
    ...unitsStartedByRuncmd(input.userData).filter((u) => BOOT_ONESHOTS[u]).map((u) => BOOT_ONESHOTS[u].map(shellQuote).join(' ')),
    `mkdir -p ${HARNESS_RUN_DIR}/log`,
    `${shellQuote(process.execPath)} ${shellQuote(path.join(node.dir, 'supervisor.js'))} &`,
    // dash reaps every child while it waits, including adopted orphans.
    'wait',
    '',
  );
  return lines.join('\n');
}

/**
 * What mariadb-server's postinst does on the appliance image: an initialized
 * data directory owned by mysql, root by unix socket only, no test database.
 * The node's own configuration is read when its server starts, as on a VM
 * (where write_files come after the packages).
 */
function initializeDatabaseDir(dir: string, nodeName: string): void {
  const r = run('mariadb-install-db', ['--no-defaults', '--user=mysql', `--datadir=${dir}`, '--auth-root-authentication-method=socket', '--skip-test-db']);
  if (r.status !== 0) throw new Error(`${nodeName}: mariadb-install-db failed:\n${r.stdout}${r.stderr}`);
  runOk('chown', ['mysql:mysql', dir]);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function tail(text: string, n: number): string {
  return text.split('\n').slice(-n - 1).join('\n');
}

function killPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** Refuses to run when the test range is the host's own, or the fabric uses other addresses. */
function preflight(input: FabricInput): void {
  if (process.getuid?.() !== 0) throw new Error('the namespace harness needs root');
  const host = runOk('ip', ['-br', 'addr']);
  if (host.includes(TEST_NETWORK.prefix)) throw new Error(`the host already has an address in ${TEST_NETWORK.cidr}:\n${host}`);
  const addresses = [
    input.vip,
    ...Object.values(input.clientAddresses ?? {}).map((a) => a.split('/')[0]),
    ...input.nodes.flatMap((n) => ethernetsOf(n).flatMap((e) => e.addresses.map((a) => a.split('/')[0]))),
  ];
  const outside = addresses.filter((a) => !a.startsWith(TEST_NETWORK.prefix));
  if (outside.length) throw new Error(`the fabric under test uses addresses outside ${TEST_NETWORK.cidr}: ${outside.join(', ')}`);
  for (const tool of ['keepalived', 'haproxy', 'curl', 'setpriv', 'unshare', 'systemd-tmpfiles']) {
    if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed`);
  }
}

/** Removes what an earlier run of this harness left behind when its process was killed (its pid is gone). */
function removeStaleRuns(): void {
  const alive = (pid: number) => existsSync(`/proc/${pid}`);
  for (const line of run('ip', ['netns', 'list']).stdout.split('\n')) {
    const m = new RegExp(`^(${NAME_PREFIX}-(\\d+)-\\S+)`).exec(line.trim());
    if (!m || alive(Number(m[2]))) continue;
    for (const pid of run('ip', ['netns', 'pids', m[1]]).stdout.split('\n').map(Number).filter((p) => p > 0)) killPid(pid, 'SIGKILL');
    run('ip', ['netns', 'del', m[1]]);
  }
  for (const entry of readdirSync(tmpdir())) {
    const m = new RegExp(`^${NAME_PREFIX}-(\\d+)-`).exec(entry);
    if (!m || alive(Number(m[1]))) continue;
    const full = path.join(tmpdir(), entry);
    if (statSync(full).isDirectory()) rmSync(full, { recursive: true, force: true });
  }
}


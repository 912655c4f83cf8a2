import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { RenderedFile } from '../../cloud-init/rendered-file';
import { FIREWALL_CONFIG } from '../../cloud-init/firewall';
import { HAPROXY_SERVER_STATE_FILE, HAPROXY_SERVER_STATE_VERSION, TLS_BUNDLE_PATH } from '../../cloud-init/haproxy';

/**
 * Runs the real tools (cloud-init, keepalived, HAProxy, bash, shellcheck,
 * systemd-analyze) over rendered nodes and returns every complaint with the
 * tool's own message. Nothing here touches the host's configuration: checks
 * that need host paths run in a private mount namespace, keepalived in a
 * scratch network namespace.
 */

export interface NodeUnderTest {
  /** e.g. `vsphere-fabric/node1` or `random#17/node2`. */
  readonly label: string;
  readonly userData: string;
  readonly files: readonly RenderedFile[];
}

export interface ToolComplaint {
  readonly label: string;
  readonly tool: string;
  readonly message: string;
}

const SYSTEM_PYTHON = '/usr/bin/python3';
const KEEPALIVED_SCRIPT_USER = 'keepalived_script';

/** Like run, without blocking: for tools that can check in parallel. */
function runAsync(cmd: string, args: string[], timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => resolve({ status: null, output: `${output}${err.message}` }));
    child.on('close', (status) => resolve({ status, output }));
  });
}

function run(cmd: string, args: string[], input?: string, timeoutMs = 30000): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) return { status: -1, output: `${cmd} could not run: ${r.error.message}` };
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** keepalived.conf without notify hooks and vrrp_script/track_script blocks (see keepalived()). */
export function withoutScripts(conf: string): string {
  return conf
    .replace(/^\s*notify .*\n/gm, '')
    .replace(/^vrrp_script \S+ \{\n(?:.*\n)*?\}\n/gm, '')
    .replace(/^\s*track_script \{\n(?:.*\n)*?\s*\}\n/gm, '');
}

/**
 * The only place where a rendered path is changed for a check: HAProxy's
 * certificate, which is a Terraform-made secret, and its server-state file,
 * which exists on a node (tmpfiles) but not on the test host.
 */
function forCheck(file: RenderedFile, certPath: string, serverStatePath: string): string {
  return file.path === '/etc/haproxy/haproxy.cfg' ? file.content.split(TLS_BUNDLE_PATH).join(certPath).split(HAPROXY_SERVER_STATE_FILE).join(serverStatePath) : file.content;
}

export class ToolBench {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'aftools-'));
  private readonly netns = `aft2-${process.pid}`;
  private readonly certPath = path.join(this.dir, 'fabric.pem');
  private readonly serverStatePath = path.join(this.dir, 'server-state');
  private readonly passwdPath = path.join(this.dir, 'passwd');
  private readonly groupPath = path.join(this.dir, 'group');
  private netnsCreated = false;

  constructor() {
    // A real certificate, so haproxy -c loads it as a node would.
    const key = path.join(this.dir, 'key.pem');
    const crt = path.join(this.dir, 'crt.pem');
    const r = run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=fabric.test', '-days', '1', '-keyout', key, '-out', crt]);
    if (r.status !== 0) throw new Error(`openssl failed: ${r.output}`);
    writeFileSync(this.certPath, readFileSync(crt, 'utf8') + readFileSync(key, 'utf8'));
    // What the node's tmpfiles line writes before HAProxy's first start.
    writeFileSync(this.serverStatePath, `${HAPROXY_SERVER_STATE_VERSION}\n`);
    // keepalived checks that its script user exists; cloud-init creates it on a node. Here it exists
    // only in copies of passwd/group bind-mounted in a private mount namespace.
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const group = readFileSync('/etc/group', 'utf8');
    writeFileSync(this.passwdPath, passwd.includes(`\n${KEEPALIVED_SCRIPT_USER}:`) ? passwd : `${passwd}${KEEPALIVED_SCRIPT_USER}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n`);
    writeFileSync(this.groupPath, group.includes(`\n${KEEPALIVED_SCRIPT_USER}:`) ? group : `${group}${KEEPALIVED_SCRIPT_USER}:x:64999:\n`);
  }

  /** keepalived -t checks interface names in its own network namespace: give it an eth0. */
  private ensureNetns(): void {
    if (this.netnsCreated) return;
    const cmds: string[][] = [
      ['netns', 'add', this.netns],
      ['-n', this.netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer'],
      ['-n', this.netns, 'link', 'set', 'eth0', 'up'],
      // The device-management NIC.
      ['-n', this.netns, 'link', 'add', 'eth3', 'type', 'veth', 'peer', 'name', 'eth3peer'],
      ['-n', this.netns, 'link', 'set', 'eth3', 'up'],
    ];
    for (const c of cmds) {
      const r = run('ip', c);
      if (r.status !== 0) throw new Error(`ip ${c.join(' ')}: ${r.output}`);
      this.netnsCreated = true;
    }
  }

  dispose(): void {
    if (this.netnsCreated) run('ip', ['netns', 'del', this.netns]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Writes a node's files under dir/<n>/root, with their permissions. */
  private materialize(node: NodeUnderTest, index: number): string {
    const root = path.join(this.dir, `node${index}`, 'root');
    for (const f of node.files) {
      const target = path.join(root, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, f.base64 ? Buffer.from(f.content, 'base64') : forCheck(f, this.certPath, this.serverStatePath));
      chmodSync(target, parseInt(f.permissions, 8));
    }
    return root;
  }

  /** cloud-init's own validator, as `cloud-init schema -c` runs it, on many documents in one process. */
  cloudInitSchema(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    const script = [
      'import json, sys, yaml',
      'from cloudinit.config.schema import get_schema, validate_cloudconfig_schema, SchemaValidationError',
      'schema = get_schema()',
      'out = []',
      'for doc in json.load(sys.stdin):',
      '    if not doc["text"].startswith("#cloud-config\\n"):',
      '        out.append([doc["label"], "missing #cloud-config header"]); continue',
      '    try:',
      '        validate_cloudconfig_schema(yaml.safe_load(doc["text"]), schema, strict=True)',
      '    except SchemaValidationError as e:',
      '        out.append([doc["label"], str(e)])',
      '    except Exception as e:',
      '        out.append([doc["label"], "%s: %s" % (type(e).__name__, e)])',
      'print(json.dumps(out))',
    ].join('\n');
    const r = run(SYSTEM_PYTHON, ['-c', script], JSON.stringify(nodes.map((n) => ({ label: n.label, text: n.userData }))), 120000);
    if (r.status !== 0) return [{ label: '*', tool: 'cloud-init schema', message: r.output }];
    return (JSON.parse(r.output) as [string, string][]).map(([label, message]) => ({ label, tool: 'cloud-init schema', message }));
  }

  /** The `cloud-init schema -c FILE` command itself. */
  cloudInitSchemaCli(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    return nodes.flatMap((n, i) => {
      const file = path.join(this.dir, `user-data-${i}`);
      writeFileSync(file, n.userData);
      const r = run('cloud-init', ['schema', '-c', file], undefined, 60000);
      return r.status === 0 ? [] : [{ label: n.label, tool: 'cloud-init schema -c', message: r.output }];
    });
  }

  /**
   * keepalived -t on each keepalived.conf. Debian's keepalived 2.2.7 kills
   * itself during -t when any script is configured (notify hooks,
   * vrrp_script; fixed upstream in 2.2.8, acassen/keepalived#2587 and #2617),
   * so script references are dropped for this check only; the namespace
   * tests run them for real.
   */
  keepalived(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    this.ensureNetns();
    return nodes.flatMap((n, i) => {
      const conf = n.files.find((f) => f.path === '/etc/keepalived/keepalived.conf');
      if (!conf) return [];
      const file = path.join(this.dir, `keepalived-${i}.conf`);
      writeFileSync(file, withoutScripts(conf.content));
      const r = run('ip', ['netns', 'exec', this.netns, 'unshare', '--mount', 'sh', '-c',
        `mount --bind ${this.passwdPath} /etc/passwd && mount --bind ${this.groupPath} /etc/group && exec keepalived -t -l -f ${file}`]);
      const sysctl = n.files.find((f) => f.path.startsWith('/etc/sysctl.d/'));
      const complaints = r.status === 0 ? [] : [{ label: n.label, tool: 'keepalived -t', message: `exit ${r.status}: ${r.output}` }];
      if (sysctl) {
        const sfile = path.join(this.dir, `sysctl-${i}.conf`);
        writeFileSync(sfile, sysctl.content);
        const s = run('ip', ['netns', 'exec', this.netns, 'sysctl', '-p', sfile]);
        if (s.status !== 0) complaints.push({ label: n.label, tool: 'sysctl -p', message: s.output });
      }
      return complaints;
    });
  }

  /** nft -c on each node's ruleset, in the bench's own network namespace (a check commits nothing, even there). */
  private get emptyFile(): string {
    const file = path.join(this.dir, 'empty');
    if (!existsSync(file)) writeFileSync(file, '');
    return file;
  }

  nftables(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    this.ensureNetns();
    return nodes.flatMap((n, i) => {
      const ruleset = n.files.find((f) => f.path === FIREWALL_CONFIG);
      if (!ruleset) return [];
      const file = path.join(this.dir, `nftables-${i}.conf`);
      writeFileSync(file, ruleset.content);
      // As on a minimal image (no netbase): no /etc/protocols or /etc/services to resolve names with.
      const r = run('ip', ['netns', 'exec', this.netns, 'unshare', '--mount', 'sh', '-c',
        `mount --bind ${this.emptyFile} /etc/protocols && mount --bind ${this.emptyFile} /etc/services && exec nft -c -f ${file}`]);
      return r.status === 0 ? [] : [{ label: n.label, tool: 'nft -c', message: `exit ${r.status}: ${r.output}` }];
    });
  }

  haproxy(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    return nodes.flatMap((n, i) => {
      const cfg = n.files.find((f) => f.path === '/etc/haproxy/haproxy.cfg');
      if (!cfg) return [];
      const file = path.join(this.dir, `haproxy-${i}.cfg`);
      writeFileSync(file, forCheck(cfg, this.certPath, this.serverStatePath));
      const r = run('haproxy', ['-c', '-f', file]);
      // haproxy -c exits 0 with warnings; a careful config has none.
      const warnings = r.output.split('\n').filter((l) => /\[(WARNING|ALERT)\]/.test(l));
      return r.status === 0 && warnings.length === 0 ? [] : [{ label: n.label, tool: 'haproxy -c', message: r.output }];
    });
  }

  /**
   * MariaDB 10.11 has no --validate-config; the closest real check parses the
   * node's own option file the way the server does at start (`--help
   * --verbose` stops before any storage engine starts): an unknown or
   * malformed option is an error.
   */
  mariadb(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    return nodes.flatMap((n, i) => {
      const cnf = n.files.find((f) => f.path.startsWith('/etc/mysql/mariadb.conf.d/'));
      if (!cnf) return [];
      const file = path.join(this.dir, `mariadb-${i}.cnf`);
      writeFileSync(file, cnf.content);
      chmodSync(file, 0o644);
      const r = run('mariadbd', [`--defaults-file=${file}`, '--user=mysql', '--help', '--verbose']);
      const errors = r.output.split('\n').filter((l) => /\[ERROR\]|unknown (variable|option)/.test(l));
      return r.status === 0 && errors.length === 0 ? [] : [{ label: n.label, tool: 'mariadbd --help --verbose', message: `exit ${r.status}: ${errors.join('\n') || r.output.slice(0, 2000)}` }];
    });
  }

  /**
   * bash -n and shellcheck on every shell script, py_compile on Python, once
   * per distinct script: scripts that differ only in their generated header
   * (node name) give the tools the same input.
   */
  async scripts(nodes: readonly NodeUnderTest[]): Promise<ToolComplaint[]> {
    const complaints: ToolComplaint[] = [];
    const shellFiles: { label: string; file: string }[] = [];
    const pythonFiles: { label: string; file: string }[] = [];
    const seen = new Set<string>();
    const withoutHeader = (text: string) => text.replace(/^# .* for \S+ \(fabric '[^']*'\)\.$/m, '');
    nodes.forEach((n, i) => {
      n.files.forEach((f, j) => {
        const kind = f.content.startsWith('#!/bin/bash') ? shellFiles : f.content.startsWith('#!/usr/bin/python3') ? pythonFiles : undefined;
        // A script that differs from one already checked only in its header comment gets the same verdicts.
        const key = withoutHeader(f.content);
        if (!kind || seen.has(key)) return;
        seen.add(key);
        const file = path.join(this.dir, `script-${i}-${j}-${path.basename(f.path)}`);
        writeFileSync(file, f.content);
        kind.push({ label: `${n.label}:${f.path}`, file });
      });
    });
    for (const p of pythonFiles) {
      const r = run(SYSTEM_PYTHON, ['-m', 'py_compile', p.file]);
      if (r.status !== 0) complaints.push({ label: p.label, tool: 'py_compile', message: r.output });
    }
    return [...complaints, ...(await this.shellScripts(shellFiles))];
  }

  /**
   * bash -n and shellcheck on every script shipped as a file (cloud-init/assets/),
   * at its own path, so that a complaint names the file and line to fix.
   */
  async assetScripts(assetDir: string): Promise<ToolComplaint[]> {
    const files = readdirSync(assetDir)
      .map((name) => path.join(assetDir, name))
      .filter((file) => readFileSync(file, 'utf8').startsWith('#!/bin/bash'));
    if (files.length === 0) return [{ label: assetDir, tool: 'bash -n', message: 'no shell script found' }];
    return this.shellScripts(files.map((file) => ({ label: path.relative(process.cwd(), file), file })));
  }

  private async shellScripts(shellFiles: readonly { label: string; file: string }[]): Promise<ToolComplaint[]> {
    const complaints: ToolComplaint[] = [];
    for (const s of shellFiles) {
      const r = run('bash', ['-n', s.file]);
      if (r.status !== 0) complaints.push({ label: s.label, tool: 'bash -n', message: r.output });
    }
    // One shellcheck per core, each on its share of the files (shellcheck itself is single-threaded).
    const batchSize = Math.min(200, Math.ceil(shellFiles.length / availableParallelism()));
    const batches: (typeof shellFiles)[] = [];
    for (let k = 0; k < shellFiles.length; k += batchSize) batches.push(shellFiles.slice(k, k + batchSize));
    const results = await Promise.all(batches.map((batch) => runAsync('shellcheck', ['--format=gcc', '--shell=bash', ...batch.map((s) => s.file)], 120000)));
    for (const [b, r] of results.entries()) {
      const batch = batches[b];
      if (r.status !== 0) {
        for (const line of r.output.split('\n')) {
          const owner = batch.find((s) => line.startsWith(s.file));
          complaints.push({ label: owner?.label ?? '*', tool: 'shellcheck', message: owner ? line.slice(owner.file.length) : line });
        }
      }
    }
    return complaints;
  }

  /**
   * systemd-analyze verify on every unit a node writes or drops in to. With
   * no systemd as PID 1 this is the strongest check available; the node's
   * units and scripts are mounted over the host paths in a private mount
   * namespace, so ExecStart paths resolve as on the node. Any output counts:
   * verify exits 0 on unknown keys and only warns.
   */
  systemdUnits(nodes: readonly NodeUnderTest[]): ToolComplaint[] {
    return nodes.flatMap((n, i) => {
      const root = this.materialize(n, i);
      const units = [
        ...new Set(
          n.files
            .map((f) => /^\/etc\/systemd\/system\/([^/]+\.service)(\.d\/.*)?$/.exec(f.path)?.[1])
            .filter((u): u is string => u !== undefined),
        ),
      ].sort();
      // A drop-in for a unit whose package the test host lacks (Cassandra comes from Apache's repository) cannot be verified here.
      const verifiable = units.filter((u) => n.files.some((f) => f.path === `/etc/systemd/system/${u}`) || existsSync(`/lib/systemd/system/${u}`));
      if (verifiable.length === 0) return [];
      const script = [
        'set -e',
        'mount -t tmpfs tmpfs /usr/local/lib',
        `cp -a ${root}/usr/local/lib/. /usr/local/lib/ 2>/dev/null || true`,
        `mount --bind ${root}/etc/systemd/system /etc/systemd/system`,
        `exec systemd-analyze verify ${verifiable.join(' ')}`,
      ].join('\n');
      const r = run('unshare', ['--mount', 'sh', '-c', script], undefined, 60000);
      return r.status === 0 && r.output === '' ? [] : [{ label: n.label, tool: 'systemd-analyze verify', message: `exit ${r.status}: ${r.output}` }];
    });
  }
}

/** The sshd drop-in's settings as `sshd -T` reports them for a login, lower-case keys (sshd's own output). */
export type SshdEffective = ReadonlyMap<string, string>;

/**
 * A scratch directory below `dir` with a minimal sshd main config that
 * includes the node's drop-in (as Debian's sshd_config includes
 * sshd_config.d) and names a fresh host key.
 */
function scratchSshdConfig(dir: string, prefix: string, dropIn: RenderedFile): { work: string; config: string } {
  const work = mkdtempSync(path.join(dir, prefix));
  const hostKey = path.join(work, 'host_key');
  const keygen = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  if (keygen.status !== 0) throw new Error(`ssh-keygen failed: ${keygen.output}`);
  const config = path.join(work, 'sshd_config');
  writeFileSync(path.join(work, 'drop-in.conf'), dropIn.content);
  writeFileSync(config, `Include ${path.join(work, 'drop-in.conf')}\nHostKey ${hostKey}\n`);
  return { work, config };
}

/**
 * `sshd -t` (syntax and values) and `sshd -T` (the effective settings for a
 * login as `user` from 198.51.100.1) on a node's sshd drop-in, included by a
 * minimal main config with a scratch host key, as Debian's sshd_config
 * includes sshd_config.d. In a private mount namespace with its own /run:
 * sshd wants /run/sshd, which the test host need not have.
 */
export function sshdCheck(dir: string, dropIn: RenderedFile, user: string): { complaint?: string; effective: SshdEffective } {
  const { config } = scratchSshdConfig(dir, 'sshd-', dropIn);
  const sshd = `/usr/sbin/sshd -f ${config}`;
  const script = ['set -e', 'mount -t tmpfs tmpfs /run', 'mkdir -m 0755 /run/sshd', `${sshd} -t`, `${sshd} -T -C user=${user},host=client.example,addr=198.51.100.1`].join('\n');
  const r = run('unshare', ['--mount', 'sh', '-c', script], undefined, 30000);
  const effective = new Map(
    r.output
      .split('\n')
      .map((l) => /^(\S+) (.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]] as [string, string]),
  );
  return r.status === 0 ? { effective } : { complaint: `exit ${r.status}: ${r.output.slice(0, 2000)}`, effective };
}

/**
 * The real sshd, started in the foreground with a node's drop-in (as in
 * sshdCheck) in a private network namespace that has only loopback, so the
 * address the drop-in names is not up, after the `net.*` keys of `sysctlFiles`
 * are applied there as the node's boot applies them. Returns the TCP sockets
 * sshd listens on once it settles (at most 5 s) and its log; sshd is then
 * stopped, and the namespaces go with the command.
 */
export function sshdListensWithoutItsAddress(dir: string, dropIn: RenderedFile, sysctlFiles: readonly RenderedFile[]): { listening: string[]; log: string } {
  const { work, config } = scratchSshdConfig(dir, 'sshd-listen-', dropIn);
  const sysctl = sysctlFiles.flatMap((f) =>
    f.content.split('\n').flatMap((line) => {
      const m = /^\s*(net\.[a-z0-9_.]+)\s*=\s*(\S+)\s*$/.exec(line);
      return m ? [`sysctl -q -w ${m[1]}=${m[2]}`] : [];
    }),
  );
  const log = path.join(work, 'sshd.log');
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -m 0755 /run/sshd',
    'ip link set lo up',
    ...sysctl,
    `/usr/sbin/sshd -f ${config} -D -e > ${log} 2>&1 &`,
    'pid=$!',
    'for _ in $(seq 1 50); do',
    "  ss -Hltn 'sport = :22' | grep -q . && break",
    '  kill -0 "$pid" 2> /dev/null || break',
    '  sleep 0.1',
    'done',
    "ss -Hltn 'sport = :22' | awk '{ print $4 }'",
    'kill "$pid" 2> /dev/null || true',
    'wait "$pid" 2> /dev/null || true',
  ].join('\n');
  const r = run('unshare', ['--mount', '--net', 'sh', '-c', script], undefined, 30000);
  if (r.status !== 0) throw new Error(`sshd in a scratch namespace: exit ${r.status}: ${r.output}`);
  return { listening: r.output.split('\n').filter((l) => l !== ''), log: existsSync(log) ? readFileSync(log, 'utf8') : '' };
}

/** Formats complaints so a failing test shows each tool's own words. */
export function describeComplaints(complaints: readonly ToolComplaint[]): string {
  return complaints.map((c) => `[${c.tool}] ${c.label}: ${c.message}`).join('\n');
}

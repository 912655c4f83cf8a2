import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CASSANDRA_INSTALL_ENV, CASSANDRA_INSTALL_SCRIPT, renderCassandraInstall, renderCassandraInstallEnv } from '../../cloud-init/cassandra';
import { buildFabricModel } from '../../model/build-model';
import { TEST_PLATFORM, threeNodeSpec } from '../fixtures';

/**
 * Tier 2: the Cassandra installer a node gets (cloud-init/assets/install-cassandra
 * with its rendered env file), run with the real curl and gpg against a KEYS
 * file of two throw-away keys served on 127.0.0.1. Only apt-get and
 * dpkg-query are stand-ins (on PATH before the real ones), and the keyring
 * and APT source go to a scratch directory: nothing on this host changes.
 */

const RUN_TIMEOUT_MS = 60_000;
const SCRIPT_STATUS_INSTALLED = 'install ok installed';

interface TestKey {
  readonly fingerprint: string;
  readonly subkeyFingerprint: string;
  readonly armored: string;
}

interface RunResult {
  readonly status: number | null;
  readonly stderr: string;
  readonly keyring?: Buffer;
  readonly source?: string;
  readonly aptCalls: string[];
  /** What the script left in its TMPDIR (its work directory must be gone). */
  readonly leftovers: string[];
}

let dir: string;
let server: Server;
let baseUrl: string;
/** What the server answers at /KEYS; undefined: 404. */
let keysFile: string | undefined;
let keysRequests = 0;
let keyA: TestKey;
let keyB: TestKey;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: RUN_TIMEOUT_MS });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.error?.message ?? ''}${r.stderr}`);
  return r.stdout;
}

/** The primary keys' fingerprints, and the subkeys', in gpg's --with-colons output. */
function fingerprintsIn(colons: string): { primary: string[]; sub: string[] } {
  const primary: string[] = [];
  const sub: string[] = [];
  // Each fpr line belongs to the pub or sub line just before it.
  let owner: string | undefined;
  for (const line of colons.split('\n')) {
    const fields = line.split(':');
    if (fields[0] !== 'fpr') owner = fields[0];
    else if (owner === 'pub') primary.push(fields[9]);
    else if (owner === 'sub') sub.push(fields[9]);
  }
  return { primary, sub };
}

/** A key pair made in its own GNUPGHOME (ed25519 primary, cv25519 subkey), its public half armored. */
function makeKey(name: string): TestKey {
  const home = mkdtempSync(path.join(dir, 'keygen-'));
  const env = { ...process.env, GNUPGHOME: home };
  try {
    run('gpg', ['--batch', '--passphrase', '', '--quick-generate-key', `${name} <${name.toLowerCase().replace(/\W+/g, '-')}@example.invalid>`, 'future-default', 'default', 'never'], env);
    const { primary, sub } = fingerprintsIn(run('gpg', ['--batch', '--with-colons', '--list-keys'], env));
    return { fingerprint: primary[0], subkeyFingerprint: sub[0], armored: run('gpg', ['--batch', '--armor', '--export', primary[0]], env) };
  } finally {
    // Key generation starts a gpg-agent for this home: stop it before the home goes.
    spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { timeout: RUN_TIMEOUT_MS });
    rmSync(home, { recursive: true, force: true });
  }
}

/** A KEYS file as Apache writes one: prose and `pub` listings between the armored keys. */
function keysFileOf(...keys: TestKey[]): string {
  return ['This file contains the PGP keys of various developers.', '', ...keys.flatMap((k) => [`pub   ed25519 2026-01-01 [SC]`, `      ${k.fingerprint}`, '', k.armored])].join('\n');
}

/** The installer and its env file as `pinned` makes them, with the download, keyring and source moved to `work`. */
function installerIn(work: string, pinned: string[], keysUrl: string): { script: string; env: string } {
  const model = buildFabricModel(threeNodeSpec({ cassandra: { members: ['node1', 'node2'], aptSource: { keyFingerprints: pinned } } }), TEST_PLATFORM, 'stack/Fabric');
  const node = model.nodes[0];
  let env = renderCassandraInstallEnv(model, node);
  const moved: Record<string, string> = { CASSANDRA_KEYS_URL: keysUrl, CASSANDRA_KEYRING: path.join(work, 'keyrings', 'cassandra.gpg'), CASSANDRA_APT_SOURCE: path.join(work, 'cassandra.list') };
  for (const [name, value] of Object.entries(moved)) {
    const line = new RegExp(`^${name}='[^']*'$`, 'm');
    // The renderer writes each of these; a renamed variable fails here, not silently.
    expect(env).toMatch(line);
    env = env.replace(line, `${name}='${value}'`);
  }
  const script = path.join(work, path.basename(CASSANDRA_INSTALL_SCRIPT));
  const envFile = path.join(work, path.basename(CASSANDRA_INSTALL_ENV));
  writeFileSync(script, renderCassandraInstall(model, node), { mode: 0o755 });
  writeFileSync(envFile, env);
  return { script, env: envFile };
}

/** Runs the installer as a node's runcmd would, with apt-get and dpkg-query standing in. */
function install(pinned: string[], options: { keysPath?: string; installed?: boolean } = {}): Promise<RunResult> {
  const work = mkdtempSync(path.join(dir, 'run-'));
  const stubs = path.join(work, 'stubs');
  const tmp = path.join(work, 'tmp');
  const aptLog = path.join(work, 'apt-get.log');
  mkdirSync(stubs);
  mkdirSync(tmp);
  writeFileSync(path.join(stubs, 'apt-get'), `#!/bin/sh\necho "$*" >> '${aptLog}'\n`, { mode: 0o755 });
  writeFileSync(path.join(stubs, 'dpkg-query'), options.installed ? `#!/bin/sh\nprintf '%s' '${SCRIPT_STATUS_INSTALLED}'\n` : '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const { script, env } = installerIn(work, pinned, `${baseUrl}${options.keysPath ?? '/KEYS'}`);
  return new Promise((resolve) => {
    const child = spawn('bash', [script, env], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
      env: { PATH: `${stubs}:/usr/sbin:/usr/bin:/sbin:/bin`, TMPDIR: tmp, HOME: work, LANG: 'C' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => {
      const keyring = path.join(work, 'keyrings', 'cassandra.gpg');
      const source = path.join(work, 'cassandra.list');
      resolve({
        status,
        stderr,
        keyring: existsSync(keyring) ? readFileSync(keyring) : undefined,
        source: existsSync(source) ? readFileSync(source, 'utf8') : undefined,
        aptCalls: existsSync(aptLog) ? readFileSync(aptLog, 'utf8').trim().split('\n') : [],
        leftovers: readdirSync(tmp),
      });
    });
  });
}

/** The primary keys in a keyring file, read by gpg in a home of its own. */
function keysInKeyring(keyring: Buffer): string[] {
  const home = mkdtempSync(path.join(dir, 'show-'));
  try {
    const file = path.join(home, 'keyring.gpg');
    writeFileSync(file, keyring);
    return fingerprintsIn(run('gpg', ['--batch', '--no-autostart', '--with-colons', '--show-keys', file], { ...process.env, GNUPGHOME: home })).primary;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'afcassandra-'));
  keyA = makeKey('Release Manager A');
  keyB = makeKey('Release Manager B');
  server = createServer((req, res) => {
    if (req.url === '/KEYS') keysRequests++;
    if (req.url === '/KEYS' && keysFile !== undefined) res.writeHead(200, { 'content-type': 'text/plain' }).end(keysFile);
    else res.writeHead(404).end('not found\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  keysFile = keysFileOf(keyA, keyB);
  keysRequests = 0;
});

describe('tier 2: the Cassandra installer trusts the pinned signing keys only (real gpg and curl)', () => {
  it('made two distinct keys, each with a subkey', () => {
    expect(keyA.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(keyB.fingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(keyA.fingerprint).not.toBe(keyB.fingerprint);
    expect(keyA.subkeyFingerprint).toMatch(/^[0-9A-F]{40}$/);
  });

  it('pinned key in KEYS: the keyring holds exactly that key, the APT source names the keyring, apt installs', async () => {
    const r = await install([keyA.fingerprint]);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(keysInKeyring(r.keyring!)).toEqual([keyA.fingerprint]);
    expect(r.source).toMatch(/^deb \[signed-by=\/\S+\/keyrings\/cassandra\.gpg\] https:\/\/debian\.cassandra\.apache\.org 50x main\n$/);
    expect(r.aptCalls).toEqual(['update', 'install -y -o Dpkg::Options::=--force-confold openjdk-17-jre-headless cassandra']);
    expect(r.leftovers).toEqual([]);
  }, 90_000);

  it('both keys pinned (lower-case in the config): the keyring holds both', async () => {
    const r = await install([keyB.fingerprint.toLowerCase(), keyA.fingerprint]);
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(keysInKeyring(r.keyring!).sort()).toEqual([keyA.fingerprint, keyB.fingerprint].sort());
  }, 90_000);

  it('pinned key missing from KEYS: fails naming it, writes no keyring and no APT source, runs no apt-get', async () => {
    keysFile = keysFileOf(keyB);
    const r = await install([keyA.fingerprint, keyB.fingerprint]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`lack the pinned key(s) ${keyA.fingerprint}; no APT source written`);
    expect(r.stderr).not.toContain(`key(s) ${keyB.fingerprint}`);
    expect({ keyring: r.keyring, source: r.source, aptCalls: r.aptCalls, leftovers: r.leftovers }).toEqual({ keyring: undefined, source: undefined, aptCalls: [], leftovers: [] });
  }, 90_000);

  it("a subkey's fingerprint is not a pinned key: refused like a missing one", async () => {
    const r = await install([keyA.subkeyFingerprint]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`lack the pinned key(s) ${keyA.subkeyFingerprint}`);
    expect({ keyring: r.keyring, source: r.source, aptCalls: r.aptCalls }).toEqual({ keyring: undefined, source: undefined, aptCalls: [] });
  }, 90_000);

  it('KEYS not downloadable: fails, writes nothing', async () => {
    const r = await install([keyA.fingerprint], { keysPath: '/no-such-KEYS' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`could not download the signing keys from ${baseUrl}/no-such-KEYS; no APT source written`);
    expect({ keyring: r.keyring, source: r.source, aptCalls: r.aptCalls, leftovers: r.leftovers }).toEqual({ keyring: undefined, source: undefined, aptCalls: [], leftovers: [] });
  }, 90_000);

  it('Cassandra already installed: does nothing, not even the download', async () => {
    const r = await install([keyA.fingerprint], { installed: true });
    expect(r.status).toBe(0);
    expect({ keysRequests, keyring: r.keyring, source: r.source, aptCalls: r.aptCalls }).toEqual({ keysRequests: 0, keyring: undefined, source: undefined, aptCalls: [] });
  }, 90_000);
});

// The README's test command sets itself up: one list of Debian packages,
// installed (or named, with the command that installs them) before any tier
// that needs them runs, and no other install step anywhere.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const ENSURE = path.join(ROOT, 'scripts', 'ensure-debian-packages.js');
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const scripts: Record<string, string> = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;

describe('scripts/ensure-debian-packages.js', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    // A copy in a directory anyone may enter: the checkout may sit below one only root may
    // (a mktemp -d, /root), where the unprivileged user could not load the script itself.
    dir = mkdtempSync(path.join(tmpdir(), 'afensure-'));
    chmodSync(dir, 0o755);
    script = path.join(dir, 'ensure-debian-packages.js');
    copyFileSync(ENSURE, script);
    chmodSync(script, 0o644);
  });

  /** Runs the script as an unprivileged user (as itself when that is what we are). */
  function ensureAsUser(args: string[], list: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [script, ...args], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ENSURE_PACKAGES_LIST: list },
      ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function list(body: string): string {
    const file = path.join(dir, `list-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, body, { mode: 0o644 });
    return file;
  }

  it('without root, stops at once with one line naming the missing packages and the command that installs them', () => {
    const r = ensureAsUser(['test'], list('coreutils test  # present everywhere\naf-no-such-package-1 test\naf-no-such-package-2 test e2e\naf-e2e-only e2e\n'));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'ensure-debian-packages: missing Debian packages for the test tier: af-no-such-package-1 af-no-such-package-2; install them with: sudo apt-get install -y --no-install-recommends af-no-such-package-1 af-no-such-package-2',
    ]);
  });

  it('says nothing and succeeds when every package of the group is there', () => {
    const r = ensureAsUser(['test'], list('coreutils test\nbash test\naf-e2e-only e2e\n'));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  it('refuses a tier that needs root, before looking at packages', () => {
    const r = ensureAsUser(['--needs-root', 'test'], list('af-no-such-package test\n'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ensure-debian-packages: the test tier runs real daemons in network namespaces and needs root: run it as root \(`npm run test:unit` runs the pure tiers as any user\)\n$/);
  });

  it('rejects a group the list does not have', () => {
    const r = ensureAsUser(['tset'], list('bash test\n'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown package group tset .* has test\)/);
  });
});

describe('one list, one way of installing', () => {
  it('every command that runs real tools ensures its packages first', () => {
    for (const [name, group] of [['test', 'test'], ['bench:failover', 'test'], ['e2e', 'e2e'], ['e2e:image', 'e2e']]) {
      expect(scripts[name]).toMatch(new RegExp(`^node scripts/ensure-debian-packages\\.js --needs-root ${group} && `));
    }
  });

  it('CI installs nothing that the README commands do not', () => {
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).not.toMatch(/apt-get|dpkg|apt install/);
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('the pure tier needs no Debian package and no root', () => {
    expect(scripts['test:unit']).not.toMatch(/ensure-debian-packages/);
  });
});

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { readAsset } from '../cloud-init/assets';
import { DATABASE_ENV } from '../cloud-init/database';
import { vrrpStateFile } from '../cloud-init/keepalived';
import { DATABASE_BOOTSTRAP_ASSET, DATABASE_NOTIFY_ASSET, DEMO_SERVICE_ASSET, NOTIFY_ASSET, NOTIFY_SCRIPT } from '../cloud-init/node-paths';
import { RUN_DIR } from '../cloud-init/rendered-file';
import { WATCHDOG_ASSET } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The scripts nodes run are files in cloud-init/assets/, the same on every
 * node; what they share with the renderers (paths, names) is written in
 * both places, so it is checked here.
 */
const ASSET_DIR = path.resolve(__dirname, '../cloud-init/assets');

describe('the script assets', () => {
  const names = readdirSync(ASSET_DIR).sort();

  it('are the scripts the renderers ship, each naming itself under its #! line', () => {
    expect(names).toEqual(['database-bootstrap', 'database-notify', 'demo-app-server.py', 'fabric-apply-bundle', 'fabric-watchdog', 'keepalived-notify']);
    for (const name of names) {
      const [shebang, second] = readAsset(name).split('\n');
      expect(shebang).toMatch(/^#!\/(bin\/bash|usr\/bin\/python3)$/);
      expect(second).toMatch(new RegExp(`^# ${name.replace('.', '\\.')}: `));
    }
    expect([DATABASE_BOOTSTRAP_ASSET, DATABASE_NOTIFY_ASSET, DEMO_SERVICE_ASSET, NOTIFY_ASSET, WATCHDOG_ASSET].every((n) => names.includes(n))).toBe(true);
  });

  // Fast-tier syntax checks on the files themselves (shellcheck, a Debian package, runs in the real-tools tier).
  it('parse: bash -n for the shell scripts, the Python compiler for the Python one', () => {
    const complaints = names.flatMap((name) => {
      const file = path.join(ASSET_DIR, name);
      const python = readAsset(name).startsWith('#!/usr/bin/python3');
      const r = python
        ? spawnSync('python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', file], { encoding: 'utf8' })
        : spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      return r.status === 0 ? [] : [`${name}: ${r.error?.message ?? r.stderr.trim()}`];
    });
    expect(complaints).toEqual([]);
  });

  it("the VRRP hooks agree with the renderers on the state files, the settings file and the database VIP's instance", () => {
    const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' } }), TEST_PLATFORM, 'stack/Fabric');
    const notify = readAsset(NOTIFY_ASSET);
    expect(notify).toContain(`\nmkdir -p ${RUN_DIR}\n`);
    expect(notify).toContain(`\nfile="${vrrpStateFile('${name}')}"\n`);
    const database = readAsset(DATABASE_NOTIFY_ASSET);
    expect(database).toContain(`\n. ${DATABASE_ENV}\n`);
    expect(database).toContain(`\nFABRIC_NOTIFY_PID=$$ ${NOTIFY_SCRIPT} "$@"\n`);
    expect(database).toContain(`\ninstance="\${2:-${model.database!.vrrp.name}}"\n`);
    expect(database).toContain(`current_state() { cut -d' ' -f2 "${vrrpStateFile('${instance}')}" 2> /dev/null; }`);
    expect(readAsset(DATABASE_BOOTSTRAP_ASSET)).toContain(`\n. ${DATABASE_ENV}\n`);
    // Every runtime file the hooks name is in the runtime directory the tmpfiles rule makes root's alone.
    for (const text of [notify, database]) for (const p of text.match(/\/run\/[\w./${}-]+/g) ?? []) expect(p.startsWith(`${RUN_DIR}/`) || p === RUN_DIR).toBe(true);
  });
});

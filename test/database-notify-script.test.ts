import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATABASE_ENV, renderDatabaseEnv, renderDatabaseNotify } from '../cloud-init/database';
import { NOTIFY_SCRIPT } from '../cloud-init/node-paths';
import { RUN_DIR } from '../cloud-init/rendered-file';
import { buildFabricModel } from '../model/build-model';
import { TEST_NODE_DATABASE_SECRETS, TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The rendered database VIP hook's promotion, run by the real bash with
 * stand-ins for the MariaDB client (each call recorded in order, with its
 * statements) and for ping (the witness check). What the namespace tier cannot
 * time reliably is checked here by order: what was received is read only after
 * receiving stopped, and an isolated node never opens for writes.
 */
describe('the database VIP hook promoting this node', () => {
  const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' } }), TEST_PLATFORM, 'stack/Fabric');
  const db = model.database!;
  const node = model.nodes.find((n) => n.name === db.members[0])!;
  let dir: string;
  let run: string;
  let hook: string;

  const stub = (name: string, body: string) => {
    writeFileSync(path.join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
    chmodSync(path.join(dir, 'bin', name), 0o755);
  };
  const stateFile = () => path.join(run, `vrrp-${db.vrrp.name}.state`);

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afdbnotify-'));
    run = path.join(dir, 'run');
    mkdirSync(path.join(dir, 'bin'));
    mkdirSync(run);
    // Each client call: one record of its argv and stdin. SHOW SLAVE STATUS (as -e) answers
    // with the position received from the old primary.
    stub('mariadb', `{ printf -- '--- call %s\\n' "$*"; [[ "$*" == *-e* ]] || cat; } >> '${dir}/calls.log'\n[[ "$*" == *'SHOW SLAVE STATUS'* ]] && printf '   Gtid_IO_Pos: 0-2-7\\n'\nexit 0`);
    stub('logger', `printf '%s\\n' "$*" >> '${dir}/logger.log'`);
    stub('ping', 'exit 0');
    // The common hook records the state; here the test writes it, as that hook would have.
    stub('keepalived-notify', 'exit 0');
    writeFileSync(stateFile(), `1 MASTER 100\n`);
    writeFileSync(path.join(dir, 'database.env'), renderDatabaseEnv(model, node, db, TEST_NODE_DATABASE_SECRETS).split(RUN_DIR).join(run));
    hook = path.join(dir, 'database-notify');
    writeFileSync(
      hook,
      renderDatabaseNotify(model, node).split(DATABASE_ENV).join(path.join(dir, 'database.env')).split(NOTIFY_SCRIPT).join(path.join(dir, 'bin', 'keepalived-notify')).split(RUN_DIR).join(run),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the hook as keepalived does; its background promotion holds stdout, so this returns when that is done. */
  const notify = (state: string) => {
    const r = spawnSync('bash', [hook, 'INSTANCE', db.vrrp.name, state, '100'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}` },
      timeout: 20_000,
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  };
  /** The client calls in order, each as its argv's -e statement or its stdin. */
  const calls = () =>
    readFileSync(path.join(dir, 'calls.log'), 'utf8')
      .split('--- call ')
      .filter(Boolean)
      .map((c) => {
        const [argv, ...stdin] = c.split('\n');
        return (argv.includes('-e') ? argv.slice(argv.indexOf('-e') + 3) : stdin.join('\n')).trim();
      });
  const log = () => readFileSync(path.join(dir, 'logger.log'), 'utf8');

  it('stops receiving, then reads what it received, applies it and opens for writes', () => {
    notify('MASTER');
    expect(calls()).toEqual([
      'STOP SLAVE IO_THREAD',
      'SHOW SLAVE STATUS\\G',
      "SELECT MASTER_GTID_WAIT('0-2-7', 10)",
      'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF',
    ]);
    expect(readFileSync(path.join(run, 'database-ineligible'), 'utf8')).toBe('0\n');
    expect(log()).toContain(`promoted to primary: writable, holding the database VIP ${db.vrrp.vip}`);
  });

  it('stays read-only while no witness answers, and gives up once this node is no longer MASTER', () => {
    // No witness answers; by the first answer keepalived has moved this node to BACKUP.
    stub('ping', `printf '1 BACKUP 100\\n' > '${stateFile()}'\nexit 1`);
    notify('MASTER');
    expect(calls()).toEqual(['SET GLOBAL read_only = ON']);
    expect(log()).toMatch(/not promoting yet: no witness .* answers/);
    expect(log()).toContain('promotion abandoned after 1 checks');
  });
});

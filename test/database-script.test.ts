import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DATABASE_ENV, renderDatabaseAccounts, renderDatabaseEnv } from '../cloud-init/database';
import { DATABASE_HOOK_LOCK } from '../cloud-init/node-paths';
import { buildFabricModel } from '../model/build-model';
import { TEST_NODE_DATABASE_PASSWORDS, TEST_NODE_DATABASE_SECRETS, TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The rendered database bootstrap run by the real bash, with stand-ins for
 * the MariaDB client that record what each call got on its command line and
 * on stdin: the passwords must reach the server, and never through argv
 * (which every user on the node sees in ps).
 */
describe('the database bootstrap script', () => {
  const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' } }), TEST_PLATFORM, 'stack/Fabric');
  const db = model.database!;
  const node = model.nodes.find((n) => n.name === db.members[0])!;
  const peer = model.nodes.find((n) => n.name === db.members[1])!;
  const passwords = TEST_NODE_DATABASE_PASSWORDS;
  const secrets = TEST_NODE_DATABASE_SECRETS;
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afdb-'));
    mkdirSync(path.join(dir, 'bin'));
    // mariadb: each call appends its argv (one line) and its stdin (between markers).
    const stub = (name: string, body: string) => {
      writeFileSync(path.join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
      chmodSync(path.join(dir, 'bin', name), 0o755);
    };
    // The server has a network-wide account of an earlier version and the peer's replication account.
    stub(
      'mariadb',
      `printf '%s\\n' "$*" >> '${dir}/argv.log'\nin=$(cat)\nprintf -- '--- stdin\\n%s\\n' "$in" >> '${dir}/stdin.log'\n` +
        `case $in in *'@@global.have_ssl'*) cat '${dir}/have_ssl' ;; *mysql.global_priv*) cat '${dir}/rotating' ;; 'SHOW SLAVE STATUS') cat '${dir}/replica' ;; *"User = '${db.replicationUser}'"*) printf '%s\\n' 198.51.100.0/255.255.255.0 ${peer.managementAddress} ;; *"User = '${db.applicationUser}'"*) printf '%s\\n' 198.51.100.0/255.255.255.0 ;; esac\nexit 0`,
    );
    stub('mariadb-admin', `printf '%s\\n' "$*" >> '${dir}/argv.log'\nexit 0`);
    stub('logger', `printf '%s\\n' "$*" >> '${dir}/logger.log'\nexit 0`);
    writeFileSync(path.join(dir, 'have_ssl'), 'YES\n');
    // Not rotating (the replication account's current password is database.env's), and a primary (no replica status).
    writeFileSync(path.join(dir, 'rotating'), '0\n');
    writeFileSync(path.join(dir, 'replica'), '');
    // Its lock, on the node under /run, is the test's own.
    writeFileSync(path.join(dir, 'database.env'), renderDatabaseEnv(model, node, db, secrets).split(DATABASE_HOOK_LOCK).join(path.join(dir, 'hook.lock')));
    // The script sources its settings from a fixed path on the node; here from the test's copy.
    writeFileSync(path.join(dir, 'bootstrap'), renderDatabaseAccounts(model, node).split(DATABASE_ENV).join(path.join(dir, 'database.env')));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates each account for exactly the listed hosts and drops the others (a netmask account of an earlier version)', () => {
    const r = spawnSync('bash', [path.join(dir, 'bootstrap')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 20000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const statements = readFileSync(path.join(dir, 'stdin.log'), 'utf8').split('--- stdin').pop()!;
    const creates = [...statements.matchAll(/^CREATE USER IF NOT EXISTS '(\w+)'@'([^']+)'/gm)].map((m) => `${m[1]}@${m[2]}`);
    const servers = model.applicationServers.members.map((n) => model.nodes.find((x) => x.name === n)!.managementAddress);
    // threeNodeSpec: the database nodes are application servers too, which reach the VIP they hold from the VIP.
    expect(creates).toEqual([`${db.replicationUser}@${peer.managementAddress}`, ...[...servers, db.vrrp.vip].map((h) => `${db.applicationUser}@${h}`)]);
    // Every account needs TLS, also one an earlier version created without (ALTER USER).
    const accountStatements = statements.match(/^(CREATE|ALTER) USER .*$/gm)!;
    expect(accountStatements).toHaveLength(creates.length * 2);
    for (const statement of accountStatements) expect(statement).toMatch(/ REQUIRE SSL;$/);
    expect(statements.match(/^DROP USER .*$/gm)).toEqual([`DROP USER '${db.replicationUser}'@'198.51.100.0/255.255.255.0';`, `DROP USER '${db.applicationUser}'@'198.51.100.0/255.255.255.0';`]);
    expect(statements.trimStart().startsWith('SET SESSION sql_log_bin = 0;')).toBe(true);
    expect(readFileSync(path.join(dir, 'logger.log'), 'utf8')).toContain('2 account(s) for other hosts dropped');
  });

  it('creates both accounts with their passwords given on stdin, never on a command line', () => {
    const r = spawnSync('bash', [path.join(dir, 'bootstrap')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 20000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const argv = readFileSync(path.join(dir, 'argv.log'), 'utf8');
    const stdin = readFileSync(path.join(dir, 'stdin.log'), 'utf8');
    expect(argv).toMatch(/^--protocol=socket --skip-ssl --batch --skip-column-names$/m);
    expect(stdin).toContain(`CREATE USER IF NOT EXISTS '${db.replicationUser}'@`);
    // Each account accepts three generations, the current one first: its clients log in at the first try.
    const identified = (current: string, next: string, previous: string) =>
      `IDENTIFIED VIA mysql_native_password USING PASSWORD('${current}') OR mysql_native_password USING PASSWORD('${next}') OR mysql_native_password USING PASSWORD('${previous}') REQUIRE SSL;`;
    expect(stdin).toContain(identified(secrets.replicationPassword, secrets.replicationPasswordNext, secrets.replicationPasswordPrevious));
    expect(stdin).toContain(identified(secrets.applicationPassword, secrets.applicationPasswordNext, secrets.applicationPasswordPrevious));
    expect(stdin).not.toContain('IDENTIFIED BY');
    for (const password of Object.values(passwords)) expect(argv).not.toContain(password);
    expect(readFileSync(path.join(dir, 'logger.log'), 'utf8')).toContain(`database '${db.databaseName}' in place`);
  });

  it('leaves the accounts of a server without TLS (a node that predates it) without REQUIRE SSL, and says so', () => {
    writeFileSync(path.join(dir, 'have_ssl'), 'DISABLED\n');
    const r = spawnSync('bash', [path.join(dir, 'bootstrap')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 20000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const statements = readFileSync(path.join(dir, 'stdin.log'), 'utf8').split('--- stdin').pop()!;
    const accountStatements = statements.match(/^(CREATE|ALTER) USER .*$/gm)!;
    expect(accountStatements.length).toBeGreaterThan(0);
    for (const statement of accountStatements) expect(statement).toMatch(/USING PASSWORD\('\w+'\);$/);
    expect(readFileSync(path.join(dir, 'logger.log'), 'utf8')).toContain('this server has no TLS');
  });

  const run = () => spawnSync('bash', [path.join(dir, 'bootstrap')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 20000 });
  const changeMaster = `STOP SLAVE; CHANGE MASTER TO MASTER_PASSWORD = '${passwords.replicationPassword}'; START SLAVE;`;

  it("gives a standby's replication the current password when this run rotates it, on stdin", () => {
    writeFileSync(path.join(dir, 'rotating'), '1\n');
    writeFileSync(path.join(dir, 'replica'), `Waiting for master to send event\t${peer.managementAddress}\n`);
    const r = run();
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const stdin = readFileSync(path.join(dir, 'stdin.log'), 'utf8');
    expect(stdin.split('--- stdin').pop()!.trim()).toBe(changeMaster);
    expect(readFileSync(path.join(dir, 'argv.log'), 'utf8')).not.toContain(passwords.replicationPassword);
    expect(readFileSync(path.join(dir, 'logger.log'), 'utf8')).toContain('uses the current password now');
  });

  it("leaves replication alone when the password did not change, and on a primary (no replica)", () => {
    writeFileSync(path.join(dir, 'replica'), `Waiting for master to send event\t${peer.managementAddress}\n`);
    expect(run().status).toBe(0);
    writeFileSync(path.join(dir, 'rotating'), '1\n');
    writeFileSync(path.join(dir, 'replica'), '');
    expect(run().status).toBe(0);
    expect(readFileSync(path.join(dir, 'stdin.log'), 'utf8')).not.toContain('CHANGE MASTER');
  });
});

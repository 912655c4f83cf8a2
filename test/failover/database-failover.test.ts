import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DATABASE_ACCOUNTS_SCRIPT } from '../../cloud-init/node-paths';
import { databaseAccountHosts } from '../../cloud-init/database';
import { nodeByName } from '../../model/fabric-model';
import { FabricSpec } from '../../model/fabric-spec';
import { RunningDatabase } from '../harness/database';
import { nowMs, pollUntil } from '../harness/exec';
import { databaseTlsSecrets, namespaceFabricSpec, renderFabric, RenderedFabric, rotatedDatabasePasswords } from '../harness/render';
import { runningFabric } from './fabric-fixture';

const FABRIC_OPTIONS = { database: true };

// Tier 3: the database cluster (MariaDB, its keepalived instance and hooks, the watchdog) running in network namespaces.
describe('a running fabric with the database cluster: replication, promotion, rejoin', () => {
  const fabric = runningFabric(FABRIC_OPTIONS);
  let db: RunningDatabase;
  let primary = '';
  let standby = '';
  const marker = `m${process.pid}`;

  beforeAll(() => {
    db = new RunningDatabase(fabric.harness(), fabric.rendered());
  });

  it('starts with one writable primary holding the database VIP and a read-only standby replicating from it', async () => {
    const settled = await db.waitSettled(60_000);
    expect({ settled, holders: db.holders(), states: db.model.members.map((m) => `${m}=${db.state(m)}`) }).toEqual(expect.objectContaining({ settled: expect.anything() }));
    ({ primary, standby } = settled!);
    expect(db.model.members).toContain(primary);

    // An application server's write through the database VIP lands on the primary and reaches the standby.
    const write = db.clientQuery(`CREATE TABLE IF NOT EXISTS failover (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64), written_on VARCHAR(64)); INSERT INTO failover (marker, written_on) VALUES ('${marker}-before', @@hostname); SELECT @@hostname`);
    expect(write.error).toBe('');
    expect(write.rows).toBe(primary);
    const replicated = await pollUntil(async () => ((await db.nodeQuery(standby, `SELECT COUNT(*) FROM ${db.model.databaseName}.failover WHERE marker = '${marker}-before'`)).rows === '1' ? true : undefined), 10_000, 200);
    expect(replicated).toBe(true);

    // The standby refuses the application's writes (read_only) even when reached directly.
    const direct = await db.nodeQuery(standby, `SELECT @@global.read_only`);
    expect(direct.rows).toBe('1');
  }, 90_000);

  it('speaks TLS only: the client verifies the server against the fabric CA, a plain or wrongly trusting client fails, the standby replicates over verified TLS', async () => {
    expect(primary).not.toBe('');
    const session = db.clientQuery("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
    expect(session.error).toBe('');
    const status = Object.fromEntries(session.rows.split('\n').map((l) => l.split('\t')));
    expect(status.Ssl_version).toMatch(/^TLSv1\.[23]$/);
    // TLS 1.3 suites are all AEAD; a TLS 1.2 one must be ECDHE with GCM or ChaCha20-Poly1305.
    expect(status.Ssl_cipher).toMatch(/^(TLS_AES_(128|256)_GCM_SHA(256|384)|TLS_CHACHA20_POLY1305_SHA256|ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305))$/);

    // Refused by the account's REQUIRE SSL, which MariaDB reports as a failed login.
    const plain = db.clientQuery('SELECT 1', 1, false);
    expect(plain.ok).toBe(false);
    expect(plain.error).toMatch(/insecure transport|Access denied for user/i);

    const elsewhere = databaseTlsSecrets([db.vip]);
    const otherCa = path.join(fabric.harness().dir, 'other-database-ca.pem');
    writeFileSync(otherCa, Buffer.from(elsewhere.databaseCaCertificatePemBase64, 'base64'));
    const mistrusting = db.clientQuery('SELECT 1', 1, { caFile: otherCa });
    expect(mistrusting.ok).toBe(false);
    expect(mistrusting.error).toMatch(/certificate|SSL|TLS/i);

    const replica = await db.replicaStatus(standby);
    expect({ io: replica.Slave_IO_Running, sql: replica.Slave_SQL_Running, ssl: replica.Master_SSL_Allowed, verify: replica.Master_SSL_Verify_Server_Cert })
      .toEqual({ io: 'Yes', sql: 'Yes', ssl: 'Yes', verify: 'Yes' });

    // Every account of the two users demands TLS, on both servers, and each server refuses any TCP login without it.
    for (const node of db.model.members) {
      expect((await db.nodeQuery(node, 'SELECT @@global.require_secure_transport, @@global.have_ssl')).rows).toBe('1\tYES');
      const types = (await db.nodeQuery(node, `SELECT DISTINCT ssl_type FROM mysql.user WHERE User IN ('${db.model.replicationUser}', '${db.model.applicationUser}')`)).rows;
      expect(types).toBe('ANY');
    }
  });

  /** The database accounts on `node`'s own server, as user@host, sorted. */
  const accountsOn = async (node: string) =>
    (await db.nodeQuery(node, `SELECT CONCAT(User, '@', Host) FROM mysql.user WHERE User IN ('${db.model.replicationUser}', '${db.model.applicationUser}')`)).rows.split('\n').filter(Boolean).sort();
  /** What database.env of `node` lists, in the same form. */
  const accountsListed = (rendered: RenderedFabric, node: string) => {
    const hosts = databaseAccountHosts(rendered.model, nodeByName(rendered.model, node), rendered.model.database!);
    return [...hosts.replication.map((h) => `${db.model.replicationUser}@${h}`), ...hosts.application.map((h) => `${db.model.applicationUser}@${h}`)].sort();
  };

  it('has each account for exactly the hosts its database.env lists on both nodes (the peer; the application servers and client networks), never a network', async () => {
    for (const node of db.model.members) {
      const accounts = await accountsOn(node);
      expect(accounts).toEqual(accountsListed(fabric.rendered(), node));
      expect(accounts.join(' ')).not.toContain('255.255.255.0');
    }
  });

  it('makes the accounts follow a bundle that changes database.env (a client network added, then removed), on the primary and the standby', async () => {
    const h = fabric.harness();
    const base = fabric.rendered();
    const extra = '203.0.113.64/26';
    const started = namespaceFabricSpec(FABRIC_OPTIONS);
    const spec: FabricSpec = { ...started, firewall: { ...started.firewall, databaseClientCidrs: [...(started.firewall?.databaseClientCidrs ?? []), extra] } };
    const widened = renderFabric(spec, base.secrets);
    for (const [step, rendered] of [['added', widened], ['removed', base]] as const) {
      for (const node of [standby, primary]) {
        const r = await h.applyBundle(node, rendered.bundles[node]);
        expect({ step, node, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ step, node, code: 0, stderr: '' });
        expect(await accountsOn(node)).toEqual(accountsListed(rendered, node));
      }
    }
    expect(accountsListed(widened, primary)).toContain(`${db.model.applicationUser}@203.0.113.64/255.255.255.192`);
    // The application still writes through the VIP after both changes.
    expect(db.clientQuery(`INSERT INTO failover (marker, written_on) VALUES ('${marker}-accounts', @@hostname); SELECT @@hostname`).rows).toBe(primary);
  }, 120_000);

  it('rotates both passwords with a bundle (passwordGeneration raised), in either node order, without stopping the application or replication', async () => {
    const h = fabric.harness();
    const spec = namespaceFabricSpec(FABRIC_OPTIONS);
    const generation0 = fabric.rendered().secrets;
    const generation1 = rotatedDatabasePasswords(generation0);
    const generation2 = rotatedDatabasePasswords(generation1);
    const stranger = 'NotAFabricPassword0';
    const logins = () => ({
      g0: db.loginWith(generation0.databaseApplicationPassword!).ok,
      g1: db.loginWith(generation1.databaseApplicationPassword!).ok,
      g2: db.loginWith(generation2.databaseApplicationPassword!).ok,
      g3: db.loginWith(generation2.databaseApplicationPasswordNext!).ok,
      stranger: db.loginWith(stranger).ok,
    });
    // Generation 0 accepts its previous, current and next password, which is generation 1's current one.
    expect(logins()).toEqual({ g0: true, g1: true, g2: false, g3: false, stranger: false });
    // The primary first, then the standby; the next rotation the other way round.
    for (const [generation, secrets, order, accepted] of [
      [1, generation1, [primary, standby], { g0: true, g1: true, g2: true, g3: false, stranger: false }],
      [2, generation2, [standby, primary], { g0: false, g1: true, g2: true, g3: true, stranger: false }],
    ] as const) {
      const rendered = renderFabric(spec, secrets);
      for (const node of order) {
        const r = await h.applyBundle(node, rendered.bundles[node]);
        expect({ node, code: r.code, stderr: r.code === 0 ? '' : r.stderr }).toEqual({ node, code: 0, stderr: '' });
        // Between the two nodes' changes the application's current and new password both work.
        expect({ node, current: db.loginWith(secrets.databaseApplicationPasswordPrevious!).ok, next: db.loginWith(secrets.databaseApplicationPassword!).ok }).toEqual({ node, current: true, next: true });
      }
      expect(logins()).toEqual(accepted);
      db.useApplicationPassword(secrets.databaseApplicationPassword!);
      // The standby reconnects with the password it now has: generation 0's is refused after the second rotation.
      await db.nodeQuery(standby, 'STOP SLAVE; START SLAVE');
      // A marker per rotation: the standby must show this rotation's row, not the one before.
      const write = db.clientQuery(`INSERT INTO failover (marker, written_on) VALUES ('${marker}-rotated-${generation}', @@hostname); SELECT @@hostname`);
      expect(write.rows).toBe(primary);
      const seen = await pollUntil(async () => {
        const rows = (await db.nodeQuery(standby, `SELECT COUNT(*) FROM ${db.model.databaseName}.failover WHERE marker = '${marker}-rotated-${generation}'`)).rows;
        return (await db.replicating(standby)) && rows === '1' ? rows : undefined;
      }, 15_000, 250);
      expect({ seen: seen !== undefined, replica: await db.replicaStatus(standby).then((s) => s.Last_IO_Error ?? '') }).toEqual({ seen: true, replica: '' });
    }
    expect(db.hookLog(standby).some((l) => l.includes('uses the current password now'))).toBe(true);
  }, 180_000);

  it('moves the database VIP to the promoted standby when the primary database stops, and takes writes there', async () => {
    const h = fabric.harness();
    expect(primary).not.toBe('');
    // The standby has all the primary wrote: this is the planned stop of a primary whose standby
    // is in step (asynchronous replication loses what was not shipped; the STALE test covers that).
    const written = (await db.nodeQuery(primary, 'SELECT @@global.gtid_binlog_pos')).rows;
    expect({ written, caughtUp: (await db.nodeQuery(standby, `SELECT MASTER_GTID_WAIT('${written}', 10)`)).rows }).toEqual({ written, caughtUp: '0' });
    // A planned stop under an application's stream of writes: the unit's ExecStop= shuts the server
    // down only after the standby was sent everything it committed.
    const stream = db.writeStream(`${marker}-stream`, 3000, 5);
    let stoppedAt = 0;
    let acknowledged: number[] = [];
    try {
      expect(await pollUntil(() => (stream.acknowledged().length >= 50 ? true : undefined), 20_000, 50)).toBe(true);
      stoppedAt = nowMs();
      const stop = await h.systemctl(primary, 'stop', 'mariadb.service');
      expect(stop.code).toBe(0);
    } finally {
      acknowledged = await stream.stop();
    }

    // Bounded: a write through the VIP every 200 ms (1 s connect timeout) for at most 45 s.
    let attempts = 0;
    const landed = await pollUntil(() => {
      attempts += 1;
      const r = db.clientQuery(`INSERT INTO failover (marker, written_on) VALUES ('${marker}-after', @@hostname); SELECT @@hostname`);
      return r.ok ? { node: r.rows, t: nowMs() } : undefined;
    }, 45_000, 200);
    expect(landed?.node).toBe(standby);
    const seconds = (landed!.t - stoppedAt) / 1000;
    console.log(`database primary ${primary} stopped: write through ${db.vip} accepted by ${standby} after ${seconds.toFixed(2)} s (${attempts} attempts)`);
    expect(db.holders()).toEqual([standby]);
    expect(db.state(standby)).toBe('MASTER');
    expect(db.hookLog(standby).some((l) => l.includes('promoted to primary'))).toBe(true);
    // Every write the old primary acknowledged is on the new one.
    const events = await h.events(primary);
    const last = acknowledged[acknowledged.length - 1];
    const kept = (await db.nodeQuery(standby, `SELECT COUNT(DISTINCT marker) FROM ${db.model.databaseName}.failover WHERE marker REGEXP '^${marker}-stream-[0-9]+$' AND CAST(SUBSTRING_INDEX(marker, '-', -1) AS UNSIGNED) <= ${last}`)).rows;
    console.log(`planned stop of ${primary} under a write stream: ${acknowledged.length} writes acknowledged (1..${last}), ${kept} of them on ${standby}`);
    expect({ acknowledged: acknowledged.length === last, kept, stopExec: events.filter((e) => e.kind === 'stop-exec').map((e) => e.detail) }).toEqual({
      acknowledged: true,
      kept: String(last),
      stopExec: [expect.stringMatching(/mariadb-admin .*--wait-for-all-slaves shutdown -> 0$/)],
    });
  }, 90_000);

  it('lets the watchdog bring the old primary back as a standby that replicates and leaves the VIP where it is', async () => {
    const h = fabric.harness();
    // The watchdog restarts the stopped server; the old primary must come back read-only, as BACKUP, replicating.
    const back = await pollUntil(async () => {
      if (db.state(primary) !== 'BACKUP' || !(await db.replicating(primary))) return undefined;
      return (await db.nodeQuery(primary, `SELECT COUNT(*) FROM ${db.model.databaseName}.failover WHERE marker = '${marker}-after'`)).rows === '1' ? true : undefined;
    }, 60_000, 500);
    const events = await h.events(primary);
    expect(events.some((e) => e.kind === 'systemctl' && /restart/.test(e.detail ?? '') && /mariadb/.test(e.detail ?? ''))).toBe(true);
    // On failure: both nodes' hook logs and GTID positions, to tell which transaction the old primary kept.
    const positions = async (node: string) => (await db.nodeQuery(node, 'SELECT @@global.gtid_binlog_pos, @@global.gtid_slave_pos, @@global.gtid_current_pos')).rows;
    expect({
      back,
      holders: db.holders(),
      state: db.state(primary),
      log: db.hookLog(primary).slice(-8),
      standbyLog: back ? [] : db.hookLog(standby).slice(-8),
      gtid: back ? {} : { [primary]: await positions(primary), [standby]: await positions(standby) },
    }).toEqual(expect.objectContaining({ back: true }));
    expect(db.holders()).toEqual([standby]);
    expect((await db.nodeQuery(primary, 'SELECT @@global.read_only')).rows).toBe('1');
    expect(db.ineligible(primary)).not.toBe('1');
  }, 90_000);

  it('keeps a returning node that holds transactions the primary never saw out of the election, and says why', async () => {
    // An errant write on the standby (as after a split brain): its GTID position is now ahead of the primary's.
    const errant = await db.nodeQuery(primary, `SET GLOBAL read_only = OFF; INSERT INTO ${db.model.databaseName}.failover (marker, written_on) VALUES ('${marker}-errant', @@hostname); SET GLOBAL read_only = ON`);
    expect(errant.error).toBe('');
    // It returns to the election as keepalived does after a restart: the BACKUP hook tries to rejoin.
    const h = fabric.harness();
    expect((await h.systemctl(primary, 'restart', 'keepalived.service')).code).toBe(0);
    const stale = await pollUntil(() => (db.ineligible(primary) === '1' ? true : undefined), 30_000, 250);
    expect({ stale, log: db.hookLog(primary).slice(-8), replica: await db.replicaStatus(primary) }).toEqual(expect.objectContaining({ stale: true }));
    expect(db.hookLog(primary).some((l) => l.includes('STALE: this node holds transactions'))).toBe(true);
    // What the operator needs to see which transactions: this node's position and the primary's refusal.
    expect(db.hookLog(primary).find((l) => l.includes("STALE: this node's binlog"))).toMatch(new RegExp(`binlog ends at GTID \\d+-\\d+-\\d+; ${standby} answered: Got fatal error 1236`));
    expect(db.holders()).toEqual([standby]);
  }, 60_000);

  it('re-seeds a replaced standby from the primary with no manual step, after the primary purged the binlogs that start its history, and it replicates', async () => {
    const h = fabric.harness();
    const replaced = primary;
    const table = `${db.model.databaseName}.failover`;
    // The stale node's VM goes: its services stop, and a new VM gets an empty data directory and a fresh /run.
    for (const unit of ['fabric-watchdog.service', 'keepalived.service', 'mariadb.service']) expect((await h.systemctl(replaced, 'stop', unit)).code).toBe(0);
    h.resetDatabaseDir(replaced);
    for (const file of h.listNodeDir(replaced, '/run/appliance-fabric').filter((f) => /^(database-|vrrp-)/.test(f))) rmSync(h.hostPath(replaced, `/run/appliance-fabric/${file}`), { force: true });
    // Meanwhile: history the new node must get, and the primary's binlogs before now purged (as expire_logs_days does).
    expect((await db.nodeQuery(standby, `INSERT INTO ${table} (marker, written_on) VALUES ('${marker}-seed', @@hostname)`)).error).toBe('');
    const current = (await db.nodeQuery(standby, 'FLUSH BINARY LOGS; SHOW MASTER STATUS')).rows.split('\t')[0];
    // MariaDB keeps a binlog until InnoDB's binlog checkpoint has passed it: bounded retries.
    const logsNow = async () => (await db.nodeQuery(standby, 'SHOW BINARY LOGS')).rows.split('\n').map((l) => l.split('\t')[0]);
    let purge = { error: '' };
    const purged = await pollUntil(async () => {
      purge = await db.nodeQuery(standby, `PURGE BINARY LOGS TO '${current}'`);
      return (await logsNow()).join() === current ? true : undefined;
    }, 10_000, 250);
    expect({ purged, logs: await logsNow(), error: purge.error }).toEqual({ purged: true, logs: [current], error: '' });
    expect((await h.systemctl(replaced, 'start', 'mariadb.service')).code).toBe(0);
    const bootstrap = await h.exec(replaced, [DATABASE_ACCOUNTS_SCRIPT], 90_000);
    expect({ code: bootstrap.code, err: bootstrap.stderr }).toEqual({ code: 0, err: '' });
    for (const unit of ['keepalived.service', 'fabric-watchdog.service']) expect((await h.systemctl(replaced, 'start', unit)).code).toBe(0);

    const count = async (node: string, m: string) => (await db.nodeQuery(node, `SELECT COUNT(*) FROM ${table} WHERE marker = '${marker}-${m}'`)).rows;
    const seeded = await pollUntil(async () => (db.state(replaced) === 'BACKUP' && (await db.replicating(replaced)) && (await count(replaced, 'seed')) === '1' ? true : undefined), 60_000, 500);
    expect({ seeded, log: db.hookLog(replaced).slice(-8), replica: await db.replicaStatus(replaced) }).toEqual(expect.objectContaining({ seeded: true }));
    expect(db.hookLog(replaced).some((l) => /seeded from .* at GTID \d/.test(l))).toBe(true);
    // The primary's history, not the stale node's errant write.
    expect([await count(replaced, 'before'), await count(replaced, 'after'), await count(replaced, 'errant')]).toEqual(['1', '1', '0']);
    expect(db.ineligible(replaced)).toBe('0');
    expect((await db.nodeQuery(replaced, 'SELECT @@global.read_only')).rows).toBe('1');
    // A write through the database VIP lands on the primary and reaches the new standby.
    const write = db.clientQuery(`INSERT INTO failover (marker, written_on) VALUES ('${marker}-replaced', @@hostname); SELECT @@hostname`);
    expect({ ok: write.ok, error: write.error, on: write.rows }).toEqual({ ok: true, error: '', on: standby });
    expect(await pollUntil(async () => ((await count(replaced, 'replaced')) === '1' ? true : undefined), 10_000, 200)).toBe(true);
    expect(db.holders()).toEqual([standby]);
    // The replication password's option file and the dump's position file are gone with the hook.
    expect(h.listNodeDir(replaced, '/run/appliance-fabric').filter((f) => /^database-(peer|seed)\./.test(f))).toEqual([]);
  }, 150_000);
});

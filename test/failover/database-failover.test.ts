import { RunningDatabase } from '../harness/database';
import { nowMs, pollUntil } from '../harness/exec';
import { runningFabric } from './fabric-fixture';

// Tier 3: the database cluster (MariaDB, its keepalived instance and hooks, the watchdog) running in network namespaces.
describe('a running fabric with the database cluster: replication, promotion, rejoin', () => {
  const fabric = runningFabric({ database: true });
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

  it('moves the database VIP to the promoted standby when the primary database stops, and takes writes there', async () => {
    const h = fabric.harness();
    expect(primary).not.toBe('');
    const stoppedAt = nowMs();
    const stop = await h.systemctl(primary, 'stop', 'mariadb.service');
    expect(stop.code).toBe(0);

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
    expect({ back, holders: db.holders(), state: db.state(primary), log: db.hookLog(primary).slice(-5) }).toEqual(expect.objectContaining({ back: true }));
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
    expect(db.hookLog(primary).some((l) => l.includes('STALE'))).toBe(true);
    expect(db.holders()).toEqual([standby]);
  }, 60_000);
});

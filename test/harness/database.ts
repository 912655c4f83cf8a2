import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseClusterModel } from '../../model/fabric-model';
import { pollUntil, run } from './exec';
import { FabricHarness, HarnessNode } from './fabric-harness';
import { RenderedFabric } from './render';
import { JOURNAL_FILE } from './supervisor';

export interface QueryResult {
  readonly ok: boolean;
  /** Tab-separated rows, without column names. */
  readonly rows: string;
  readonly error: string;
}

/**
 * The database cluster of a running namespace fabric, seen as an
 * application server sees it (through the database VIP, as the
 * application user) and as an operator on a node sees it (the local server
 * over its socket, as root).
 */
export class RunningDatabase {
  readonly model: DatabaseClusterModel;
  private readonly credentials: string;

  constructor(private readonly h: FabricHarness, rendered: RenderedFabric) {
    if (!rendered.model.database) throw new Error('this fabric has no database cluster');
    this.model = rendered.model.database;
    // The password goes to a file the client reads, never onto a command line or into a log. The
    // client verifies the server against the fabric's database CA, as an application server would.
    this.credentials = path.join(h.dir, 'database-client.cnf');
    this.caFile = path.join(h.dir, 'database-ca.pem');
    writeFileSync(this.caFile, Buffer.from(rendered.secrets.databaseCaCertificatePemBase64!, 'base64'));
    this.useApplicationPassword(rendered.secrets.databaseApplicationPassword!);
  }

  /** The password clientQuery logs in with from now on (after a rotation, the new current one). */
  useApplicationPassword(password: string): void {
    writeFileSync(this.credentials, `[client]\nuser=${this.model.applicationUser}\npassword=${password}\n`, { mode: 0o600 });
  }

  /** The fabric's database CA certificate, as the application servers have it. */
  readonly caFile: string;

  get vip(): string {
    return this.model.vrrp.vip;
  }

  /**
   * A query from the client namespace through the database VIP, as the application user, bounded
   * in time. The client verifies the server's certificate against `caFile` (the fabric's CA by
   * default); `tls: false` tries without TLS, as a misconfigured client would.
   */
  clientQuery(sql: string, connectTimeoutSeconds = 1, tls: { readonly caFile: string } | false = { caFile: this.caFile }): QueryResult {
    const tlsOptions = tls ? [`--ssl-ca=${tls.caFile}`, '--ssl-verify-server-cert'] : ['--skip-ssl'];
    const r = run('ip', [
      'netns', 'exec', this.h.clientNs,
      'mariadb', `--defaults-extra-file=${this.credentials}`, ...tlsOptions, `--host=${this.vip}`, `--port=${this.model.port}`,
      `--connect-timeout=${connectTimeoutSeconds}`, '--batch', '--skip-column-names', this.model.databaseName, '-e', sql,
    ], { timeoutMs: (connectTimeoutSeconds + 10) * 1000 });
    return { ok: r.status === 0, rows: r.stdout.trim(), error: r.stderr.trim() };
  }

  /**
   * Whether the application user logs in through the database VIP with
   * `password` (verified TLS, as an application server would). The password
   * goes through a 0600 option file, removed afterwards.
   */
  loginWith(password: string): QueryResult {
    const file = path.join(this.h.dir, `database-login-${process.pid}.cnf`);
    writeFileSync(file, `[client]\nuser=${this.model.applicationUser}\npassword=${password}\n`, { mode: 0o600 });
    try {
      const r = run('ip', [
        'netns', 'exec', this.h.clientNs,
        'mariadb', `--defaults-extra-file=${file}`, `--ssl-ca=${this.caFile}`, '--ssl-verify-server-cert', `--host=${this.vip}`, `--port=${this.model.port}`,
        '--connect-timeout=1', '--batch', '--skip-column-names', this.model.databaseName, '-e', 'SELECT CURRENT_USER()',
      ], { timeoutMs: 11_000 });
      return { ok: r.status === 0, rows: r.stdout.trim(), error: r.stderr.trim() };
    } finally {
      rmSync(file, { force: true });
    }
  }

  /**
   * An application's stream of writes through the database VIP on one connection: `INSERT` row
   * `<marker>-<i>` for i = 1..count, one every `intervalMs`, each followed by `SELECT i`, so that
   * what the client printed is what the server acknowledged. The stream ends at count, at the first
   * error (a lost connection) or at `stop()`, which returns the acknowledged i's.
   */
  writeStream(marker: string, count: number, intervalMs: number): { acknowledged(): number[]; stop(): Promise<number[]> } {
    const statements = `for i in $(seq 1 ${count}); do printf "INSERT INTO failover (marker, written_on) VALUES ('%s-%d', @@hostname); SELECT %d;\\n" '${marker}' "$i" "$i"; sleep ${intervalMs / 1000}; done`;
    const client = `mariadb --defaults-extra-file=${this.credentials} --ssl-ca=${this.caFile} --ssl-verify-server-cert --host=${this.vip} --port=${this.model.port} --connect-timeout=1 --batch --skip-column-names --unbuffered ${this.model.databaseName}`;
    const child = spawn('ip', ['netns', 'exec', this.h.clientNs, 'bash', '-c', `${statements} | ${client}`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const acknowledged = () => out.split('\n').filter((l) => /^\d+$/.test(l)).map(Number);
    // Bounded: the loop ends by itself after count x intervalMs; stop() ends it sooner.
    const killer = setTimeout(() => stop(), count * intervalMs + 30_000);
    killer.unref();
    const stop = async () => {
      clearTimeout(killer);
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      return acknowledged();
    };
    return { acknowledged, stop };
  }

  /** A query on one node's own server over its socket, as root. */
  async nodeQuery(node: HarnessNode | string, sql: string): Promise<QueryResult> {
    const r = await this.h.exec(node, ['mariadb', '--protocol=socket', '--connect-timeout=2', '--batch', '--skip-column-names', '-e', sql], 15_000);
    return { ok: r.code === 0, rows: r.stdout.trim(), error: r.stderr.trim() };
  }

  /** `SHOW SLAVE STATUS` of a node as field -> value (empty when it replicates from nobody or is down). */
  async replicaStatus(node: HarnessNode | string): Promise<Record<string, string>> {
    const r = await this.h.exec(node, ['mariadb', '--protocol=socket', '--connect-timeout=2', '-e', 'SHOW SLAVE STATUS\\G'], 15_000);
    const status: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*(\w+):\s?(.*)$/.exec(line);
      if (m) status[m[1]] = m[2];
    }
    return status;
  }

  async replicating(node: HarnessNode | string): Promise<boolean> {
    const s = await this.replicaStatus(node);
    return s.Slave_IO_Running === 'Yes' && s.Slave_SQL_Running === 'Yes';
  }

  holders(): string[] {
    return this.h.vipHolders(this.vip);
  }

  state(node: HarnessNode | string): string | undefined {
    return this.h.vrrpState(node, this.model.vrrp.name)?.state;
  }

  /** Eligibility as the hooks left it: '1' = out of the election, '0' or '' = eligible. */
  ineligible(node: HarnessNode | string): string {
    return this.h.readNodeFile(node, '/run/appliance-fabric/database-ineligible').trim();
  }

  /** The hooks' own log lines (fabric-database) of a node. */
  hookLog(node: HarnessNode | string): string[] {
    return this.h.readNodeFile(node, JOURNAL_FILE).split('\n').filter((l) => l.includes('fabric-database'));
  }

  /**
   * Waits (bounded) until one member holds the VIP as MASTER and writable,
   * and the other is BACKUP, read-only and replicating from it.
   */
  async waitSettled(timeoutMs: number): Promise<{ primary: string; standby: string } | undefined> {
    return pollUntil(async () => {
      const holders = this.holders();
      if (holders.length !== 1) return undefined;
      const primary = holders[0];
      const standby = this.model.members.find((m) => m !== primary)!;
      if (this.state(primary) !== 'MASTER' || this.state(standby) !== 'BACKUP') return undefined;
      const readOnly = async (n: string) => (await this.nodeQuery(n, 'SELECT @@global.read_only')).rows;
      if ((await readOnly(primary)) !== '0' || (await readOnly(standby)) !== '1') return undefined;
      return (await this.replicating(standby)) ? { primary, standby } : undefined;
    }, timeoutMs, 500);
  }
}

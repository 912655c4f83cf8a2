import { parseIpv4Cidr } from '../model/addresses';
import { DatabaseClusterModel, FabricModel, NodeModel, nodeByName } from '../model/fabric-model';
import {
  DATABASE_BOOTSTRAP_SCRIPT,
  DATABASE_CHECK_SCRIPT,
  DATABASE_INELIGIBLE_FILE,
  DATABASE_NOTIFY_SCRIPT,
  NOTIFY_SCRIPT,
} from './node-paths';
import { ETC_DIR, generatedHeader, RenderedFile, RUN_DIR } from './rendered-file';

/** Secrets of the database cluster; Terraform references in a synthesized plan. */
export interface DatabaseSecrets {
  readonly replicationPassword: string;
  readonly applicationPassword: string;
}

export const DATABASE_ENV = `${ETC_DIR}/database.env`;
export const DATABASE_CLIENT_ENV = `${ETC_DIR}/database-client.env`;
export const DATABASE_UNIT = 'mariadb.service';

/*
 * Split brain, and why this design accepts the risk it does.
 *
 * The database VIP is held by keepalived with `nopreempt`; whoever holds it
 * is the only writable server (every server starts read_only, only the
 * MASTER hook turns it off, and FAULT/STOP/BACKUP turn it back on).
 *
 * 1. Standby loses the primary (crash, power-off): keepalived on the standby
 *    becomes MASTER; the hook first checks that this node is not the one
 *    cut off (it must reach another fabric node or the gateway), applies
 *    the relay log it already received, stops replication and opens for
 *    writes. Transactions the old primary committed but had not yet shipped
 *    (asynchronous replication) are lost to the new primary.
 * 2. The old primary returns: it starts read_only and as BACKUP, and does
 *    not take the VIP back (`nopreempt`). Its BACKUP hook tries to rejoin as
 *    a standby of the new primary from its own GTID position. In GTID strict
 *    mode MariaDB refuses that when the old primary holds transactions the
 *    new one never saw (error 1236): then its data is stale or divergent, so
 *    it writes 1 to the database eligibility file, stays out of the
 *    election, and logs why. An operator must rebuild it (e.g. from a dump of
 *    the primary) and clear the file. Where MariaDB accepts the position, the
 *    rejoin is automatic.
 * 3. A network partition between the two with both still reachable by
 *    clients: unicast VRRP cannot tell a dead peer from an unreachable one,
 *    so both may become MASTER. The isolation check keeps a node that lost
 *    the whole network read-only; a partition that leaves both halves
 *    connected to other nodes can still give two writers. The remedy is a
 *    third witness (a quorum), which this fabric does not have: put both
 *    database nodes on one redundant L2 segment, as the original requires.
 */

/** The database nodes' own settings. */
export function renderMariadbConf(model: FabricModel, node: NodeModel, db: DatabaseClusterModel): string {
  return [
    generatedHeader(model, node, 'MariaDB settings of the database cluster'),
    '[mariadbd]',
    `server_id = ${db.serverIds[node.name]}`,
    `report_host = ${node.name}`,
    // Clients come through the database VIP, the standby from the peer address.
    'bind_address = 0.0.0.0',
    `port = ${db.port}`,
    'skip_name_resolve = ON',
    '',
    '# GTID replication: a standby resumes from its own position after any failover.',
    'log_bin = fabric-bin',
    'relay_log = fabric-relay',
    'binlog_format = ROW',
    'log_slave_updates = ON',
    'gtid_strict_mode = ON',
    'expire_logs_days = 7',
    '',
    '# Durable commits: a crash must not lose what the primary acknowledged.',
    'sync_binlog = 1',
    'innodb_flush_log_at_trx_commit = 1',
    '',
    '# Every server starts read-only; only the keepalived MASTER hook opens it for writes.',
    'read_only = ON',
    '',
  ].join('\n');
}

/** MariaDB host pattern for a CIDR, e.g. 198.51.100.0/255.255.255.0. */
function hostPattern(cidr: string): string {
  const net = parseIpv4Cidr(cidr)!;
  const mask = Array.from({ length: 4 }, (_, i) => {
    const bits = Math.max(0, Math.min(8, net.prefixLength - i * 8));
    return 256 - 2 ** (8 - bits);
  }).join('.');
  return `${net.networkAddress}/${mask}`;
}

export function renderDatabaseEnv(model: FabricModel, node: NodeModel, db: DatabaseClusterModel, secrets: DatabaseSecrets): string {
  const peer = nodeByName(model, db.members.find((m) => m !== node.name)!);
  // Nodes (and the gateway) whose reachability proves this node is not the isolated one.
  const witnesses = [...model.nodes.filter((n) => !db.members.includes(n.name)).map((n) => n.managementAddress), model.network.gateway];
  return [
    generatedHeader(model, node, 'Database hook settings'),
    `DB_PORT=${db.port}`,
    `DB_NAME=${db.databaseName}`,
    `DB_VIP=${db.vrrp.vip}`,
    `DB_PEER=${peer.managementAddress}`,
    `DB_PEER_NAME=${peer.name}`,
    `DB_CLIENT_HOSTS=${hostPattern(model.network.cidr)}`,
    `DB_REPLICATION_USER=${db.replicationUser}`,
    `DB_REPLICATION_PASSWORD=${secrets.replicationPassword}`,
    `DB_APPLICATION_USER=${db.applicationUser}`,
    `DB_APPLICATION_PASSWORD=${secrets.applicationPassword}`,
    `DB_WITNESSES="${witnesses.join(' ')}"`,
    `DB_INELIGIBLE_FILE=${DATABASE_INELIGIBLE_FILE}`,
    '',
  ].join('\n');
}

const COMMON = `set -u
# shellcheck source=/dev/null
. ${DATABASE_ENV}
log() { logger -t fabric-database -p daemon.warning -- "$*"; }
# Statements go to the client on stdin, never as -e: some hold a password, and a command line is
# in every user's ps.
sql() { mariadb --protocol=socket --batch --skip-column-names <<< "$1"; }
`;

/** keepalived's check: is the local server up? (mariadb-admin ping exits 0 even when access is denied.) */
export function renderDatabaseCheck(model: FabricModel, node: NodeModel): string {
  return ['#!/bin/bash', generatedHeader(model, node, 'keepalived check of the local database'), 'exec mariadb-admin --protocol=socket --connect-timeout=1 ping > /dev/null 2>&1', ''].join('\n');
}

/** First boot: users and database, created on each node outside the binlog so the nodes' GTIDs stay equal. */
export function renderDatabaseBootstrap(model: FabricModel, node: NodeModel): string {
  return `#!/bin/bash
${generatedHeader(model, node, 'Database bootstrap (first boot)')}
${COMMON}
for _ in $(seq 1 60); do
  mariadb-admin --protocol=socket ping > /dev/null 2>&1 && break
  sleep 1
done
# The replication account may also read the application's database, so that a new standby can
# seed itself from a dump of the primary: it receives every row through the binlog anyway.
sql "SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS \\\`\${DB_NAME}\\\`;
CREATE USER IF NOT EXISTS '\${DB_REPLICATION_USER}'@'\${DB_CLIENT_HOSTS}' IDENTIFIED BY '\${DB_REPLICATION_PASSWORD}';
ALTER USER '\${DB_REPLICATION_USER}'@'\${DB_CLIENT_HOSTS}' IDENTIFIED BY '\${DB_REPLICATION_PASSWORD}';
GRANT REPLICATION SLAVE, REPLICATION SLAVE ADMIN, BINLOG MONITOR ON *.* TO '\${DB_REPLICATION_USER}'@'\${DB_CLIENT_HOSTS}';
GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON \\\`\${DB_NAME}\\\`.* TO '\${DB_REPLICATION_USER}'@'\${DB_CLIENT_HOSTS}';
GRANT SELECT ON mysql.proc TO '\${DB_REPLICATION_USER}'@'\${DB_CLIENT_HOSTS}';
CREATE USER IF NOT EXISTS '\${DB_APPLICATION_USER}'@'\${DB_CLIENT_HOSTS}' IDENTIFIED BY '\${DB_APPLICATION_PASSWORD}';
ALTER USER '\${DB_APPLICATION_USER}'@'\${DB_CLIENT_HOSTS}' IDENTIFIED BY '\${DB_APPLICATION_PASSWORD}';
GRANT ALL PRIVILEGES ON \\\`\${DB_NAME}\\\`.* TO '\${DB_APPLICATION_USER}'@'\${DB_CLIENT_HOSTS}';" || { log "bootstrap failed"; exit 1; }
log "users and database '\${DB_NAME}' are in place"
`;
}

/** keepalived notify hook of the database VIP: promotion, demotion, rejoin. */
export function renderDatabaseNotify(model: FabricModel, node: NodeModel): string {
  return `#!/bin/bash
${generatedHeader(model, node, 'Database VIP hook: promote, demote, rejoin')}
# keepalived calls it as root: INSTANCE <name> <MASTER|BACKUP|FAULT|STOP> <priority>
# The reasoning about split brain is in appliance-fabric's cloud-init/database.ts and README.
${COMMON}
# Ordered by this hook's start, not by the common hook's (see that one).
FABRIC_NOTIFY_PID=$$ ${NOTIFY_SCRIPT} "$@"
instance="\${2:-${model.database!.vrrp.name}}"
state="\${3:-}"

ineligible() { printf '%s\\n' "$1" > "\${DB_INELIGIBLE_FILE}"; }

# One field of SHOW SLAVE STATUS (its vertical form needs the column names that sql() drops).
replica_field() { mariadb --protocol=socket -e "SHOW SLAVE STATUS\\G" 2> /dev/null | sed -n "s/^ *$1: //p"; }

isolated() {
  local w
  for w in \${DB_WITNESSES}; do
    ping -c 1 -W 1 "$w" > /dev/null 2>&1 && return 1
  done
  return 0
}

# The state keepalived last announced (written by the common hook above).
current_state() { cut -d' ' -f2 "${RUN_DIR}/vrrp-\${instance}.state" 2> /dev/null; }

promote() {
  # An isolated node must not open for writes: wait (bounded) until a witness answers,
  # and give up as soon as this node is no longer MASTER.
  local tries=0
  while isolated; do
    sql "SET GLOBAL read_only = ON"
    if ((tries == 0)); then log "not promoting yet: no witness (\${DB_WITNESSES}) answers, this node may be the isolated one"; fi
    tries=$((tries + 1))
    if ((tries >= 120)) || [[ "$(current_state)" != MASTER ]]; then
      log "promotion abandoned after $tries checks: still isolated or no longer MASTER"
      return
    fi
    sleep 1
  done
  # Apply what was already received from the old primary before opening for writes.
  local received
  received=$(replica_field Gtid_IO_Pos)
  sql "STOP SLAVE IO_THREAD" 2> /dev/null || true
  if [[ -n "$received" ]]; then
    sql "SELECT MASTER_GTID_WAIT('$received', 10)" > /dev/null 2>&1 || log "relay log not fully applied within 10 s"
  fi
  sql "STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF" || { log "promotion failed"; ineligible 1; return; }
  ineligible 0
  log "promoted to primary: writable, holding the database VIP \${DB_VIP}"
}

demote() {
  sql "SET GLOBAL read_only = ON" || log "could not set read_only"
}

# A new node (a replaced VM) has none of the primary's history, and the primary may have purged
# the binlogs that start it (expire_logs_days): it loads a consistent dump of the primary's
# database first, outside its own binlog, and replicates from the dump's GTID position.

# The peer as the replication account sees it. The password goes in an option file only root
# can read (mktemp: a new file, never one planted there), removed after each use; never on a
# command line. Prints the file's path.
new_peer_client_cnf() {
  local cnf
  cnf=$(mktemp "${RUN_DIR}/database-peer.XXXXXX") || return 1
  printf '[client]\\nuser=%s\\npassword=%s\\nhost=%s\\nport=%s\\n' \\
    "\${DB_REPLICATION_USER}" "\${DB_REPLICATION_PASSWORD}" "\${DB_PEER}" "\${DB_PORT}" > "$cnf" || { rm -f "$cnf"; return 1; }
  printf '%s' "$cnf"
}
peer_sql() {
  local cnf rc
  cnf=$(new_peer_client_cnf) || return 1
  mariadb --defaults-extra-file="$cnf" --connect-timeout=5 --batch --skip-column-names <<< "$1" 2> /dev/null
  rc=$?
  rm -f "$cnf"
  return "$rc"
}

# Sets seeded_pos. Its three temporary files (the option file, the dump's GTID line and its
# errors) are removed in one place, whatever step fails.
seed_from_peer() {
  local cnf='' gtid_file='' errors='' rc=1
  if cnf=$(new_peer_client_cnf) && gtid_file=$(mktemp "${RUN_DIR}/database-seed.XXXXXX") && errors=$(mktemp "${RUN_DIR}/database-seed.XXXXXX"); then
    seed_with "$cnf" "$gtid_file" "$errors"
    rc=$?
  else
    log "seeding from \${DB_PEER_NAME}: cannot create a temporary file in ${RUN_DIR}"
  fi
  rm -f -- \${cnf:+"$cnf"} \${gtid_file:+"$gtid_file"} \${errors:+"$errors"}
  return "$rc"
}
seed_with() {
  local cnf=$1 gtid_file=$2 errors=$3 status
  log "seeding from \${DB_PEER_NAME}: this node has no database history yet, the primary has"
  mariadb-dump --defaults-extra-file="$cnf" --single-transaction --gtid --master-data=2 --routines --events --triggers --databases "\${DB_NAME}" 2> "$errors" \\
    | awk -v out="$gtid_file" '!done && /^-- SET GLOBAL gtid_slave_pos=/ { print > out; close(out); done = 1 } { print }' \\
    | { printf 'SET SESSION sql_log_bin = 0;\\n'; cat; } | mariadb --protocol=socket 2>> "$errors"
  status="\${PIPESTATUS[*]}"
  if [[ "$status" != "0 0 0 0" ]]; then
    log "seeding from \${DB_PEER_NAME} failed (dump, filter, load exited: $status): $(head -c 400 "$errors" | tr '\\n' ' ')"
    return 1
  fi
  seeded_pos=$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\\([0-9,-]*\\)';$/\\1/p" "$gtid_file" 2> /dev/null)
  [[ -n "$seeded_pos" ]] || { log "seeding from \${DB_PEER_NAME}: the dump names no GTID position"; return 1; }
  log "seeded from \${DB_PEER_NAME}: database '\${DB_NAME}' loaded from its dump at GTID $seeded_pos"
}

rejoin() {
  # At boot keepalived may start before MariaDB answers: wait for it (bounded).
  local _
  for _ in $(seq 1 120); do
    mariadb-admin --protocol=socket --connect-timeout=1 ping > /dev/null 2>&1 && break
    [[ "$(current_state)" == BACKUP ]] || return
    sleep 1
  done
  demote
  # Resume from this node's own position (its binlog; once seeded and before it logged anything,
  # the position it replicated to); MariaDB (gtid_strict_mode) refuses it when this node has
  # transactions the primary never saw.
  local start='IF(LENGTH(@@gtid_binlog_pos) = 0, @@gtid_slave_pos, @@gtid_binlog_pos)' seeded_pos=''
  if [[ -z "$(sql "SELECT CONCAT(@@global.gtid_binlog_pos, @@global.gtid_slave_pos)")" && -n "$(peer_sql "SELECT @@global.gtid_binlog_pos")" ]]; then
    if ! seed_from_peer; then
      # An empty copy must never take the database VIP: out of the election until an operator acts.
      ineligible 1
      log "not seeded: staying out of the database VIP election with an empty database; fix the cause above, then replace this VM again"
      return
    fi
    start="'$seeded_pos'"
  fi
  sql "STOP SLAVE; SET GLOBAL gtid_slave_pos = $start;
CHANGE MASTER TO MASTER_HOST='\${DB_PEER}', MASTER_PORT=\${DB_PORT}, MASTER_USER='\${DB_REPLICATION_USER}',
  MASTER_PASSWORD='\${DB_REPLICATION_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=2;
START SLAVE;" || { log "could not configure replication from \${DB_PEER_NAME}"; return; }
  # The primary refuses a diverged position only once the dump is requested, after the threads
  # already show Yes: count as replicating only after 1 s of running without that error.
  local io sqlt err running=0
  for _ in $(seq 1 30); do
    [[ "$(current_state)" == BACKUP ]] || return
    io=$(replica_field Slave_IO_Running)
    sqlt=$(replica_field Slave_SQL_Running)
    err=$(replica_field Last_IO_Errno)
    if [[ "$err" == 1236 ]]; then
      log "STALE: this node holds transactions that primary \${DB_PEER_NAME} never saw; staying out of the database VIP election. Replace its VM (terraform apply -replace on its replacement marker): the new node seeds itself from the primary"
      ineligible 1
      return
    fi
    if [[ "$io" == Yes && "$sqlt" == Yes ]]; then running=$((running + 1)); else running=0; fi
    if ((running >= 3)); then
      ineligible 0
      log "standby of \${DB_PEER_NAME}: replicating"
      return
    fi
    sleep 0.5
  done
  log "replication from \${DB_PEER_NAME} is not running yet (IO=\${io:-?} SQL=\${sqlt:-?}); it keeps retrying"
}

# Hooks overlap (the BACKUP hook of startup may still wait for MariaDB when the node becomes
# MASTER): they take turns on a lock, and each acts only while its state is still the current
# one, so a late rejoin can never turn a promoted primary back into a replica.
take_turn() {
  exec 9> "${RUN_DIR}/database-hook.lock"
  if ! flock --timeout 180 9; then
    log "$1 hook gave up waiting for an earlier hook"
    return 1
  fi
  if [[ "$(current_state)" != "$1" ]]; then
    log "$1 hook skipped: the database VIP instance is $(current_state) now"
    return 1
  fi
}

case "$state" in
  # In the background: keepalived does not wait for hooks, and promotion may wait for a witness.
  MASTER) { take_turn MASTER && promote; } & ;;
  BACKUP) { take_turn BACKUP && rejoin; } & ;;
  FAULT | STOP) take_turn "$state" && demote ;;
esac
exit 0
`;
}

export function databaseFiles(model: FabricModel, node: NodeModel, secrets: DatabaseSecrets): RenderedFile[] {
  const db = model.database;
  const files: RenderedFile[] = [];
  if (db && node.roles.includes('application-server')) {
    // Application servers reach the database only through its VIP.
    files.push({
      path: DATABASE_CLIENT_ENV,
      content: [
        generatedHeader(model, node, 'Database connection of the application service'),
        `DB_HOST=${db.vrrp.vip}`,
        `DB_PORT=${db.port}`,
        `DB_NAME=${db.databaseName}`,
        `DB_USER=${db.applicationUser}`,
        `DB_PASSWORD=${secrets.applicationPassword}`,
        '',
      ].join('\n'),
      permissions: '0600',
    });
  }
  if (!db || !node.roles.includes('database')) return files;
  files.push(
    { path: '/etc/mysql/mariadb.conf.d/60-appliance-fabric.cnf', content: renderMariadbConf(model, node, db), permissions: '0644' },
    { path: DATABASE_ENV, content: renderDatabaseEnv(model, node, db, secrets), permissions: '0600' },
    { path: DATABASE_CHECK_SCRIPT, content: renderDatabaseCheck(model, node), permissions: '0755' },
    { path: DATABASE_BOOTSTRAP_SCRIPT, content: renderDatabaseBootstrap(model, node), permissions: '0755' },
    { path: DATABASE_NOTIFY_SCRIPT, content: renderDatabaseNotify(model, node), permissions: '0755' },
  );
  return files;
}

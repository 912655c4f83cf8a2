import { parseIpv4Cidr } from '../model/addresses';
import { DatabaseClusterModel, FabricModel, NodeModel, nodeByName } from '../model/fabric-model';
import { renderAsset } from './assets';
import {
  DATABASE_ACCOUNTS_ASSET,
  DATABASE_ACCOUNTS_SCRIPT,
  DATABASE_CHECK_ASSET,
  DATABASE_CHECK_SCRIPT,
  DATABASE_HOOK_LOCK,
  DATABASE_INELIGIBLE_FILE,
  DATABASE_NOTIFY_ASSET,
  DATABASE_NOTIFY_SCRIPT,
} from './node-paths';
import { ETC_DIR, generatedHeader, RenderedFile } from './rendered-file';

/** Secrets of the database cluster; Terraform references in a synthesized plan. */
export interface DatabaseSecrets {
  /** Each account's current password, which the clients use (the standby's replication, the application)... */
  readonly replicationPassword: string;
  readonly applicationPassword: string;
  /** ...and the previous and next generation's, which the accounts accept besides it, so that a rotation needs no order. */
  readonly replicationPasswordPrevious: string;
  readonly replicationPasswordNext: string;
  readonly applicationPasswordPrevious: string;
  readonly applicationPasswordNext: string;
  /** The database CA's certificate, PEM in base64. */
  readonly caCertificatePemBase64: string;
  /** The members' server certificate and its key, PEM in base64. */
  readonly serverCertificatePemBase64: string;
  readonly serverKeyPemBase64: string;
}

export const DATABASE_ENV = `${ETC_DIR}/database.env`;
export const DATABASE_CLIENT_ENV = `${ETC_DIR}/database-client.env`;
export const DATABASE_UNIT = 'mariadb.service';
/** How the database nodes stop MariaDB (a drop-in beside the restart policy's). */
export const DATABASE_SHUTDOWN_DROP_IN = `/etc/systemd/system/${DATABASE_UNIT}.d/60-appliance-fabric-shutdown.conf`;
/** The database CA's certificate: on the database nodes and the application servers, which verify the server with it. */
export const DATABASE_CA_FILE = `${ETC_DIR}/database-ca.pem`;
/** The database members' server certificate and key (the key readable by mysql only). */
export const DATABASE_SERVER_CERTIFICATE = `${ETC_DIR}/database-server.pem`;
export const DATABASE_SERVER_KEY = `${ETC_DIR}/database-server.key`;

/** TLS 1.2 suites for the members' ECDSA certificate: ECDHE with an AEAD cipher only (TLS 1.3's suites are all AEAD). */
const DATABASE_TLS12_CIPHERS = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];

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
    '# TLS on every TCP connection (replication, the application, dumps); the hooks use the local socket, without.',
    `ssl_ca = ${DATABASE_CA_FILE}`,
    `ssl_cert = ${DATABASE_SERVER_CERTIFICATE}`,
    `ssl_key = ${DATABASE_SERVER_KEY}`,
    'tls_version = TLSv1.2,TLSv1.3',
    `ssl_cipher = ${DATABASE_TLS12_CIPHERS.join(':')}`,
    'require_secure_transport = ON',
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

/** MariaDB host pattern for a CIDR: the address alone for a /32, else e.g. 198.51.100.64/255.255.255.192. */
function hostPattern(cidr: string): string {
  const net = parseIpv4Cidr(cidr)!;
  if (net.prefixLength === 32) return net.networkAddress;
  const mask = Array.from({ length: 4 }, (_, i) => {
    const bits = Math.max(0, Math.min(8, net.prefixLength - i * 8));
    return 256 - 2 ** (8 - bits);
  }).join('.');
  return `${net.networkAddress}/${mask}`;
}

/** The hosts each database account is created for on a database node: never a whole segment. */
export interface DatabaseAccountHosts {
  /** The peer: a standby replicates from this node, and seeds itself from a dump of it. */
  readonly replication: readonly string[];
  /** The application servers, and the networks of firewall.databaseClientCidrs. */
  readonly application: readonly string[];
}

/** The other member of `node`'s database pair. */
function peerOf(model: FabricModel, node: NodeModel, db: DatabaseClusterModel): NodeModel {
  return nodeByName(model, db.members.find((m) => m !== node.name)!);
}

/** The addresses the members' shared server certificate names: each member's (the standby connects there) and the VIP (the application does). */
export function databaseServerAddresses(model: FabricModel, db: DatabaseClusterModel): string[] {
  return [...db.members.map((m) => nodeByName(model, m).managementAddress), db.vrrp.vip];
}

export function databaseAccountHosts(model: FabricModel, node: NodeModel, db: DatabaseClusterModel): DatabaseAccountHosts {
  const peer = peerOf(model, node, db);
  const servers = model.applicationServers.members;
  // A connection to an address the node holds itself leaves from that address: an application
  // server that is also a database node reaches the VIP it holds from the VIP.
  const fromVip = db.members.some((m) => servers.includes(m)) ? [db.vrrp.vip] : [];
  const application = [...servers.map((n) => nodeByName(model, n).managementAddress), ...fromVip, ...model.firewall.databaseClientCidrs.map(hostPattern)];
  return { replication: [peer.managementAddress], application: [...new Set(application)] };
}

export function renderDatabaseEnv(model: FabricModel, node: NodeModel, db: DatabaseClusterModel, secrets: DatabaseSecrets): string {
  const peer = peerOf(model, node, db);
  // Nodes (and the gateway) whose reachability proves this node is not the isolated one.
  const witnesses = [...model.nodes.filter((n) => !db.members.includes(n.name)).map((n) => n.managementAddress), model.network.gateway];
  const hosts = databaseAccountHosts(model, node, db);
  return [
    generatedHeader(model, node, 'Database hook settings'),
    `DB_PORT=${db.port}`,
    `DB_NAME=${db.databaseName}`,
    `DB_VIP=${db.vrrp.vip}`,
    `DB_PEER=${peer.managementAddress}`,
    `DB_PEER_NAME=${peer.name}`,
    '# Each account exists for exactly these hosts (addresses, or address/netmask); the accounts',
    '# script drops one for a host no longer listed.',
    `DB_REPLICATION_HOSTS="${hosts.replication.join(' ')}"`,
    `DB_APPLICATION_HOSTS="${hosts.application.join(' ')}"`,
    `# Password generation ${db.passwordGeneration}. Clients use each account's PASSWORD; the account also accepts`,
    '# _PREVIOUS and _NEXT, so that the nodes of a rotation may take it in any order.',
    `DB_REPLICATION_USER=${db.replicationUser}`,
    `DB_REPLICATION_PASSWORD=${secrets.replicationPassword}`,
    `DB_REPLICATION_PASSWORD_PREVIOUS=${secrets.replicationPasswordPrevious}`,
    `DB_REPLICATION_PASSWORD_NEXT=${secrets.replicationPasswordNext}`,
    `DB_APPLICATION_USER=${db.applicationUser}`,
    `DB_APPLICATION_PASSWORD=${secrets.applicationPassword}`,
    `DB_APPLICATION_PASSWORD_PREVIOUS=${secrets.applicationPasswordPrevious}`,
    `DB_APPLICATION_PASSWORD_NEXT=${secrets.applicationPasswordNext}`,
    '# The standby verifies the primary against this CA (its certificate names both members and the VIP).',
    `DB_TLS_CA=${DATABASE_CA_FILE}`,
    `DB_WITNESSES="${witnesses.join(' ')}"`,
    `DB_INELIGIBLE_FILE=${DATABASE_INELIGIBLE_FILE}`,
    `DB_HOOK_LOCK=${DATABASE_HOOK_LOCK}`,
    '',
  ].join('\n');
}

/** keepalived's check: is the local server up? (cloud-init/assets/check-database) */
export function renderDatabaseCheck(model: FabricModel, node: NodeModel): string {
  return renderAsset(DATABASE_CHECK_ASSET, generatedHeader(model, node, 'keepalived check of the local database'));
}

/** The database and its accounts, at first boot and whenever database.env changes; outside the binlog, so the nodes' GTIDs stay equal. */
export function renderDatabaseAccounts(model: FabricModel, node: NodeModel): string {
  return renderAsset(DATABASE_ACCOUNTS_ASSET, generatedHeader(model, node, 'Database and accounts (first boot and every change of database.env)'));
}

/** keepalived notify hook of the database VIP: promotion, demotion, rejoin. */
export function renderDatabaseNotify(model: FabricModel, node: NodeModel): string {
  return renderAsset(DATABASE_NOTIFY_ASSET, generatedHeader(model, node, 'Database VIP hook: promote, demote, rejoin'));
}

/**
 * A planned stop (systemctl stop or restart, a reboot) of the primary must not lose what it
 * committed: on SIGTERM, MariaDB kills its binlog dump threads among the client threads, so the
 * standby may miss the last commits, and the old primary comes back STALE. `SHUTDOWN WAIT FOR ALL
 * SLAVES` (mariadb-admin --wait-for-all-slaves) kills the clients first and stops only once every
 * connected standby was sent the whole binlog. Bounded by the restart policy's TimeoutStopSec,
 * after which systemd sends the unit's SIGTERM as before.
 */
export function renderDatabaseShutdownDropIn(model: FabricModel, node: NodeModel): string {
  return [
    generatedHeader(model, node, `systemd stop command of ${DATABASE_UNIT}`),
    '[Service]',
    '# Every connected standby receives the whole binlog before the server stops (root, over the socket).',
    'ExecStop=+/usr/bin/mariadb-admin --protocol=socket --skip-ssl --connect-timeout=2 --wait-for-all-slaves shutdown',
    '',
  ].join('\n');
}

export function databaseFiles(model: FabricModel, node: NodeModel, secrets: DatabaseSecrets): RenderedFile[] {
  const db = model.database;
  const files: RenderedFile[] = [];
  const isMember = db !== undefined && node.roles.includes('database');
  const isClient = db !== undefined && node.roles.includes('application-server');
  if (isMember || isClient) files.push({ path: DATABASE_CA_FILE, content: secrets.caCertificatePemBase64, permissions: '0644', base64: true });
  if (db && isClient) {
    // Application servers reach the database only through its VIP, over TLS.
    files.push({
      path: DATABASE_CLIENT_ENV,
      content: [
        generatedHeader(model, node, 'Database connection of the application service'),
        `DB_HOST=${db.vrrp.vip}`,
        `DB_PORT=${db.port}`,
        `DB_NAME=${db.databaseName}`,
        `DB_USER=${db.applicationUser}`,
        `DB_PASSWORD=${secrets.applicationPassword}`,
        '# The server accepts TLS only; verify it with this CA, e.g. mariadb --ssl-ca="$DB_SSL_CA" --ssl-verify-server-cert.',
        `DB_SSL_CA=${DATABASE_CA_FILE}`,
        '',
      ].join('\n'),
      permissions: '0600',
    });
  }
  if (!db || !isMember) return files;
  files.push(
    { path: DATABASE_SERVER_CERTIFICATE, content: secrets.serverCertificatePemBase64, permissions: '0644', base64: true },
    { path: DATABASE_SERVER_KEY, content: secrets.serverKeyPemBase64, permissions: '0640', owner: 'root:mysql', base64: true },
    { path: '/etc/mysql/mariadb.conf.d/60-appliance-fabric.cnf', content: renderMariadbConf(model, node, db), permissions: '0644' },
    { path: DATABASE_ENV, content: renderDatabaseEnv(model, node, db, secrets), permissions: '0600' },
    { path: DATABASE_CHECK_SCRIPT, content: renderDatabaseCheck(model, node), permissions: '0755' },
    { path: DATABASE_ACCOUNTS_SCRIPT, content: renderDatabaseAccounts(model, node), permissions: '0755' },
    { path: DATABASE_NOTIFY_SCRIPT, content: renderDatabaseNotify(model, node), permissions: '0755' },
    { path: DATABASE_SHUTDOWN_DROP_IN, content: renderDatabaseShutdownDropIn(model, node), permissions: '0644' },
  );
  return files;
}

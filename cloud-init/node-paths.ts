import { LIB_DIR, RUN_DIR } from './rendered-file';

/*
 * Paths on a node that more than one renderer refers to. Scripts are shipped as
 * files (cloud-init/assets/<name>), installed under LIB_DIR with that name.
 */
export const DATABASE_CHECK_ASSET = 'check-database';
export const DATABASE_NOTIFY_ASSET = 'database-notify';
export const DATABASE_ACCOUNTS_ASSET = 'database-accounts';
export const NOTIFY_ASSET = 'keepalived-notify';
export const DEMO_SERVICE_ASSET = 'demo-app-server.py';
/** The HTTP and TCP probes, a library the watchdog and keepalived's checks source from beside themselves. */
export const PROBES_ASSET = 'fabric-probes';
export const PROBES_LIBRARY = `${LIB_DIR}/${PROBES_ASSET}`;
export const DATABASE_CHECK_SCRIPT = `${LIB_DIR}/${DATABASE_CHECK_ASSET}`;
export const DATABASE_NOTIFY_SCRIPT = `${LIB_DIR}/${DATABASE_NOTIFY_ASSET}`;
export const DATABASE_ACCOUNTS_SCRIPT = `${LIB_DIR}/${DATABASE_ACCOUNTS_ASSET}`;
/** Non-zero while this node must not hold the database VIP. */
export const DATABASE_INELIGIBLE_FILE = `${RUN_DIR}/database-ineligible`;
/** The lock the database hooks and the accounts script take turns on (promotion, rejoin, a standby's new replication password). */
export const DATABASE_HOOK_LOCK = `${RUN_DIR}/database-hook.lock`;
/** keepalived's logging notify hook. */
export const NOTIFY_SCRIPT = `${LIB_DIR}/${NOTIFY_ASSET}`;
/** keepalived's check of a service a VIP follows (HAProxy, the monitoring service), given the check as arguments. */
export const CHECK_SERVICE_ASSET = 'check-service';
export const CHECK_SERVICE_SCRIPT = `${LIB_DIR}/${CHECK_SERVICE_ASSET}`;

/*
 * The syslog tags the scripts log under (`logger -t`, written in the assets
 * themselves): what an operator, and the e2e, read the journal for.
 */
/** The database hooks and the accounts script. */
export const DATABASE_SYSLOG_TAG = 'fabric-database';
/** keepalived's notify hook: every VRRP state change. */
export const NOTIFY_SYSLOG_TAG = 'keepalived-notify';
/** The fabric watchdog: every restart and failover it makes. */
export const WATCHDOG_SYSLOG_TAG = 'fabric-watchdog';
/** Cassandra's authentication setup. */
export const CASSANDRA_SYSLOG_TAG = 'fabric-cassandra';

import { LIB_DIR, RUN_DIR } from './rendered-file';

/** Paths on a node that more than one renderer refers to. */
export const DATABASE_CHECK_SCRIPT = `${LIB_DIR}/check-database`;
export const DATABASE_NOTIFY_SCRIPT = `${LIB_DIR}/database-notify`;
export const DATABASE_BOOTSTRAP_SCRIPT = `${LIB_DIR}/database-bootstrap`;
/** Non-zero while this node must not hold the database VIP. */
export const DATABASE_INELIGIBLE_FILE = `${RUN_DIR}/database-ineligible`;
export const MONITORING_CHECK_SCRIPT = `${LIB_DIR}/check-monitoring`;
/** keepalived's logging notify hook. */
export const NOTIFY_SCRIPT = `${LIB_DIR}/keepalived-notify`;
/** keepalived's check of a hung HAProxy. */
export const HAPROXY_CHECK_SCRIPT = `${LIB_DIR}/check-haproxy`;

/**
 * systemd's restart policy of every service the fabric keeps up, the first
 * of the watchdog's layers (see watchdog.ts): a service that exits or crashes
 * is started again a second later. A burst of restarts is allowed, not a
 * tight crash loop forever: after 10 starts within 60 s systemd gives up, and
 * the fabric watchdog's probes take over.
 */
export const RESTART_POLICY_UNIT_LINES: readonly string[] = ['StartLimitIntervalSec=60', 'StartLimitBurst=10'];
export const RESTART_POLICY_SERVICE_LINES: readonly string[] = ['Restart=always', 'RestartSec=1', 'TimeoutStopSec=10'];

import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { Watchdog } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { nonNegativeInteger, positiveInteger } from './checks';
import { BuildContext } from './context';

/** The fabric watchdog's probing and the platform's watchdog device. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): Watchdog {
  const wd = spec.watchdog ?? {};
  return {
    probeIntervalSeconds: positiveInteger('watchdog.probeIntervalSeconds', wd.probeIntervalSeconds ?? D.DEFAULT_PROBE_INTERVAL_SECONDS, problems),
    startupGraceSeconds: nonNegativeInteger('watchdog.startupGraceSeconds', wd.startupGraceSeconds ?? D.DEFAULT_STARTUP_GRACE_SECONDS, problems),
    failuresBeforeRestart: positiveInteger('watchdog.failuresBeforeRestart', wd.failuresBeforeRestart ?? D.DEFAULT_FAILURES_BEFORE_RESTART, problems),
    restartsBeforeFailover: positiveInteger('watchdog.restartsBeforeFailover', wd.restartsBeforeFailover ?? D.DEFAULT_RESTARTS_BEFORE_FAILOVER, problems),
    restartWindowSeconds: positiveInteger('watchdog.restartWindowSeconds', wd.restartWindowSeconds ?? D.DEFAULT_RESTART_WINDOW_SECONDS, problems),
    hardwareTimeoutSeconds: positiveInteger('watchdog.hardwareTimeoutSeconds', wd.hardwareTimeoutSeconds ?? D.DEFAULT_HARDWARE_TIMEOUT_SECONDS, problems),
    deviceModule: context.platform.watchdogModule,
  };
}

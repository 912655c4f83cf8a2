import * as D from './defaults';
import { ProblemCollector } from './errors';
import { ServerChecks } from './fabric-model';
import { ServerChecksSpec } from './fabric-spec';

/** The shortest stall a server must ride out without being marked DOWN (issue 11: a 0.3 s vMotion stun). */
export const MIN_STALL_TOLERANCE_SECONDS = 0.3;
/** `timeout connect` of every backend; a check's connect timeout is the shorter of it and the interval. */
export const BACKEND_CONNECT_TIMEOUT_SECONDS = 1;

const wholeMs = (s: number) => Math.round(s * 1000) === s * 1000;
const seconds = (s: number) => Math.round(s * 1000) / 1000;

/**
 * Validates and completes `spec` (at `where`, e.g. `loadBalancer.serverChecks`).
 * Settings under which a 0.3 s stall would mark a server DOWN are refused:
 * with sessions closed on DOWN, such a stall would cut or replay every
 * request on that server.
 */
export function buildServerChecks(where: string, spec: ServerChecksSpec | undefined, problems: ProblemCollector): ServerChecks {
  const s = spec ?? {};
  const intervalSeconds = s.intervalSeconds ?? D.DEFAULT_SERVER_CHECK_INTERVAL_SECONDS;
  const fall = s.fall ?? D.DEFAULT_SERVER_CHECK_FALL;
  const rise = s.rise ?? D.DEFAULT_SERVER_CHECK_RISE;
  let valid = true;
  if (typeof intervalSeconds !== 'number' || !Number.isFinite(intervalSeconds) || intervalSeconds < 0.05 || intervalSeconds > 60 || !wholeMs(intervalSeconds)) {
    problems.add(`${where}.intervalSeconds`, `check interval ${String(intervalSeconds)} s is not between 0.05 and 60 s in whole milliseconds`, `give e.g. ${D.DEFAULT_SERVER_CHECK_INTERVAL_SECONDS} (the default)`);
    valid = false;
  }
  for (const [name, value] of [['fall', fall], ['rise', rise]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 10) {
      problems.add(`${where}.${name}`, `${String(value)} is not a whole number of checks from 1 to 10`, `give e.g. ${name === 'fall' ? D.DEFAULT_SERVER_CHECK_FALL : D.DEFAULT_SERVER_CHECK_RISE} (the default)`);
      valid = false;
    }
  }
  const fastIntervalSeconds = valid ? Math.max(0.01, seconds(Math.floor((intervalSeconds * 1000) / 2) / 1000)) : 0;
  const connectTimeout = valid ? Math.min(BACKEND_CONNECT_TIMEOUT_SECONDS, intervalSeconds) : 0;
  const stallToleranceSeconds = valid ? seconds(fall * connectTimeout + (fall - 1) * fastIntervalSeconds) : 0;
  if (valid && stallToleranceSeconds < MIN_STALL_TOLERANCE_SECONDS) {
    problems.add(
      where,
      `checks every ${intervalSeconds} s with fall ${fall} mark a server DOWN after a stall of ${stallToleranceSeconds} s (${fall} connects of ${connectTimeout} s, ${fastIntervalSeconds} s apart): a hypervisor pause would take it out of rotation`,
      `raise fall or intervalSeconds so that fall x interval + (fall - 1) x interval / 2 is at least ${MIN_STALL_TOLERANCE_SECONDS} s (the default, every ${D.DEFAULT_SERVER_CHECK_INTERVAL_SECONDS} s with fall ${D.DEFAULT_SERVER_CHECK_FALL}, rides out 0.5 s)`,
    );
  }
  const downWithinSeconds = valid ? seconds(intervalSeconds + stallToleranceSeconds) : 0;
  return { intervalSeconds, fastIntervalSeconds, fall, rise, checkConnectTimeoutSeconds: connectTimeout, stallToleranceSeconds, downWithinSeconds };
}

import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { ApplicationService, HealthCheck } from '../fabric-model';
import { ApplicationServiceSpec, FabricSpec, MonitoringServiceSpec } from '../fabric-spec';
import { isSystemUserName } from '../identifiers';
import { BuildContext } from './context';

/** The built-in demo application's unit name and port, when the user gives no service of their own. */
const DEFAULT_APPLICATION_SERVICE = { name: D.DEFAULT_APPLICATION_SERVICE_NAME, port: D.DEFAULT_APPLICATION_SERVICE_PORT } as const;
const DEFAULT_MONITORING_SERVICE = { name: D.DEFAULT_MONITORING_SERVICE_NAME, port: D.DEFAULT_MONITORING_SERVICE_PORT } as const;

/** The two services the fabric runs and its watchdog keeps: the application's and the monitoring's. */
export interface Services {
  readonly application: ApplicationService;
  readonly monitoring: ApplicationService;
}

/** The application and monitoring services: claims their ports. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): Services {
  const application = buildService(spec.applicationServers?.service ?? {}, 'applicationServers.service', DEFAULT_APPLICATION_SERVICE, problems);
  const monitoring = buildService(spec.monitoring?.service ?? {}, 'monitoring.service', DEFAULT_MONITORING_SERVICE, problems);
  context.ports.claim('applicationServers.service.port', application.port);
  context.ports.claim('monitoring.service.port', monitoring.port);
  return { application, monitoring };
}

function buildService(s: ApplicationServiceSpec | MonitoringServiceSpec, where: string, defaults: { name: string; port: number }, problems: ProblemCollector): ApplicationService {
  const name = s.name ?? defaults.name;
  // Not the backslash escapes systemd also takes: they would reach the watchdog's records and scripts.
  if (typeof name !== 'string' || !/^[a-zA-Z0-9:_.-]+$/.test(name) || name.endsWith('.service')) {
    problems.add(`${where}.name`, `${JSON.stringify(name)} is not a systemd unit name`, "give the unit name without '.service', using letters, digits, ':', '_', '.', '-'");
  }
  const hc = s.healthCheck ?? {};
  const healthCheck: HealthCheck = { type: hc.type ?? D.DEFAULT_HEALTH_CHECK_TYPE, path: hc.path ?? D.DEFAULT_HEALTH_CHECK_PATH, command: hc.command };
  if (!['http', 'tcp', 'command'].includes(healthCheck.type)) {
    problems.add(`${where}.healthCheck.type`, `health check type '${String(healthCheck.type)}' is unknown`, "use 'http', 'tcp' or 'command'");
  }
  // The path goes into haproxy.cfg (where '#' starts a comment and quotes quote) and into the
  // watchdog's '|'-separated probe records: URL path and query characters that mean nothing to either.
  if (healthCheck.type === 'http' && !/^\/[A-Za-z0-9._~%/+=:@,?&!-]*$/.test(healthCheck.path)) {
    problems.add(
      `${where}.healthCheck.path`,
      `health check path ${JSON.stringify(healthCheck.path)} is not a plain absolute URL path`,
      "start it with '/' and use letters, digits and . _ ~ % / + = : @ , ? & ! - only (percent-encode anything else), e.g. '/healthz'",
    );
  }
  if (typeof s.execStart === 'string' && /[\n\r\0]/.test(s.execStart)) {
    problems.add(`${where}.execStart`, `execStart ${JSON.stringify(s.execStart)} holds a line break, which would add lines to the service's unit`, 'give one command line; put a longer start-up into a script on the node and give its path');
  }
  if (healthCheck.type === 'command' && !healthCheck.command) {
    problems.add(`${where}.healthCheck.command`, 'a command health check has no command', 'give the shell command that exits 0 when the service is healthy');
  }
  if (healthCheck.type === 'command' && typeof healthCheck.command === 'string' && /[|\n\r]/.test(healthCheck.command)) {
    problems.add(
      `${where}.healthCheck.command`,
      `health check command ${JSON.stringify(healthCheck.command)} holds '|' or a line break, which separate the watchdog's probe records`,
      'put a pipeline or a multi-line check into a script on the node (a package or an image file) and give its path as the command',
    );
  }
  return {
    name,
    port: s.port ?? defaults.port,
    healthCheck,
    execStart: s.execStart,
    packages: s.packages ?? (s.execStart ? [] : [...D.DEMO_SERVICE_PACKAGES]),
    user: serviceUser(s, name, where, problems),
  };
}

/** The user a service runs as (see ServiceSpec.user); undefined for the built-in service's DynamicUser. */
function serviceUser(s: ApplicationServiceSpec | MonitoringServiceSpec, name: string, where: string, problems: ProblemCollector): string | undefined {
  const fix = "set user to a name of lower-case letters, digits, '_' and '-', starting with a letter, at most 32 characters (or 'root', not recommended)";
  let user: string;
  if (s.user !== undefined) {
    if (typeof s.user !== 'string' || (s.user !== 'root' && !isSystemUserName(s.user))) {
      problems.add(`${where}.user`, `${JSON.stringify(s.user)} is not a system user name`, fix);
      return undefined;
    }
    user = s.user;
  } else if (s.execStart === undefined) {
    return undefined;
  } else if (isSystemUserName(name)) {
    user = name;
  } else {
    problems.add(`${where}.user`, `the service ${JSON.stringify(name)} would run as a user named after it, which is not a system user name`, fix);
    return undefined;
  }
  if (user === D.ADMIN_USER || user === D.VRRP_SCRIPT_USER) {
    problems.add(`${where}.user`, `'${user}' is the fabric's own ${user === D.ADMIN_USER ? 'operator login (with sudo)' : "user for keepalived's scripts"}`, 'give the service a user of its own (set user)');
  }
  return user;
}

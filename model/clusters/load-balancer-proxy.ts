import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { LoadBalancerClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { buildServerChecks } from '../server-checks';
import { positiveInteger } from './checks';
import { BuildContext } from './context';

/** How HAProxy on the load-balancer cluster handles a request: its part of the cluster's model. */
export type ProxySettings = Pick<
  LoadBalancerClusterModel,
  'stickyCookieName' | 'serverTimeoutSeconds' | 'readTimeoutSeconds' | 'longRequestPaths' | 'closeSessionsOnServerDown' | 'serverTcpKeepAlive' | 'serverChecks' | 'tlsCertificate'
>;

/** The sticky cookie, timeouts, long requests, server checks and certificate of the load-balancer cluster. */
export function build(spec: FabricSpec, _context: BuildContext, problems: ProblemCollector): ProxySettings {
  const lb = spec.loadBalancer ?? {};
  const cookie = lb.stickyCookieName ?? D.DEFAULT_STICKY_COOKIE_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookie)) {
    problems.add('loadBalancer.stickyCookieName', `cookie name '${cookie}' is not a plain token`, "use letters, digits, '_' or '-'");
  }

  const serverTimeoutSeconds = positiveInteger('loadBalancer.serverTimeoutSeconds', lb.serverTimeoutSeconds ?? D.DEFAULT_SERVER_TIMEOUT_SECONDS, problems);
  // The default never exceeds a shorter serverTimeoutSeconds; only a given value above it is refused.
  const readTimeoutSeconds = lb.readTimeoutSeconds ?? Math.min(D.DEFAULT_READ_TIMEOUT_SECONDS, serverTimeoutSeconds);
  if (typeof readTimeoutSeconds !== 'number' || !Number.isFinite(readTimeoutSeconds) || readTimeoutSeconds < 0.1 || Math.round(readTimeoutSeconds * 1000) !== readTimeoutSeconds * 1000) {
    problems.add('loadBalancer.readTimeoutSeconds', `read timeout ${String(readTimeoutSeconds)} s is not a number of seconds of at least 0.1, in whole milliseconds`, `give e.g. ${D.DEFAULT_READ_TIMEOUT_SECONDS} (the default), above the slowest GET the application answers`);
  } else if (readTimeoutSeconds > serverTimeoutSeconds) {
    problems.add('loadBalancer.readTimeoutSeconds', `read timeout ${readTimeoutSeconds} s is longer than serverTimeoutSeconds ${serverTimeoutSeconds} s`, `lower it, or raise serverTimeoutSeconds to at least ${Math.ceil(readTimeoutSeconds)}`);
  }
  const longRequestPaths = lb.longRequestPaths ?? [];
  if (!Array.isArray(longRequestPaths)) problems.add('loadBalancer.longRequestPaths', 'is not a list', "give path prefixes, e.g. ['/reports/', '/export']");
  else
    longRequestPaths.forEach((p, i) => {
      // HAProxy reads the prefixes as words of an ACL: no space, quote, brace or '#' may reach it.
      if (typeof p !== 'string' || !/^\/[A-Za-z0-9/._~%!$&*+,;=:@-]*$/.test(p)) {
        problems.add(`loadBalancer.longRequestPaths[${i}]`, `'${String(p)}' is not a URL path prefix`, "start it with '/' and use only URL path characters (no spaces, quotes, parentheses or '#')");
      }
    });

  const serverChecks = buildServerChecks('loadBalancer.serverChecks', lb.serverChecks, problems);
  const tlsCertificate = lb.tlsCertificate ?? D.DEFAULT_TLS_CERTIFICATE;
  if (tlsCertificate !== 'generated' && tlsCertificate !== 'terraform-variables') {
    problems.add('loadBalancer.tlsCertificate', `certificate source '${String(tlsCertificate)}' is unknown`, "use 'generated' (the default, self-signed) or 'terraform-variables' (your own certificate and key)");
  }

  return {
    stickyCookieName: cookie,
    serverTimeoutSeconds,
    readTimeoutSeconds,
    longRequestPaths: Array.isArray(longRequestPaths) ? [...longRequestPaths] : [],
    closeSessionsOnServerDown: lb.closeSessionsOnServerDown ?? D.DEFAULT_CLOSE_SESSIONS_ON_SERVER_DOWN,
    serverTcpKeepAlive: lb.serverTcpKeepAlive ?? D.DEFAULT_SERVER_TCP_KEEPALIVE,
    serverChecks,
    tlsCertificate,
  };
}

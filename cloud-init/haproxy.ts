import { FabricModel, NodeModel, nodeByName, ServerChecks } from '../model/fabric-model';
import { BACKEND_CONNECT_TIMEOUT_SECONDS } from '../model/server-checks';
import { generatedHeader, RenderedFile } from './rendered-file';

/** Secrets HAProxy needs; in a synthesized plan these are Terraform references, never literals. */
export interface HaproxySecrets {
  /** Password of the `stats` user on the stats/Prometheus endpoint. */
  readonly statsPassword: string;
  /** Base64 of the PEM bundle (certificate, then private key) HAProxy terminates TLS with. */
  readonly tlsBundlePemBase64: string;
}

/** How a backend notices a server that died without a word (a power loss sends no RST). */
interface DeadServerHandling {
  readonly checks: ServerChecks;
  /** A TCP connect check, no answer to wait for. */
  readonly connectOnly: boolean;
  /** The prop names, for the comments: where an operator changes them. */
  readonly props: { readonly checks: string; readonly sessions: string; readonly keepalive: string };
  readonly closeSessionsOnServerDown: boolean;
  readonly serverTcpKeepAlive: boolean;
}

/** The `default-server` line of a backend's checks; a DOWN server is checked every second, enough to bring it back. */
const checkTiming = (c: ServerChecks) =>
  `default-server inter ${haproxyTime(c.intervalSeconds)} fastinter ${haproxyTime(c.fastIntervalSeconds)} downinter 1s fall ${c.fall} rise ${c.rise}`;

/**
 * A backend's checks, and TCP keepalive on the connections a request or a
 * passed-through session is waiting on. Each line says why, in the rendered file.
 */
function deadServerLines(d: DeadServerHandling): string[] {
  const c = d.checks;
  const keepalive = d.serverTcpKeepAlive
    ? [
        '    # A connection to a server that vanished fails after about 3 s of silence (first',
        '    # keepalive probe after 1 s idle, dead after 2 unanswered 1 s apart), even if the',
        `    # checks never mark it DOWN (${d.props.keepalive}).`,
        '    option srvtcpka',
        '    srvtcpka-idle 1s',
        '    srvtcpka-intvl 1s',
        '    srvtcpka-cnt 2',
      ]
    : [];
  const answer = d.connectOnly ? '' : ' or its answer over `timeout check` (1 s)';
  const checks = [
    `    # Checked every ${c.intervalSeconds} s (${d.props.checks}). A check fails when its connect`,
    `    # takes over ${c.checkConnectTimeoutSeconds} s${answer}; ${c.fall} failures in a row,`,
    `    # ${c.fastIntervalSeconds} s apart, are a DOWN. A dead server is out within ${c.downWithinSeconds} s; a stall`,
    `    # shorter than ${c.stallToleranceSeconds} s (a hypervisor pause) is no DOWN.`,
  ];
  const sessions = d.closeSessionsOnServerDown
    ? [
        `    # Once DOWN, the sessions still open to it are closed (${d.props.sessions}): nothing waits`,
        '    # on a dead server for its timeout; a kept-alive client connection is reset.',
        `    ${checkTiming(c)} on-marked-down shutdown-sessions`,
      ]
    : [
        `    # Sessions on a server marked DOWN are kept (${d.props.sessions} off): closing them would`,
        '    # reset the clients that use them; they end when their own timeouts strike.',
        `    ${checkTiming(c)}`,
      ];
  return [...keepalive, ...checks, ...sessions];
}

/** HAProxy's time format in whole milliseconds (`1500ms`), or seconds when whole (`60s`). */
const haproxyTime = (seconds: number) => (Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`);

/**
 * A read in flight to a node that lost power waits for an answer that never
 * comes (no RST): a short server timeout for reads alone sends it to another
 * server (retry-on response-timeout, redispatch) within readTimeoutSeconds,
 * while writes and the reads that may take long keep `timeout server`.
 */
function readTimeoutLines(lb: FabricModel['loadBalancer']): string[] {
  const long = ['{ req.hdr(upgrade) -m found }', '{ req.hdr(accept) -m sub text/event-stream }', ...(lb.longRequestPaths.length ? [`{ path_beg ${lb.longRequestPaths.join(' ')} }`] : [])];
  return [
    `    # A read not answered within ${lb.readTimeoutSeconds} s (readTimeoutSeconds) goes to another server: a node that lost`,
    '    # power sends no RST, and this bounds how long a read in flight to it waits. WebSocket',
    `    # upgrades, event streams${lb.longRequestPaths.length ? ' and longRequestPaths' : ''} keep \`timeout server\` (${lb.serverTimeoutSeconds} s); the later rule wins.`,
    `    http-request set-timeout server ${haproxyTime(lb.readTimeoutSeconds)} if METH_GET || METH_HEAD || METH_OPTIONS`,
    `    http-request set-timeout server ${lb.serverTimeoutSeconds}s if ${long.join(' || ')}`,
  ];
}

/** TLS 1.2 suites: ECDHE with AES-GCM or ChaCha20-Poly1305, for ECDSA and RSA certificates (a certificate brought by the operator may be RSA). */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/**
 * Browsers that reached the GUI or NBI over HTTPS stay on HTTPS. A browser
 * ignores the header on a connection whose certificate it does not trust
 * (RFC 6797, 8.1), so the generated self-signed certificate does not lock
 * anyone out: the header takes effect once the certificate is trusted.
 */
const HSTS = '    http-response set-header Strict-Transport-Security "max-age=31536000"';

/** The named defaults sections: every proxy names the one it takes its settings from. */
const HTTP_DEFAULTS = 'http';
const HTTPS_CLIENT_DEFAULTS = 'https_clients';
const TCP_DEFAULTS = 'tcp';

/** The stats page's and the metrics' accounts. */
const STATS_USERLIST = 'stats_users';

/**
 * On a reload the old process would close its idle keep-alive connections at
 * once, racing a client that is just sending its next request on one (the VM
 * tier's day 2 saw ECONNRESET so). With this option the old process answers
 * that request and closes with it ("Connection: close"), and the client opens
 * its next connection to the new process.
 */
const IDLE_CLOSE_ON_RESPONSE = '    option idle-close-on-response';

export const HAPROXY_UNIT = 'haproxy.service';
export const HAPROXY_CONFIG = '/etc/haproxy/haproxy.cfg';
export const TLS_BUNDLE_PATH = '/etc/haproxy/certs/fabric.pem';
export const STATS_USER = 'stats';
export const HAPROXY_ADMIN_SOCKET = '/run/haproxy/admin.sock';
/**
 * Server states (DOWN, MAINT, drain, weights) saved here just before a reload
 * are what the new process starts from; without it a reload resets them.
 * Under /run: a state is worth keeping across a reload, not across a boot.
 */
export const HAPROXY_SERVER_STATE_FILE = '/run/haproxy/server-state';
/** What `show servers state` starts with, and what HAProxy reads without a warning when there is no state yet. */
export const HAPROXY_SERVER_STATE_VERSION = '1';
/** HAProxy's own health endpoint (monitor-uri), on loopback only. */
export const HAPROXY_HEALTH_HOST = '127.0.0.1';
export const HAPROXY_HEALTH_PATH = '/healthz';

/** The URL of HAProxy's health endpoint: probed by the watchdog, keepalived's check and the bundle agent. */
export function haproxyHealthUrl(model: FabricModel): string {
  return `http://${HAPROXY_HEALTH_HOST}:${model.loadBalancer.healthPort}${HAPROXY_HEALTH_PATH}`;
}

/**
 * HAProxy on a load-balancer node. TLS is terminated here (not passed
 * through) because session stickiness needs to see and set a cookie, as the
 * original's GUI sessions stay on one node.
 */
export function renderHaproxyCfg(model: FabricModel, node: NodeModel, secrets: HaproxySecrets): string {
  const lb = model.loadBalancer;
  const app = model.applicationServers;
  const servers = app.members.map((name) => nodeByName(model, name));
  const hc = app.service.healthCheck;
  const checkLines =
    hc.type === 'http'
      ? ['    option httpchk', `    http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr Host ${model.name}`, '    http-check expect status 200-399']
      : ['    # TCP connect check: the service has no HTTP health endpoint.'];
  const serverLines = servers.map(
    (s) => `    server ${s.name} ${s.managementAddress}:${app.service.port} check cookie ${s.name}`,
  );
  const cidr = model.network.cidr;
  return [
    generatedHeader(model, node, 'HAProxy configuration'),
    '',
    'global',
    '    log /dev/log local0',
    '    log /dev/log local1 notice',
    '    chroot /var/lib/haproxy',
    `    stats socket ${HAPROXY_ADMIN_SOCKET} mode 660 level admin`,
    '    user haproxy',
    '    group haproxy',
    '    daemon',
    '    # Saved by fabric-apply-bundle just before a reload, so server states survive it.',
    `    server-state-file ${HAPROXY_SERVER_STATE_FILE}`,
    '    # TLS 1.3, and TLS 1.2 with forward secrecy and AEAD only: no CBC, no SHA-1 MACs, no RSA key exchange.',
    `    ssl-default-bind-ciphers ${TLS12_CIPHERS.join(':')}`,
    '    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    '    ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    // Not `zero-warning`: every check of a configuration is zero-warning (fabric-apply-bundle's
    // haproxy -dW -c, the real-tools tier), but at a reload the saved server states can make HAProxy
    // warn (a server the new configuration no longer has), and zero-warning would abort that reload.
    '',
    '# Every HTTP proxy: logging, timeouts, retries.',
    `defaults ${HTTP_DEFAULTS}`,
    '    mode http',
    '    log global',
    '    option httplog',
    '    option dontlognull',
    '    load-server-state-from-file global',
    // A dead node's connect attempts must fail fast so the retry lands elsewhere.
    `    timeout connect ${BACKEND_CONNECT_TIMEOUT_SECONDS}s`,
    '    timeout client 60s',
    // For requests that may not be replayed, and the long reads (see readTimeoutLines).
    `    timeout server ${lb.serverTimeoutSeconds}s`,
    '    timeout http-request 10s',
    '    timeout check 1s',
    // Retry on another server: a request lost to a dying node is re-sent, so
    // clients see no error for idempotent requests.
    '    retries 3',
    '    option redispatch 1',
    '    retry-on conn-failure empty-response junk-response response-timeout 503',
    '',
    '# The clients\' HTTPS frontends (GUI and NBI): what the application servers learn of the client,',
    '# and what its browser is told.',
    `defaults ${HTTPS_CLIENT_DEFAULTS} from ${HTTP_DEFAULTS}`,
    '    option forwardfor',
    IDLE_CLOSE_ON_RESPONSE,
    '    http-request set-header X-Forwarded-Proto https',
    HSTS,
    '',
    '# Answers 200 while HAProxy runs; probed by the fabric watchdog on loopback.',
    `frontend health from ${HTTP_DEFAULTS}`,
    `    bind ${HAPROXY_HEALTH_HOST}:${lb.healthPort}`,
    `    monitor-uri ${HAPROXY_HEALTH_PATH}`,
    '',
    '# GUI clients, on the fabric VIP (non-local bind lets the standby listen before it holds the VIP).',
    `frontend gui from ${HTTPS_CLIENT_DEFAULTS}`,
    `    bind ${model.vip}:${lb.guiPort} ssl crt ${TLS_BUNDLE_PATH}`,
    '    default_backend application_servers',
    '',
    ...lb.nbiPorts.flatMap((port) => [
      `# Northbound API clients on port ${port}.`,
      `frontend nbi_${port} from ${HTTPS_CLIENT_DEFAULTS}`,
      `    bind ${model.vip}:${port} ssl crt ${TLS_BUNDLE_PATH}`,
      '    default_backend application_servers',
      '',
    ]),
    '# Every application server, round robin; a session cookie keeps a GUI user on one node.',
    `backend application_servers from ${HTTP_DEFAULTS}`,
    '    balance roundrobin',
    `    cookie ${lb.stickyCookieName} insert indirect nocache httponly secure`,
    // Only idempotent requests may be replayed on another server.
    '    http-request disable-l7-retry unless METH_GET || METH_HEAD || METH_OPTIONS || METH_PUT || METH_DELETE',
    ...readTimeoutLines(lb),
    ...checkLines,
    ...deadServerLines({
      checks: lb.serverChecks,
      connectOnly: hc.type !== 'http',
      props: { checks: 'loadBalancer.serverChecks', sessions: 'closeSessionsOnServerDown', keepalive: 'serverTcpKeepAlive' },
      closeSessionsOnServerDown: lb.closeSessionsOnServerDown,
      serverTcpKeepAlive: lb.serverTcpKeepAlive,
    }),
    ...serverLines,
    '',
    ...monitoringFrontend(model),
    ...deviceFrontends(model),
    `userlist ${STATS_USERLIST}`,
    // Not hashed: a crypt hash made by Terraform (bcrypt) changes on every plan. The file is 0640 root:haproxy.
    `    user ${STATS_USER} insecure-password ${secrets.statsPassword}`,
    '',
    '# Stats page and Prometheus metrics: on this node\'s own address, management network only, password required.',
    `frontend stats from ${HTTP_DEFAULTS}`,
    `    bind ${node.managementAddress}:${lb.statsPort}`,
    `    acl management_network src ${cidr} 127.0.0.0/8`,
    '    http-request deny unless management_network',
    '    # Before the exporter: the metrics name every server and its state, as the stats page does.',
    `    http-request auth realm appliance-fabric unless { http_auth(${STATS_USERLIST}) }`,
    '    http-request use-service prometheus-exporter if { path /metrics }',
    '    stats enable',
    '    stats uri /stats',
    '    stats refresh 5s',
    '    stats hide-version',
    '',
  ].join('\n');
}

/**
 * Managed devices connect to the device VIP; each listed port is passed
 * through (TCP, no TLS termination) to the application servers on the same
 * port. Device sessions are long-lived and mostly idle: least connections
 * spreads them, and the idle timeouts are an hour rather than a minute.
 */
function deviceFrontends(model: FabricModel): string[] {
  const dn = model.deviceNetwork;
  if (!dn?.vrrp || dn.tcpPorts.length === 0) return [];
  const servers = model.applicationServers.members.map((name) => nodeByName(model, name));
  return [
    '# Managed devices\' sessions, passed through: long-lived and mostly idle (an hour, not a minute).',
    `defaults ${TCP_DEFAULTS}`,
    '    mode tcp',
    '    log global',
    '    option tcplog',
    '    option dontlognull',
    '    load-server-state-from-file global',
    `    timeout connect ${BACKEND_CONNECT_TIMEOUT_SECONDS}s`,
    '    timeout client 1h',
    '    timeout server 1h',
    '    timeout check 1s',
    '    retries 3',
    '    option redispatch 1',
    '',
    ...dn.tcpPorts.flatMap((port) => [
      `# Managed devices on the device VIP, port ${port}, passed through to every application server.`,
      `frontend device_${port} from ${TCP_DEFAULTS}`,
      `    bind ${dn.vrrp!.vip}:${port}`,
      `    default_backend device_${port}`,
      '',
      `backend device_${port} from ${TCP_DEFAULTS}`,
      '    balance leastconn',
      '    # TCP connect checks.',
      ...deadServerLines({
        checks: dn.serverChecks,
        connectOnly: true,
        props: { checks: 'deviceNetwork.serverChecks', sessions: 'deviceNetwork.closeSessionsOnServerDown', keepalive: 'deviceNetwork.serverTcpKeepAlive' },
        closeSessionsOnServerDown: dn.closeSessionsOnServerDown,
        serverTcpKeepAlive: dn.serverTcpKeepAlive,
      }),
      ...servers.map((s) => `    server ${s.name} ${s.managementAddress}:${port} check`),
      '',
    ]),
  ];
}

/** With no dedicated monitoring nodes, monitoring clients use the fabric VIP and reach the active balancer's service. */
function monitoringFrontend(model: FabricModel): string[] {
  const mon = model.monitoring;
  if (mon.dedicated) return [];
  const members = mon.members.map((name) => nodeByName(model, name));
  const check = mon.service.healthCheck.type === 'http' ? ['    option httpchk', `    http-check send meth GET uri ${mon.service.healthCheck.path} ver HTTP/1.1 hdr Host ${model.name}`] : [];
  return [
    '# Monitoring runs hot on both balancers; clients on the VIP reach the first, the other is backup.',
    `frontend monitoring from ${HTTP_DEFAULTS}`,
    `    bind ${model.vip}:${mon.service.port}`,
    '    option forwardfor',
    IDLE_CLOSE_ON_RESPONSE,
    '    default_backend monitoring',
    '',
    `backend monitoring from ${HTTP_DEFAULTS}`,
    ...check,
    '    default-server inter 500ms fall 2 rise 2',
    ...members.map((m, i) => `    server ${m.name} ${m.managementAddress}:${mon.service.port} check${i > 0 ? ' backup' : ''}`),
    '',
  ];
}

export function haproxyFiles(model: FabricModel, node: NodeModel, secrets: HaproxySecrets): RenderedFile[] {
  if (!node.roles.includes('load-balancer')) return [];
  return [
    { path: HAPROXY_CONFIG, content: renderHaproxyCfg(model, node, secrets), permissions: '0640', owner: 'root:haproxy' },
    { path: TLS_BUNDLE_PATH, content: secrets.tlsBundlePemBase64, permissions: '0640', owner: 'root:haproxy', base64: true },
    // The standby binds the VIPs before it holds them: net.ipv4.ip_nonlocal_bind, set on every node (sysctl.ts).
  ];
}

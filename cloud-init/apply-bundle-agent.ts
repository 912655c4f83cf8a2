import { FabricModel, NodeModel } from '../model/fabric-model';
import { serviceUnitName } from './application-service';
import { readAsset } from './assets';
import { FIREWALL_CONFIG } from './firewall';
import { HAPROXY_ADMIN_SOCKET, HAPROXY_CONFIG, HAPROXY_SERVER_STATE_FILE, haproxyHealthUrl } from './haproxy';
import { KEEPALIVED_CONFIG, KEEPALIVED_RELOAD_FILE, KEEPALIVED_UNIT, KEEPALIVED_RELOAD_TIME_FILE, vrrpInstancesOf, vrrpStateFile } from './keepalived';
import { DATABASE_ACCOUNTS_SCRIPT } from './node-paths';
import { ETC_DIR, generatedHeader, LIB_DIR, RenderedFile, STATE_DIR } from './rendered-file';
import { WATCHDOG_UNIT } from './watchdog';

/**
 * The node agent that applies a configuration bundle (see bundle.ts) on a
 * running node: a real script, cloud-init/assets/fabric-apply-bundle, written
 * to every node at first boot, and its settings file, which is part of every
 * bundle (its values follow the fabric's settings).
 */
export const APPLY_BUNDLE_ASSET = 'fabric-apply-bundle';
export const APPLY_BUNDLE_SCRIPT = `${LIB_DIR}/${APPLY_BUNDLE_ASSET}`;
export const APPLY_BUNDLE_CONF = `${ETC_DIR}/apply-bundle.conf`;
/** What the agent applied last: `bundle <hash>`, when, which files, which daemons; readable by the operator. */
export const APPLIED_BUNDLE_FILE = `${STATE_DIR}/applied-bundle`;
/**
 * How long the agent waits for a reloaded daemon to take its new files up
 * before it puts the previous ones back. A reload takes well under a second
 * on a real host; 10 s was too short for the active balancer of the VM tier
 * under load (TCG), which rolled a good bundle back. Only a failing reload
 * waits this long.
 */
const RELOAD_TIMEOUT_SECONDS = 30;

/**
 * How long a VRRP reload that should move no VIP is watched: a peer notices a
 * silent master after three advert intervals, and a check that started failing
 * counts after its two falls.
 */
export function vrrpSettleSeconds(model: FabricModel, node: NodeModel): number {
  const instances = vrrpInstancesOf(model, node);
  return Math.ceil(Math.max(0, ...instances.map((i) => 3 * i.advertIntervalSeconds + 2 * i.checkIntervalSeconds)));
}

/**
 * What must answer before a node is configured with --wait-ready: its
 * application service's HTTP health check on its own address (an application server enters its
 * balancers' rotation only once it serves) and HAProxy's own health endpoint.
 */
export function readyUrlsOf(model: FabricModel, node: NodeModel): string[] {
  const urls: string[] = [];
  const application = applicationReadyUrl(model, node);
  if (application) urls.push(application);
  if (node.roles.includes('load-balancer')) urls.push(haproxyHealthUrl(model));
  return urls;
}

/** The application service's HTTP health check on the node's own address; undefined on a node that is no application server, or when the check is not HTTP. */
export function applicationReadyUrl(model: FabricModel, node: NodeModel): string | undefined {
  const service = model.applicationServers.service;
  if (!node.roles.includes('application-server') || service.healthCheck.type !== 'http') return undefined;
  return `http://${node.managementAddress}:${service.port}${service.healthCheck.path}`;
}

/** The application service's unit on the node, or undefined on a node that is no application server. */
export function applicationUnitOf(model: FabricModel, node: NodeModel): string | undefined {
  return node.roles.includes('application-server') ? serviceUnitName(model.applicationServers.service) : undefined;
}

/**
 * Who sends this node traffic through the balancers, and on which ports:
 * `fabric-apply-bundle --retire` waits until none of them has for a while
 * before the node's VM is destroyed.
 */
export function retireSettingsOf(model: FabricModel, node: NodeModel): { peers: string[]; ports: number[] } {
  const peers = model.nodes.filter((n) => n.name !== node.name && model.loadBalancer.members.includes(n.name)).map((n) => n.managementAddress);
  const ports: number[] = [];
  if (node.roles.includes('application-server')) ports.push(model.applicationServers.service.port);
  if (model.monitoring.members.includes(node.name)) ports.push(model.monitoring.service.port);
  return { peers, ports: [...new Set(ports)] };
}

/** Long enough to see several of HAProxy's server checks (every 200 ms) and its retries to a DOWN server (every 1 s). */
const RETIRE_QUIET_SECONDS = 3;

export function renderApplyBundleConf(model: FabricModel, node: NodeModel): string {
  const balancer = node.roles.includes('load-balancer');
  return [
    generatedHeader(model, node, `Settings of ${APPLY_BUNDLE_SCRIPT}`),
    '# Read by the agent that applies configuration bundles on this running node; every bundle brings its own copy.',
    `STATE_DIR=${STATE_DIR}`,
    `FIREWALL_CONFIG=${FIREWALL_CONFIG}`,
    'HAPROXY_UNIT=haproxy.service',
    `HAPROXY_CONFIG=${HAPROXY_CONFIG}`,
    `HAPROXY_ADMIN_SOCKET=${HAPROXY_ADMIN_SOCKET}`,
    `HAPROXY_STATE_FILE=${HAPROXY_SERVER_STATE_FILE}`,
    // Empty where there is no HAProxy.
    `HAPROXY_HEALTH_URL=${balancer ? haproxyHealthUrl(model) : ''}`,
    `KEEPALIVED_UNIT=${KEEPALIVED_UNIT}`,
    `KEEPALIVED_CONFIG=${KEEPALIVED_CONFIG}`,
    `KEEPALIVED_RELOAD_FILE=${KEEPALIVED_RELOAD_FILE}`,
    `KEEPALIVED_RELOAD_TIME_FILE=${KEEPALIVED_RELOAD_TIME_FILE}`,
    `VRRP_SETTLE_SECONDS=${vrrpSettleSeconds(model, node)}`,
    `WATCHDOG_UNIT=${WATCHDOG_UNIT}.service`,
    // Empty where there is no database.
    `DATABASE_ACCOUNTS_SCRIPT=${node.roles.includes('database') ? DATABASE_ACCOUNTS_SCRIPT : ''}`,
    '# The application service the agent restarts when its database client settings change (empty where there is none).',
    `APPLICATION_UNIT=${applicationUnitOf(model, node) ?? ''}`,
    '# What must answer HTTP 2xx after that restart (empty where there is no application or its health check is not HTTP: then its restarted main process must keep running for 3 s).',
    `APPLICATION_READY_URL=${applicationReadyUrl(model, node) ?? ''}`,
    `RELOAD_TIMEOUT_SECONDS=${RELOAD_TIMEOUT_SECONDS}`,
    '# With --wait-ready, the agent waits until these answer (space-separated) before it configures a new node.',
    `READY_URLS=${readyUrlsOf(model, node).join(' ')}`,
    '# With --retire (before this node leaves the fabric), the agent waits until these balancers have not used these ports for RETIRE_QUIET_SECONDS.',
    `RETIRE_PEERS=${retireSettingsOf(model, node).peers.join(' ')}`,
    `RETIRE_PORTS=${retireSettingsOf(model, node).ports.join(' ')}`,
    `RETIRE_QUIET_SECONDS=${RETIRE_QUIET_SECONDS}`,
    '# One line per VRRP instance of this node: name, VIP, the file its notify hook records its state in.',
    ...vrrpInstancesOf(model, node).map((i) => `VRRP_INSTANCE=${i.name} ${i.vip} ${vrrpStateFile(i.name)}`),
    '',
  ].join('\n');
}

export function applyBundleAgentFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  return [
    { path: APPLY_BUNDLE_SCRIPT, content: readAsset(APPLY_BUNDLE_ASSET), permissions: '0755' },
    { path: APPLY_BUNDLE_CONF, content: renderApplyBundleConf(model, node), permissions: '0644' },
  ];
}

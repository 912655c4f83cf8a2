import { ApplicationService, FabricModel, NodeModel } from '../model/fabric-model';
import { serviceUnitName } from './application-service';
import { renderAsset } from './assets';
import { CASSANDRA_UNIT } from './cassandra';
import { DATABASE_UNIT } from './database';
import { HAPROXY_SERVER_STATE_FILE, HAPROXY_SERVER_STATE_VERSION, HAPROXY_UNIT, haproxyHealthUrl } from './haproxy';
import { eligibilityFile, KEEPALIVED_UNIT, SCRIPT_USER, vrrpInstancesOf } from './keepalived';
import { DATABASE_CHECK_SCRIPT, PROBES_ASSET, PROBES_LIBRARY } from './node-paths';
import { ETC_DIR, generatedHeader, LIB_DIR, RenderedFile, RUN_DIR } from './rendered-file';
import { RESTART_POLICY_SERVICE_LINES, RESTART_POLICY_UNIT_LINES } from './restart-policy';

/**
 * Self-healing on every node, in three layers that never drive the same
 * thing twice:
 *  1. systemd `Restart=` brings back a service that exits or crashes;
 *  2. the fabric watchdog probes each service and restarts one that is
 *     alive but not answering (hung); when a service the node's VIPs depend
 *     on keeps failing, it takes the node out of every VIP election;
 *  3. the Linux `watchdog` daemon feeds the virtual watchdog device, so a
 *     hung kernel resets the VM. It does not watch services (that is 1 and 2):
 *     its repair actions fighting systemd's restarts rebooted nodes.
 */

/** One service the fabric watchdog probes. */
export interface Probe {
  readonly name: string;
  readonly unit: string;
  readonly type: 'http' | 'tcp' | 'command' | 'process';
  /** URL, host:port, shell command or process name. */
  readonly target: string;
  /** The VRRP instance whose VIP depends on it: repeated failure moves that VIP away. */
  readonly vipInstance?: string;
  /** Seconds after a (re)start during which failed probes do not count, when the fabric-wide default is too short. */
  readonly startupGraceSeconds?: number;
}

/**
 * Cassandra listens for clients only after the JVM has started, the commit
 * log has been replayed and gossip has settled: often a minute, more after
 * an unclean stop. Probed with the fabric default (10 s) it would be killed
 * while starting, again and again.
 */
const CASSANDRA_STARTUP_GRACE_SECONDS = 300;

export const WATCHDOG_ASSET = 'fabric-watchdog';
export const WATCHDOG_SCRIPT = `${LIB_DIR}/${WATCHDOG_ASSET}`;
export const WATCHDOG_CONF = `${ETC_DIR}/watchdog.conf`;
export const WATCHDOG_UNIT = 'fabric-watchdog';
/** The Linux watchdog daemon, which feeds the hardware watchdog (distinct from fabric-watchdog). */
export const LINUX_WATCHDOG_UNIT = 'watchdog.service';
export const REMOVE_STALE_VIPS_ASSET = 'remove-stale-vips';
export const REMOVE_STALE_VIPS_SCRIPT = `${LIB_DIR}/${REMOVE_STALE_VIPS_ASSET}`;

export function probesOf(model: FabricModel, node: NodeModel): Probe[] {
  const probes: Probe[] = [];
  if (node.roles.includes('load-balancer')) {
    probes.push({ name: 'haproxy', unit: HAPROXY_UNIT, type: 'http', target: haproxyHealthUrl(model), vipInstance: model.loadBalancer.vrrp.name });
  }
  if (vrrpInstancesOf(model, node).length > 0) {
    probes.push({ name: 'keepalived', unit: KEEPALIVED_UNIT, type: 'process', target: 'keepalived' });
  }
  if (node.roles.includes('database') && model.database) {
    // The same question keepalived's chk_database asks: its script, not a copy of its command.
    probes.push({ name: 'mariadb', unit: DATABASE_UNIT, type: 'command', target: DATABASE_CHECK_SCRIPT, vipInstance: model.database.vrrp.name });
  }
  if (node.roles.includes('application-server')) {
    // An application server's failure is HAProxy's to route around; it never moves a VIP.
    probes.push(serviceProbe(model.applicationServers.service, node));
  }
  if (model.monitoring.members.includes(node.name)) {
    probes.push({ ...serviceProbe(model.monitoring.service, node), vipInstance: model.monitoring.vrrp?.name });
  }
  if (node.roles.includes('cassandra')) {
    probes.push({ name: 'cassandra', unit: CASSANDRA_UNIT, type: 'tcp', target: `${node.managementAddress}:9042`, startupGraceSeconds: CASSANDRA_STARTUP_GRACE_SECONDS });
  }
  return probes;
}

function serviceProbe(service: ApplicationService, node: NodeModel): Probe {
  const hc = service.healthCheck;
  const target =
    hc.type === 'http' ? `http://${node.managementAddress}:${service.port}${hc.path}` : hc.type === 'tcp' ? `${node.managementAddress}:${service.port}` : hc.command!;
  return { name: service.name, unit: serviceUnitName(service), type: hc.type, target };
}

export function renderWatchdogConf(model: FabricModel, node: NodeModel): string {
  const wd = model.watchdog;
  return [
    generatedHeader(model, node, 'Fabric watchdog configuration'),
    '',
    `PROBE_INTERVAL=${wd.probeIntervalSeconds}`,
    `STARTUP_GRACE=${wd.startupGraceSeconds}`,
    `FAILURES_BEFORE_RESTART=${wd.failuresBeforeRestart}`,
    `RESTARTS_BEFORE_FAILOVER=${wd.restartsBeforeFailover}`,
    `RESTART_WINDOW=${wd.restartWindowSeconds}`,
    `ELIGIBILITY_PREFIX=${eligibilityFile('')}`,
    `STATE_DIR=${RUN_DIR}/watchdog`,
    '',
    '# One probe per line: PROBE=name|systemd unit|http, tcp, command or process|target|VRRP instance that depends on it (- for none)|startup grace in seconds (- for STARTUP_GRACE)',
    ...probesOf(model, node).map((p) => `PROBE=${p.name}|${p.unit}|${p.type}|${p.target}|${p.vipInstance ?? '-'}|${p.startupGraceSeconds ?? '-'}`),
    '',
  ].join('\n');
}

/**
 * The watchdog itself: cloud-init/assets/fabric-watchdog, the same on every
 * node but for its header; what it watches is in WATCHDOG_CONF.
 */
export function renderWatchdogScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(WATCHDOG_ASSET, generatedHeader(model, node, 'Health-probing watchdog'));
}

/** The probe library (cloud-init/assets/fabric-probes) that the watchdog and keepalived's checks source: on every node. */
export function renderProbeLibrary(model: FabricModel, node: NodeModel): string {
  return renderAsset(PROBES_ASSET, generatedHeader(model, node, 'HTTP and TCP probes (a library, sourced)'));
}

export function restartDropIn(model: FabricModel, node: NodeModel, unit: string, extra: string[] = []): RenderedFile {
  return {
    path: `/etc/systemd/system/${unit}.d/50-appliance-fabric-restart.conf`,
    content: [
      generatedHeader(model, node, `systemd restart policy of ${unit}`),
      '[Unit]',
      ...RESTART_POLICY_UNIT_LINES,
      '',
      '[Service]',
      ...RESTART_POLICY_SERVICE_LINES,
      ...extra,
      '',
    ].join('\n'),
    permissions: '0644',
  };
}

/**
 * keepalived's ExecStopPost (cloud-init/assets/remove-stale-vips): removes the VIPs of
 * keepalived.conf that a stopped keepalived left behind. It reads them from that file, which
 * the configuration bundle keeps current, so the script is the same on every node.
 */
export function renderRemoveStaleVipsScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(REMOVE_STALE_VIPS_ASSET, generatedHeader(model, node, 'Stale VIP cleanup'));
}

/** The Linux watchdog daemon: it only feeds the device (no service tests, see above). */
export function renderLinuxWatchdogConf(model: FabricModel, node: NodeModel): string {
  return [
    generatedHeader(model, node, 'Linux watchdog daemon configuration'),
    '# It only keeps the virtual watchdog device fed: a hung kernel stops feeding it',
    `# and the hypervisor resets the VM after ${model.watchdog.hardwareTimeoutSeconds} s. Services are watched by ${WATCHDOG_UNIT}.`,
    'watchdog-device = /dev/watchdog',
    `watchdog-timeout = ${model.watchdog.hardwareTimeoutSeconds}`,
    'interval = 5',
    'realtime = yes',
    'priority = 1',
    '',
  ].join('\n');
}

export function watchdogFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  const files: RenderedFile[] = [
    { path: WATCHDOG_CONF, content: renderWatchdogConf(model, node), permissions: '0644' },
    { path: WATCHDOG_SCRIPT, content: renderWatchdogScript(model, node), permissions: '0755' },
    // Sourced, not run; root's like the scripts beside it (keepalived's script security).
    { path: PROBES_LIBRARY, content: renderProbeLibrary(model, node), permissions: '0644' },
    {
      path: `/etc/systemd/system/${WATCHDOG_UNIT}.service`,
      content: [
        generatedHeader(model, node, 'Fabric watchdog unit'),
        '[Unit]',
        'Description=appliance-fabric health-probing watchdog',
        'After=network-online.target',
        'Wants=network-online.target',
        '',
        '[Service]',
        `ExecStart=${WATCHDOG_SCRIPT}`,
        'Restart=always',
        'RestartSec=1',
        '',
        '[Install]',
        'WantedBy=multi-user.target',
        '',
      ].join('\n'),
      permissions: '0644',
    },
    {
      path: '/etc/tmpfiles.d/appliance-fabric.conf',
      content: [
        generatedHeader(model, node, 'Runtime directory'),
        `# Root-only: the watchdog, keepalived's hooks and the bundle agent write here as root;`,
        `# keepalived's checks (${SCRIPT_USER}) only read.`,
        `d ${RUN_DIR} 0755 root root -`,
        ...(node.roles.includes('load-balancer')
          ? [
              // Without it HAProxy warns at every start until the first reload has saved a state.
              '# HAProxy\'s server states, saved before each reload; an empty state until then.',
              `f ${HAPROXY_SERVER_STATE_FILE} 0644 root root - ${HAPROXY_SERVER_STATE_VERSION}\\n`,
            ]
          : []),
        '',
      ].join('\n'),
      permissions: '0644',
    },
    { path: '/etc/watchdog.conf', content: renderLinuxWatchdogConf(model, node), permissions: '0644' },
    {
      path: '/etc/default/watchdog',
      content: [
        generatedHeader(model, node, 'Debian defaults of the watchdog daemon'),
        'run_watchdog=1',
        'run_wd_keepalive=0',
        // The module is loaded by our ExecStartPre (with softdog as fallback); the daemon must not load another.
        'watchdog_module="none"',
        'watchdog_options=""',
        '',
      ].join('\n'),
      permissions: '0644',
    },
    {
      path: '/etc/systemd/system.conf.d/50-appliance-fabric-watchdog.conf',
      content: `${generatedHeader(model, node, 'systemd manager settings')}\n# Exactly one program drives /dev/watchdog: the watchdog daemon, not systemd.\n[Manager]\nRuntimeWatchdogSec=off\n`,
      permissions: '0644',
    },
  ];
  files.push(...watchdogDriverFiles(model, node));
  if (vrrpInstancesOf(model, node).length > 0) {
    files.push(
      { path: REMOVE_STALE_VIPS_SCRIPT, content: renderRemoveStaleVipsScript(model, node), permissions: '0755' },
      restartDropIn(model, node, KEEPALIVED_UNIT, [`ExecStopPost=${REMOVE_STALE_VIPS_SCRIPT}`]),
    );
  }
  if (node.roles.includes('load-balancer')) files.push(restartDropIn(model, node, HAPROXY_UNIT));
  if (node.roles.includes('database')) files.push(restartDropIn(model, node, DATABASE_UNIT));
  if (node.roles.includes('cassandra')) files.push(restartDropIn(model, node, CASSANDRA_UNIT));
  return files;
}

/** Loads the hypervisor watchdog's driver before the watchdog daemon opens /dev/watchdog. */
export const WATCHDOG_DRIVER_ASSET = 'load-watchdog-driver';
export const WATCHDOG_DRIVER_SCRIPT = `${LIB_DIR}/${WATCHDOG_DRIVER_ASSET}`;

/**
 * The script that loads the platform's watchdog driver (cloud-init/assets/load-watchdog-driver),
 * run by watchdog.service before each start of the daemon, with the driver module as its argument;
 * without that driver it falls back to softdog, loudly (the asset says why that is degraded).
 */
export function renderWatchdogDriverScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(WATCHDOG_DRIVER_ASSET, generatedHeader(model, node, 'Watchdog driver loader'));
}

/** The script and the drop-in that runs it before the watchdog daemon at every start. */
function watchdogDriverFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  // A platform's constant, not a config value; one word on a unit's command line.
  if (!/^[A-Za-z0-9_-]+$/.test(model.watchdog.deviceModule)) throw new Error(`appliance-fabric: not a kernel module name: '${model.watchdog.deviceModule}'`);
  return [
    { path: WATCHDOG_DRIVER_SCRIPT, content: renderWatchdogDriverScript(model, node), permissions: '0755' },
    {
      path: '/etc/systemd/system/watchdog.service.d/40-appliance-fabric-driver.conf',
      content: [generatedHeader(model, node, 'watchdog driver before the watchdog daemon'), '[Service]', `ExecStartPre=${WATCHDOG_DRIVER_SCRIPT} ${model.watchdog.deviceModule}`, ''].join('\n'),
      permissions: '0644',
    },
  ];
}

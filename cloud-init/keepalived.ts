import { VRRP_SCRIPT_USER } from '../model/defaults';
import { FabricModel, NodeModel, VrrpInstance, vrrpInstances } from '../model/fabric-model';
import { renderAsset } from './assets';
import { HAPROXY_HEALTH_HOST, HAPROXY_HEALTH_PATH } from './haproxy';
import { monitoringCheckCommand } from './monitoring';
import { CHECK_SERVICE_ASSET, CHECK_SERVICE_SCRIPT, DATABASE_CHECK_SCRIPT, DATABASE_INELIGIBLE_FILE, DATABASE_NOTIFY_SCRIPT, NOTIFY_ASSET, NOTIFY_SCRIPT } from './node-paths';
export { NOTIFY_SCRIPT };
import { generatedHeader, RenderedFile, RUN_DIR } from './rendered-file';

export const KEEPALIVED_UNIT = 'keepalived.service';
export const KEEPALIVED_CONFIG = '/etc/keepalived/keepalived.conf';
/** keepalived deletes this file once it has read its configuration again after a reload (`reload_file`). */
export const KEEPALIVED_RELOAD_FILE = `${RUN_DIR}/keepalived.reload`;
/**
 * A time written into this file schedules a reload (`reload_time_file`): the
 * one way to reload every balancer at the same moment, for changes that VRRP
 * peers must agree on (a peer with a different VIP set takes the VIP too).
 */
export const KEEPALIVED_RELOAD_TIME_FILE = `${RUN_DIR}/keepalived-reload-time`;
/** Where the notify hook records an instance's last transition: `<epoch seconds> <state>`. */
export function vrrpStateFile(instanceName: string): string {
  return `${RUN_DIR}/vrrp-${instanceName}.state`;
}

/** User the check scripts run as (keepalived refuses root-owned scripts writable by others); the notify hooks run as root. */
export const SCRIPT_USER = VRRP_SCRIPT_USER;
/** File the watchdog writes a non-zero number into to take this node out of one VIP's election. */
export function eligibilityFile(instanceName: string): string {
  return `${RUN_DIR}/vrrp-ineligible-${instanceName}`;
}

/** The VRRP instances this node takes part in. */
export function vrrpInstancesOf(model: FabricModel, node: NodeModel): VrrpInstance[] {
  return vrrpInstances(model).filter((i) => i.members.some((m) => m.node === node.name));
}

/**
 * RFC 5798 §6.1's master-down interval for the fabric VIP's first standby:
 * 3 × advert + (256 − priority) / 256 × advert, in seconds (two decimals).
 */
function masterDownSeconds(model: FabricModel): string {
  const vrrp = model.loadBalancer.vrrp;
  const standby = vrrp.members[1] ?? vrrp.members[0];
  const advert = vrrp.advertIntervalSeconds;
  return (3 * advert + ((256 - standby.priority) / 256) * advert).toFixed(2);
}

/** A keepalived vrrp_script. */
interface TrackScript {
  readonly name: string;
  /** The program and its arguments. */
  readonly command: readonly string[];
  readonly intervalSeconds: number;
  readonly fall: number;
  readonly rise: number;
}

/**
 * keepalived's check of a hung HAProxy, the program and its arguments: its health endpoint must
 * answer (check-service, cloud-init/assets/check-service).
 */
export function haproxyCheckCommand(model: FabricModel): string[] {
  return [CHECK_SERVICE_SCRIPT, 'http', HAPROXY_HEALTH_HOST, String(model.loadBalancer.healthPort), HAPROXY_HEALTH_PATH];
}

/**
 * What a vrrp_script's `script` line holds: one double-quoted string that keepalived splits at
 * spaces into the program and its arguments and runs without a shell. So that every word reaches
 * the program as written, none may hold a space, a quote, a backslash or '$' (keepalived's
 * escapes and parameters) or '#'; '!' starts no comment inside the quotes. The model's validation
 * already keeps health check paths to such characters.
 */
const KEEPALIVED_SCRIPT_WORD = /^[A-Za-z0-9._~%/+=:@,?&!-]+$/;

function scriptValue(command: readonly string[]): string {
  const bad = command.find((word) => !KEEPALIVED_SCRIPT_WORD.test(word));
  if (bad !== undefined) throw new Error(`appliance-fabric: ${JSON.stringify(bad)} cannot be a word of a keepalived script line`);
  return `"${command.join(' ')}"`;
}

/**
 * The logging hook runs as root, like the database's: it writes the state
 * files in the root-only runtime directory, which the script user, whose
 * checks only read, must not be able to write (it could plant a symlink
 * that a root script then writes through).
 */
const ROOT_NOTIFY = `"${NOTIFY_SCRIPT}" root`;

/** What decides, per VIP, whether this node may hold it. */
function healthOf(model: FabricModel, node: NodeModel, instance: VrrpInstance): { processes: string[]; scripts: TrackScript[]; files: string[]; notify: string } {
  switch (instance.purpose) {
    case 'fabric':
    case 'device':
      // The VIP follows HAProxy's health, never an application server's: that one is HAProxy's to route around.
      // A crashed HAProxy is seen at once (process events); a hung one by its health endpoint after two failed checks.
      return {
        processes: ['haproxy'],
        scripts: [{ name: 'chk_haproxy', command: haproxyCheckCommand(model), intervalSeconds: instance.checkIntervalSeconds, fall: 2, rise: 2 }],
        files: [`watchdog_${instance.name}`],
        notify: ROOT_NOTIFY,
      };
    case 'database':
      // Up is checked here; writable is made true by promotion when this node becomes MASTER, and a
      // node whose data may be stale takes itself out through database_eligibility (see database.ts).
      return {
        processes: [],
        scripts: [{ name: 'chk_database', command: [DATABASE_CHECK_SCRIPT], intervalSeconds: instance.checkIntervalSeconds, fall: 2, rise: 2 }],
        files: [`watchdog_${instance.name}`, 'database_eligibility'],
        // Promotion and demotion need root; keepalived runs it as the user named after the script.
        notify: `"${DATABASE_NOTIFY_SCRIPT}" root`,
      };
    case 'monitoring':
      return {
        processes: [],
        scripts: [{ name: 'chk_monitoring', command: monitoringCheckCommand(model, node), intervalSeconds: instance.checkIntervalSeconds, fall: 2, rise: 2 }],
        files: [`watchdog_${instance.name}`],
        notify: ROOT_NOTIFY,
      };
  }
}

export function renderKeepalivedConf(model: FabricModel, node: NodeModel): string {
  const instances = vrrpInstancesOf(model, node);
  const health = instances.map((i) => healthOf(model, node, i));
  const processes = [...new Set(health.flatMap((h) => h.processes))].sort();
  const scripts = [...new Map(health.flatMap((h) => h.scripts).map((s) => [s.name, s])).values()];
  const files = new Set(health.flatMap((h) => h.files));
  const out: string[] = [generatedHeader(model, node, 'keepalived configuration'), ''];
  out.push(
    'global_defs {',
    `    router_id ${node.name}`,
    // Fractional advert intervals need VRRPv3.
    '    vrrp_version 3',
    '    enable_script_security',
    `    script_user ${SCRIPT_USER}`,
    // Refresh the switches' ARP tables while master, in case a GARP was lost.
    '    vrrp_garp_master_refresh 60',
    '    vrrp_garp_master_repeat 3',
    `    # Adverts every ${model.loadBalancer.vrrp.advertIntervalSeconds} s leave a standby ${masterDownSeconds(model)} s before it takes over, so the VRRP`,
    '    # process must run on time on a busy node: first in the CPU queue, never swapped out. Not',
    '    # real-time (vrrp_rt_priority): keepalived 2.2.7 cannot renew its real-time CPU limit on a',
    '    # reload, and the kernel then kills its VRRP process, which moves every VIP.',
    '    vrrp_priority -20',
    '    vrrp_no_swap',
    '    # After two masters (a stall, a healed split), the one that yields sends a last advert and',
    '    # the winner answers with gratuitous ARPs, so every switch ends up pointing at the winner.',
    '    vrrp_higher_prio_send_advert true',
    '    vrrp_garp_lower_prio_repeat 3',
    '    # vrrp_strict is deliberately off: it forbids unicast peers and adds firewall rules.',
    '    # A running node takes a new configuration with fabric-apply-bundle: it waits for keepalived',
    '    # to delete the reload file, and schedules reloads that all peers must make at once here.',
    `    reload_file ${KEEPALIVED_RELOAD_FILE}`,
    `    reload_time_file ${KEEPALIVED_RELOAD_TIME_FILE}`,
    '}',
    '',
  );
  for (const process of processes) {
    out.push(
      `# The VIP follows a running ${process}: without it this node cannot serve the VIP.`,
      `vrrp_track_process track_${process} {`,
      `    process ${process}`,
      '    quorum 1',
      '    delay 0.5',
      '}',
      '',
    );
  }
  for (const script of scripts) {
    out.push(
      `vrrp_script ${script.name} {`,
      `    script ${scriptValue(script.command)}`,
      `    interval ${script.intervalSeconds}`,
      `    timeout ${script.intervalSeconds * 2}`,
      `    fall ${script.fall}`,
      `    rise ${script.rise}`,
      '}',
      '',
    );
  }
  for (const instance of instances) {
    out.push(
      `# Written by the fabric watchdog: non-zero when a service ${instance.name} depends on`,
      '# keeps failing after restarts, which moves that VIP away from this node.',
      `track_file watchdog_${instance.name} {`,
      `    file ${eligibilityFile(instance.name)}`,
      '    weight 0',
      '    init_file 0',
      '}',
      '',
    );
  }
  if (files.has('database_eligibility')) {
    out.push(
      '# Written by the database hooks: non-zero while this node must not hold the',
      '# database VIP (its data may be stale, or promotion failed).',
      'track_file database_eligibility {',
      `    file ${DATABASE_INELIGIBLE_FILE}`,
      '    weight 0',
      '    init_file 0',
      '}',
      '',
    );
  }
  // The device VIP moves with the fabric VIP: both are served by the same HAProxy.
  const synced = instances.filter((i) => i.purpose === 'fabric' || i.purpose === 'device');
  if (synced.length === 2) {
    out.push('vrrp_sync_group balancer_vips {', '    group {', ...synced.map((i) => `        ${i.name}`), '    }', '}', '');
  }
  instances.forEach((instance, k) => out.push(...renderInstance(instance, node, health[k]), ''));
  return out.join('\n');
}

function renderInstance(instance: VrrpInstance, node: NodeModel, health: ReturnType<typeof healthOf>): string[] {
  const self = instance.members.find((m) => m.node === node.name)!;
  const peers = instance.members.filter((m) => m.node !== node.name);
  const lines = [
    `vrrp_instance ${instance.name} {`,
    // Every member starts as BACKUP so a rebooting node never claims the VIP before hearing its peers.
    '    state BACKUP',
    `    interface ${instance.interfaceName}`,
    `    virtual_router_id ${instance.virtualRouterId}`,
    `    priority ${self.priority}`,
    `    advert_int ${instance.advertIntervalSeconds}`,
  ];
  if (!instance.preempt) lines.push('    nopreempt');
  if (instance.mode === 'unicast') {
    lines.push(
      `    unicast_src_ip ${self.address}`,
      '    unicast_peer {',
      ...peers.map((p) => `        ${p.address}`),
      '    }',
      // Accept adverts only from the listed peers.
      '    check_unicast_src',
      '    unicast_fault_no_peer',
    );
  }
  lines.push(
    '    virtual_ipaddress {',
    `        ${instance.vip}/${instance.prefixLength} dev ${instance.interfaceName}`,
    '    }',
  );
  if (health.processes.length > 0) lines.push('    track_process {', ...health.processes.map((p) => `        track_${p}`), '    }');
  if (health.scripts.length > 0) lines.push('    track_script {', ...health.scripts.map((s) => `        ${s.name}`), '    }');
  lines.push('    track_file {', ...health.files.map((f) => `        ${f}`), '    }');
  lines.push(`    notify ${health.notify}`, '}');
  return lines;
}

/** Logs every VRRP transition to the journal, so failovers can be traced afterwards. */
export function renderNotifyScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(NOTIFY_ASSET, generatedHeader(model, node, 'keepalived notify hook'));
}

/** keepalived's checks of HAProxy and of the monitoring service: cloud-init/assets/check-service, told what to check by its arguments. */
export function renderCheckServiceScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(CHECK_SERVICE_ASSET, generatedHeader(model, node, "keepalived's check of a service a VIP follows"));
}

export function keepalivedFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  const instances = vrrpInstancesOf(model, node);
  if (instances.length === 0) return [];
  const files: RenderedFile[] = [
    { path: KEEPALIVED_CONFIG, content: renderKeepalivedConf(model, node), permissions: '0640' },
    { path: NOTIFY_SCRIPT, content: renderNotifyScript(model, node), permissions: '0755' },
    {
      path: '/etc/default/keepalived',
      content: [
        generatedHeader(model, node, 'keepalived options'),
        '# Without respawn a crashed VRRP process ends keepalived: systemd restarts it after its',
        '# ExecStopPost removed any VIP left behind. A respawned child may hold the VIP while the',
        '# peer already does (measured: both nodes held it for up to 0.9 s).',
        'DAEMON_ARGS="--dont-respawn"',
        '',
      ].join('\n'),
      permissions: '0644',
    },
  ];
  if (instances.flatMap((i) => healthOf(model, node, i).scripts).some((s) => s.command[0] === CHECK_SERVICE_SCRIPT)) {
    files.push({ path: CHECK_SERVICE_SCRIPT, content: renderCheckServiceScript(model, node), permissions: '0755' });
  }
  return files;
}

import { FabricModel, NodeModel, VrrpInstance } from '../model/fabric-model';
import { generatedHeader, LIB_DIR, RenderedFile, RUN_DIR } from './rendered-file';

/** User the check and notify scripts run as (keepalived refuses root-owned scripts writable by others). */
export const SCRIPT_USER = 'keepalived_script';
/** File the watchdog writes a non-zero number into to take this node out of every VIP election. */
export const ELIGIBILITY_FILE = `${RUN_DIR}/vrrp-ineligible`;
export const NOTIFY_SCRIPT = `${LIB_DIR}/keepalived-notify`;

/** The VRRP instances this node takes part in. */
export function vrrpInstancesOf(model: FabricModel, node: NodeModel): VrrpInstance[] {
  return [model.loadBalancer.vrrp].filter((i) => i.members.some((m) => m.node === node.name));
}

export function renderKeepalivedConf(model: FabricModel, node: NodeModel): string {
  const instances = vrrpInstancesOf(model, node);
  const processes = [...new Set(instances.flatMap((i) => i.trackedProcesses))].sort();
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
    '    # vrrp_strict is deliberately off: it forbids unicast peers and adds firewall rules.',
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
  out.push(
    '# Written by the fabric watchdog: non-zero when a service the VIP depends on',
    '# keeps failing after restarts, which moves every VIP away from this node.',
    'vrrp_track_file node_eligibility {',
    `    file ${ELIGIBILITY_FILE}`,
    '    weight 0',
    '    init_file 0',
    '}',
    '',
  );
  for (const instance of instances) out.push(...renderInstance(instance, node), '');
  return out.join('\n');
}

function renderInstance(instance: VrrpInstance, node: NodeModel): string[] {
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
  if (instance.trackedProcesses.length > 0) {
    lines.push('    track_process {', ...instance.trackedProcesses.map((p) => `        track_${p}`), '    }');
  }
  lines.push('    track_file {', '        node_eligibility', '    }');
  lines.push(`    notify ${NOTIFY_SCRIPT}`, '}');
  return lines;
}

/** Logs every VRRP transition to the journal, so failovers can be traced afterwards. */
export function renderNotifyScript(model: FabricModel, node: NodeModel): string {
  return [
    '#!/bin/bash',
    generatedHeader(model, node, 'keepalived notify hook'),
    '# keepalived calls it as: <GROUP|INSTANCE> <name> <MASTER|BACKUP|FAULT|STOP> <priority>',
    'set -u',
    'kind="${1:-?}" name="${2:-?}" state="${3:-?}" priority="${4:-?}"',
    'logger -t keepalived-notify -p daemon.notice "vrrp ${kind,,} ${name} is now ${state} (priority ${priority})"',
    `mkdir -p ${RUN_DIR}`,
    `printf '%s %s\\n' "$(date +%s.%N)" "\${state}" > "${RUN_DIR}/vrrp-\${name}.state"`,
    'exit 0',
    '',
  ].join('\n');
}

export function keepalivedFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (vrrpInstancesOf(model, node).length === 0) return [];
  return [
    { path: '/etc/keepalived/keepalived.conf', content: renderKeepalivedConf(model, node), permissions: '0640' },
    { path: NOTIFY_SCRIPT, content: renderNotifyScript(model, node), permissions: '0755' },
  ];
}

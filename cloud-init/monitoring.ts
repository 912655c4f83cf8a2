import { VRRP_SCRIPT_USER } from '../model/defaults';
import { FabricModel, NodeModel } from '../model/fabric-model';
import { demoServiceFile, renderServiceUnit, serviceUnitName } from './application-service';
import { CHECK_SERVICE_SCRIPT } from './node-paths';
import { ETC_DIR, generatedHeader, RenderedFile } from './rendered-file';

/**
 * The monitoring service's own health check command, where keepalived's check reads it
 * (`check-service command FILE`): a root-owned settings file, not keepalived's command line,
 * since an operator's shell command may hold what keepalived.conf would parse (quotes, '$').
 */
export const MONITORING_CHECK_CONF = `${ETC_DIR}/monitoring-check.conf`;

/**
 * Fault and performance monitoring. Dedicated nodes run the service on
 * every address (a pair answers on its own VIP); without dedicated nodes it
 * runs hot on both balancers and HAProxy sends monitoring clients on the
 * fabric VIP to the active one (see haproxy.ts), so a failover finds the
 * standby already running instead of starting it cold (3-5 min in the original).
 */
export function monitoringFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  const mon = model.monitoring;
  if (!mon.members.includes(node.name)) return [];
  const service = mon.service;
  const bind = mon.dedicated ? '0.0.0.0' : node.managementAddress;
  const files: RenderedFile[] = [
    { path: `/etc/systemd/system/${serviceUnitName(service)}`, content: renderServiceUnit(model, node, service, 'Monitoring service', bind), permissions: '0644' },
  ];
  if (!service.execStart) files.push(demoServiceFile(model, node));
  if (mon.vrrp && service.healthCheck.type === 'command') files.push({ path: MONITORING_CHECK_CONF, content: renderMonitoringCheckConf(model, node), permissions: '0644' });
  return files;
}

/**
 * keepalived's check of the monitoring pair, the program and its arguments: the service answers
 * its health check on this node's address (check-service, see keepalived.ts).
 */
export function monitoringCheckCommand(model: FabricModel, node: NodeModel): string[] {
  const service = model.monitoring.service;
  const hc = service.healthCheck;
  switch (hc.type) {
    case 'http':
      return [CHECK_SERVICE_SCRIPT, 'http', node.managementAddress, String(service.port), hc.path];
    case 'tcp':
      return [CHECK_SERVICE_SCRIPT, 'tcp', node.managementAddress, String(service.port)];
    case 'command':
      return [CHECK_SERVICE_SCRIPT, 'command', MONITORING_CHECK_CONF];
  }
}

/** The settings file of a command check (MONITORING_CHECK_CONF). */
export function renderMonitoringCheckConf(model: FabricModel, node: NodeModel): string {
  return [
    generatedHeader(model, node, 'Health check command of the monitoring service'),
    `# monitoring.service.healthCheck.command: run by ${CHECK_SERVICE_SCRIPT} as ${VRRP_SCRIPT_USER} (keepalived's chk_monitoring),`,
    '# through bash -c, within 5 s; exit 0 is healthy.',
    `COMMAND=${model.monitoring.service.healthCheck.command!}`,
    '',
  ].join('\n');
}

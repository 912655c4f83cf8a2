import { ApplicationService, FabricModel, NodeModel } from '../model/fabric-model';
import { renderAsset } from './assets';
import { DATABASE_CLIENT_ENV } from './database';
import { DEMO_SERVICE_ASSET } from './node-paths';
import { generatedHeader, LIB_DIR, RenderedFile } from './rendered-file';
import { RESTART_POLICY_SERVICE_LINES, RESTART_POLICY_UNIT_LINES } from './restart-policy';

export const DEMO_SERVICE_SCRIPT = `${LIB_DIR}/${DEMO_SERVICE_ASSET}`;

/**
 * The built-in demo application: answers every GET with the node's name (so
 * a client can see the balancing) and `/healthz` with "ok".
 */
export function renderDemoServiceScript(model: FabricModel, node: NodeModel): string {
  return renderAsset(DEMO_SERVICE_ASSET, generatedHeader(model, node, 'Demo application service'));
}

/** A systemd unit for a service the fabric runs (the application, the monitoring service). */
export function renderServiceUnit(
  model: FabricModel,
  node: NodeModel,
  service: ApplicationService,
  role: string,
  bindAddress: string,
  environmentFiles: readonly string[] = [],
): string {
  const execStart =
    service.execStart ?? `/usr/bin/python3 ${DEMO_SERVICE_SCRIPT} --node ${node.name} --address ${bindAddress} --port ${service.port}`;
  return [
    generatedHeader(model, node, `${role} unit`),
    '[Unit]',
    `Description=appliance-fabric ${role.toLowerCase()} (${service.name})`,
    'After=network-online.target',
    'Wants=network-online.target',
    ...RESTART_POLICY_UNIT_LINES,
    '',
    '[Service]',
    ...environmentFiles.map((f) => `EnvironmentFile=-${f}`),
    `ExecStart=${execStart}`,
    ...RESTART_POLICY_SERVICE_LINES,
    ...serviceUserLines(service),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * Who the service runs as. Never root unless the config says so: a named
 * user gets no new privileges either (no setuid escape to root).
 */
function serviceUserLines(service: ApplicationService): string[] {
  if (service.user === undefined) return ['DynamicUser=yes'];
  if (service.user === 'root') return ['# Runs as root: the config gives it user root.'];
  return [`User=${service.user}`, 'NoNewPrivileges=yes'];
}

/** The system users the services on this node run as, which cloud-init creates (root and DynamicUser need none). */
export function serviceUsers(model: FabricModel, node: NodeModel): string[] {
  const services = [
    ...(node.roles.includes('application-server') ? [model.applicationServers.service] : []),
    ...(model.monitoring.members.includes(node.name) ? [model.monitoring.service] : []),
  ];
  return [...new Set(services.map((s) => s.user).filter((u): u is string => u !== undefined && u !== 'root'))].sort();
}

/** The systemd unit a fabric service runs as. */
export function serviceUnitName(service: ApplicationService): string {
  return `${service.name}.service`;
}

export function applicationServiceFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!node.roles.includes('application-server')) return [];
  const service = model.applicationServers.service;
  const env = model.database ? [DATABASE_CLIENT_ENV] : [];
  const files: RenderedFile[] = [
    { path: `/etc/systemd/system/${serviceUnitName(service)}`, content: renderServiceUnit(model, node, service, 'Application service', node.managementAddress, env), permissions: '0644' },
  ];
  if (!service.execStart) files.push(demoServiceFile(model, node));
  return files;
}

/** The demo service script: the same file for every service that uses it. */
export function demoServiceFile(model: FabricModel, node: NodeModel): RenderedFile {
  return { path: DEMO_SERVICE_SCRIPT, content: renderDemoServiceScript(model, node), permissions: '0755' };
}

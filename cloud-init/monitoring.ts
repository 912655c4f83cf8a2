import { FabricModel, NodeModel } from '../model/fabric-model';
import { demoServiceFile, renderServiceUnit } from './application-service';
import { MONITORING_CHECK_SCRIPT } from './node-paths';
import { bashHttpCheck, shellQuote } from './http-check';
import { generatedHeader, RenderedFile } from './rendered-file';

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
    { path: `/etc/systemd/system/${service.name}.service`, content: renderServiceUnit(model, node, service, 'Monitoring service', bind), permissions: '0644' },
  ];
  if (!service.execStart) files.push(demoServiceFile(model, node));
  if (mon.vrrp) files.push({ path: MONITORING_CHECK_SCRIPT, content: renderMonitoringCheck(model, node), permissions: '0755' });
  return files;
}

/** keepalived's check of the monitoring pair: the service answers its health check. */
export function renderMonitoringCheck(model: FabricModel, node: NodeModel): string {
  const service = model.monitoring.service;
  const hc = service.healthCheck;
  const check =
    hc.type === 'http'
      ? bashHttpCheck(node.managementAddress, service.port, hc.path)
      : hc.type === 'tcp'
        ? // keepalived's script timeout bounds the connect.
          [`exec 3<> /dev/tcp/${node.managementAddress}/${service.port}`]
        : [`exec timeout 5 bash -c ${shellQuote(hc.command!)}`];
  return ['#!/bin/bash', generatedHeader(model, node, 'keepalived check of the monitoring service'), ...check, ''].join('\n');
}

import { CASSANDRA_ADMIN_ROLE } from '../model/defaults';
import { FabricModel, NodeModel } from '../model/fabric-model';
import { renderAsset } from './assets';
import { CASSANDRA_NATIVE_PORT, CASSANDRA_UNIT } from './cassandra';
import { ETC_DIR, generatedHeader, LIB_DIR, RenderedFile } from './rendered-file';

export const CASSANDRA_AUTH_ASSET = 'cassandra-auth';
export const CASSANDRA_AUTH_SCRIPT = `${LIB_DIR}/${CASSANDRA_AUTH_ASSET}`;
export const CASSANDRA_AUTH_ENV = `${ETC_DIR}/cassandra-auth.env`;
export const CASSANDRA_AUTH_UNIT = 'fabric-cassandra-auth.service';

/** How many copies of the roles (system_auth) the datacenter keeps: every member, at most 3. */
export function systemAuthReplicas(model: FabricModel): number {
  return Math.min(3, model.cassandra!.members.length);
}

/** What cassandra-auth reads: where this member answers CQL, the admin role and its password. */
export function renderCassandraAuthEnv(model: FabricModel, node: NodeModel, adminPassword: string): string {
  return [
    generatedHeader(model, node, 'Cassandra authentication settings'),
    `CASSANDRA_HOST=${node.managementAddress}`,
    `CASSANDRA_PORT=${CASSANDRA_NATIVE_PORT}`,
    `CASSANDRA_DATACENTER=${model.cassandra!.datacenter}`,
    `CASSANDRA_AUTH_REPLICAS=${systemAuthReplicas(model)}`,
    `CASSANDRA_ADMIN_ROLE=${CASSANDRA_ADMIN_ROLE}`,
    `CASSANDRA_ADMIN_PASSWORD=${adminPassword}`,
    '',
  ].join('\n');
}

/**
 * Runs cassandra-auth once Cassandra has started, at every boot. Skipped
 * where Cassandra is not installed (its installation failed or is left to
 * the image), so that a missing package is reported once, by the install.
 */
export function renderCassandraAuthUnit(model: FabricModel, node: NodeModel): string {
  return [
    generatedHeader(model, node, 'Cassandra authentication set-up'),
    '[Unit]',
    'Description=appliance-fabric: Cassandra admin role, default role disabled',
    `After=${CASSANDRA_UNIT}`,
    'ConditionPathExists=/usr/bin/cqlsh',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${CASSANDRA_AUTH_SCRIPT}`,
    // Up to 120 attempts 5 s apart, each bounded; a repair of system_auth bounded at 600 s.
    'TimeoutStartSec=30min',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export function cassandraAuthFiles(model: FabricModel, node: NodeModel, adminPassword: string): RenderedFile[] {
  if (!model.cassandra || !node.roles.includes('cassandra')) return [];
  return [
    { path: CASSANDRA_AUTH_ENV, content: renderCassandraAuthEnv(model, node, adminPassword), permissions: '0600' },
    { path: CASSANDRA_AUTH_SCRIPT, content: renderAsset(CASSANDRA_AUTH_ASSET, generatedHeader(model, node, 'Cassandra authentication set-up')), permissions: '0755' },
    { path: `/etc/systemd/system/${CASSANDRA_AUTH_UNIT}`, content: renderCassandraAuthUnit(model, node), permissions: '0644' },
  ];
}

import { FabricModel, NodeModel, nodeByName } from '../model/fabric-model';
import { generatedHeader, LIB_DIR, RenderedFile } from './rendered-file';
import { toYaml } from './yaml';

export const CASSANDRA_INSTALL_SCRIPT = `${LIB_DIR}/install-cassandra`;
export const CASSANDRA_UNIT = 'cassandra.service';
/** Cassandra's own defaults (cassandra.yaml leaves them): internode traffic and CQL clients. */
export const CASSANDRA_STORAGE_PORT = 7000;
export const CASSANDRA_NATIVE_PORT = 9042;

/**
 * The essentials of cassandra.yaml for one member; everything else keeps
 * Cassandra's defaults. No VIP: Cassandra drivers fail over between nodes.
 */
export function renderCassandraYaml(model: FabricModel, node: NodeModel): string {
  const c = model.cassandra!;
  const seeds = c.seeds.map((s) => nodeByName(model, s).managementAddress).join(',');
  const doc = {
    cluster_name: c.clusterName,
    num_tokens: 16,
    allocate_tokens_for_local_replication_factor: 3,
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    seed_provider: [{ class_name: 'org.apache.cassandra.locator.SimpleSeedProvider', parameters: [{ seeds }] }],
    listen_address: node.managementAddress,
    rpc_address: node.managementAddress,
    // The datacenter and rack come from cassandra-rackdc.properties.
    endpoint_snitch: 'GossipingPropertyFileSnitch',
    data_file_directories: ['/var/lib/cassandra/data'],
    commitlog_directory: '/var/lib/cassandra/commitlog',
    saved_caches_directory: '/var/lib/cassandra/saved_caches',
    hints_directory: '/var/lib/cassandra/hints',
    commitlog_sync: 'periodic',
    commitlog_sync_period: '10000ms',
    authenticator: 'PasswordAuthenticator',
    authorizer: 'CassandraAuthorizer',
  };
  return `${generatedHeader(model, node, 'Cassandra settings')}\n${toYaml(doc)}`;
}

/** Datacenter from the fabric, rack from the platform host (so replicas spread over hosts). */
export function renderRackDc(model: FabricModel, node: NodeModel): string {
  const rack = node.host ?? 'rack1';
  return [generatedHeader(model, node, 'Cassandra datacenter and rack'), `dc=${model.cassandra!.datacenter}`, `rack=${rack}`, ''].join('\n');
}

/** Debian does not ship Cassandra: add the configured APT source, then install it keeping our configuration. */
export function renderCassandraInstall(model: FabricModel, node: NodeModel): string {
  const apt = model.cassandra!.aptSource;
  return `#!/bin/bash
${generatedHeader(model, node, 'Cassandra installation')}
set -euo pipefail
if dpkg-query -W -f='\${Status}' cassandra 2> /dev/null | grep -q 'install ok installed'; then
  exit 0
fi
install -d -m 0755 /etc/apt/keyrings
curl --fail --silent --show-error --location --max-time 60 '${apt.keyUrl}' -o /etc/apt/keyrings/cassandra.asc
echo 'deb [signed-by=/etc/apt/keyrings/cassandra.asc] ${apt.url} ${apt.suite} main' > /etc/apt/sources.list.d/cassandra.list
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confold openjdk-17-jre-headless cassandra
`;
}

export function cassandraFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!model.cassandra || !node.roles.includes('cassandra')) return [];
  const files: RenderedFile[] = [
    { path: '/etc/cassandra/cassandra.yaml', content: renderCassandraYaml(model, node), permissions: '0644' },
    { path: '/etc/cassandra/cassandra-rackdc.properties', content: renderRackDc(model, node), permissions: '0644' },
  ];
  if (model.installPackagesOnBoot) files.push({ path: CASSANDRA_INSTALL_SCRIPT, content: renderCassandraInstall(model, node), permissions: '0755' });
  return files;
}

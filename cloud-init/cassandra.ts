import { FabricModel, NodeModel, nodeByName } from '../model/fabric-model';
import { renderAsset } from './assets';
import { ETC_DIR, generatedHeader, LIB_DIR, RenderedFile } from './rendered-file';
import { toYaml } from './yaml';

export const CASSANDRA_INSTALL_ASSET = 'install-cassandra';
export const CASSANDRA_INSTALL_SCRIPT = `${LIB_DIR}/${CASSANDRA_INSTALL_ASSET}`;
/** The installer's settings (the asset's default $1). */
export const CASSANDRA_INSTALL_ENV = `${ETC_DIR}/cassandra-install.env`;
/** The pinned keys alone, binary (gpg --export): what the APT source's signed-by names. */
export const CASSANDRA_KEYRING = '/etc/apt/keyrings/cassandra.gpg';
export const CASSANDRA_APT_SOURCE = '/etc/apt/sources.list.d/cassandra.list';
/** The installer needs gpg to check and export the pinned keys; Debian's cloud images carry only gpgv (apt's). */
export const CASSANDRA_INSTALL_PACKAGES: readonly string[] = ['gpg'];
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

/**
 * Debian does not ship Cassandra: the installer (cloud-init/assets/install-cassandra) adds the
 * configured APT source with a keyring of the pinned keys only, then installs it keeping our
 * configuration. It reads its settings from this env file.
 */
export function renderCassandraInstallEnv(model: FabricModel, node: NodeModel): string {
  const apt = model.cassandra!.aptSource;
  // Every value passed synth's checks (an https URL, a plain name, hex), so none holds a quote.
  return [
    generatedHeader(model, node, 'Cassandra installer settings'),
    `CASSANDRA_APT_URL='${apt.url}'`,
    `CASSANDRA_APT_SUITE='${apt.suite}'`,
    `CASSANDRA_KEYS_URL='${apt.keyUrl}'`,
    '# cassandra.aptSource.keyFingerprints: only these keys of the KEYS file sign for the repository.',
    `CASSANDRA_KEY_FINGERPRINTS='${apt.keyFingerprints.join(' ')}'`,
    `CASSANDRA_KEYRING='${CASSANDRA_KEYRING}'`,
    `CASSANDRA_APT_SOURCE='${CASSANDRA_APT_SOURCE}'`,
    '',
  ].join('\n');
}

export function renderCassandraInstall(model: FabricModel, node: NodeModel): string {
  return renderAsset(CASSANDRA_INSTALL_ASSET, generatedHeader(model, node, 'Cassandra installation'));
}

export function cassandraFiles(model: FabricModel, node: NodeModel): RenderedFile[] {
  if (!model.cassandra || !node.roles.includes('cassandra')) return [];
  const files: RenderedFile[] = [
    { path: '/etc/cassandra/cassandra.yaml', content: renderCassandraYaml(model, node), permissions: '0644' },
    { path: '/etc/cassandra/cassandra-rackdc.properties', content: renderRackDc(model, node), permissions: '0644' },
  ];
  if (model.installPackagesOnBoot) {
    files.push(
      { path: CASSANDRA_INSTALL_ENV, content: renderCassandraInstallEnv(model, node), permissions: '0644' },
      { path: CASSANDRA_INSTALL_SCRIPT, content: renderCassandraInstall(model, node), permissions: '0755' },
    );
  }
  return files;
}

import { FabricModel, NodeModel } from '../model/fabric-model';
import { applicationServiceFiles, serviceUnitName, serviceUsers } from './application-service';
import { applyBundleAgentFiles } from './apply-bundle-agent';
import { bundleReloadOf, NodeBundle, nodeBundle, sha256Hex } from './bundle';
import { HAPROXY_UNIT, HaproxySecrets, haproxyFiles } from './haproxy';
import { KEEPALIVED_UNIT, keepalivedFiles, SCRIPT_USER, vrrpInstancesOf } from './keepalived';
import { metaDataOf, networkConfigOf } from './network-config';
import { RenderedFile } from './rendered-file';
import { ADMIN_USER, sshFiles } from './ssh';
import { sysctlFiles } from './sysctl';
import { LINUX_WATCHDOG_UNIT, watchdogFiles, WATCHDOG_UNIT } from './watchdog';
import { CASSANDRA_INSTALL_PACKAGES, CASSANDRA_INSTALL_SCRIPT, CASSANDRA_UNIT, cassandraFiles } from './cassandra';
import { CASSANDRA_AUTH_UNIT, cassandraAuthFiles } from './cassandra-auth';
import { DatabaseSecrets, databaseFiles, DATABASE_UNIT } from './database';
import { firewallFiles, FIREWALL_UNIT } from './firewall';
import { monitoringFiles } from './monitoring';
import { DATABASE_ACCOUNTS_SCRIPT } from './node-paths';
import { toYaml } from './yaml';

/** Every secret a node's user-data can carry; Terraform references in a synthesized plan. */
export interface FabricSecrets extends HaproxySecrets {
  /** Needed when the fabric has a database cluster: each account's current password... */
  readonly databaseReplicationPassword?: string;
  readonly databaseApplicationPassword?: string;
  /** ...and the previous and next generation's, which the accounts also accept (DatabaseSpec.passwordGeneration). */
  readonly databaseReplicationPasswordPrevious?: string;
  readonly databaseReplicationPasswordNext?: string;
  readonly databaseApplicationPasswordPrevious?: string;
  readonly databaseApplicationPasswordNext?: string;
  /** The database CA's certificate (PEM, base64): the servers' and clients' trust anchor. */
  readonly databaseCaCertificatePemBase64?: string;
  /** The database members' shared server certificate and its key (PEM, base64). */
  readonly databaseServerCertificatePemBase64?: string;
  readonly databaseServerKeyPemBase64?: string;
  /** Needed when the fabric has a Cassandra cluster: the password of its admin role. */
  readonly cassandraAdminPassword?: string;
}

/** What cloud-init gets for one node. */
export interface NodeCloudInit {
  /** The `#cloud-config` user-data document. */
  readonly userData: string;
  /** meta-data (YAML). */
  readonly metaData: string;
  /** network-config version 2 (YAML). */
  readonly networkConfig: string;
  /** The same network-config as data, for platforms that embed it (vSphere metadata). */
  readonly networkConfigData: Record<string, unknown>;
  /** The files written by write_files, for tests and tools. */
  readonly files: readonly RenderedFile[];
  /** The part of `files` a running node takes up again when it changes (see bundle.ts). */
  readonly bundle: NodeBundle;
  /**
   * sha256 of everything the node gets only at creation: the user-data without
   * the bundle files' contents, the meta-data (instance-id) and the
   * network-config. A change here cannot reach a running node.
   */
  readonly identityHash: string;
}

/**
 * The node's SSH host key pair (ECDSA P-256), generated outside the node so
 * that whoever connects to it (Terraform delivering a bundle) can pin the
 * public half: `privateKeyPem` (SEC1 PEM) and `publicKeyOpenssh`.
 */
export interface SshHostKey {
  readonly privateKeyPem: string;
  readonly publicKeyOpenssh: string;
}

export { ADMIN_USER };
const BASE_PACKAGES = ['chrony', 'curl', 'watchdog'];

export { toYaml };

export function nodeFiles(model: FabricModel, node: NodeModel, secrets: FabricSecrets): RenderedFile[] {
  const all = [
    ...applicationServiceFiles(model, node),
    ...monitoringFiles(model, node),
    ...haproxyFiles(model, node, secrets),
    ...keepalivedFiles(model, node),
    ...databaseFiles(model, node, databaseSecretsOf(model, secrets)),
    ...cassandraFiles(model, node),
    ...cassandraAuthFiles(model, node, cassandraPasswordOf(model, secrets)),
    ...watchdogFiles(model, node),
    ...applyBundleAgentFiles(model, node),
    ...sshFiles(model, node),
    ...sysctlFiles(model, node),
    ...firewallFiles(model, node),
  ];
  // Services that share a file (the demo service script) render it identically.
  const byPath = new Map<string, RenderedFile>();
  for (const file of all) {
    const seen = byPath.get(file.path);
    if (seen && seen.content !== file.content) throw new Error(`internal: two different contents for ${file.path} on ${node.name}`);
    byPath.set(file.path, file);
  }
  return [...byPath.values()].sort((a, b) => a.path.localeCompare(b.path));
}

function databaseSecretsOf(model: FabricModel, secrets: FabricSecrets): DatabaseSecrets {
  const none = {
    replicationPassword: '',
    replicationPasswordPrevious: '',
    replicationPasswordNext: '',
    applicationPassword: '',
    applicationPasswordPrevious: '',
    applicationPasswordNext: '',
    caCertificatePemBase64: '',
    serverCertificatePemBase64: '',
    serverKeyPemBase64: '',
  };
  if (!model.database) return none;
  const given = {
    replicationPassword: secrets.databaseReplicationPassword,
    replicationPasswordPrevious: secrets.databaseReplicationPasswordPrevious,
    replicationPasswordNext: secrets.databaseReplicationPasswordNext,
    applicationPassword: secrets.databaseApplicationPassword,
    applicationPasswordPrevious: secrets.databaseApplicationPasswordPrevious,
    applicationPasswordNext: secrets.databaseApplicationPasswordNext,
    caCertificatePemBase64: secrets.databaseCaCertificatePemBase64,
    serverCertificatePemBase64: secrets.databaseServerCertificatePemBase64,
    serverKeyPemBase64: secrets.databaseServerKeyPemBase64,
  };
  const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length > 0) throw new Error(`internal: the fabric has a database cluster but the renderer was not given its ${missing.join(', ')}`);
  return given as DatabaseSecrets;
}

function cassandraPasswordOf(model: FabricModel, secrets: FabricSecrets): string {
  if (!model.cassandra) return '';
  if (secrets.cassandraAdminPassword === undefined) throw new Error('internal: the fabric has a Cassandra cluster but the renderer was not given its cassandraAdminPassword');
  return secrets.cassandraAdminPassword;
}

/**
 * Services to start first, in dependency order: what the VIPs front.
 * keepalived and the watchdogs follow. Cassandra is not among them: it comes
 * last, on its own lines (see renderNodeCloudInit).
 */
function servicesOf(model: FabricModel, node: NodeModel): string[] {
  const units: string[] = [];
  if (node.roles.includes('application-server')) units.push(serviceUnitName(model.applicationServers.service));
  if (model.monitoring.members.includes(node.name)) units.push(serviceUnitName(model.monitoring.service));
  if (node.roles.includes('database')) units.push(DATABASE_UNIT);
  if (node.roles.includes('load-balancer')) units.push(HAPROXY_UNIT);
  return units;
}

export function renderNodeCloudInit(model: FabricModel, node: NodeModel, secrets: FabricSecrets, sshHostKey?: SshHostKey): NodeCloudInit {
  const files = nodeFiles(model, node, secrets);
  const packages = new Set(BASE_PACKAGES);
  if (node.roles.includes('load-balancer')) packages.add('haproxy');
  if (vrrpInstancesOf(model, node).length > 0) packages.add('keepalived');
  if (node.roles.includes('application-server')) model.applicationServers.service.packages.forEach((p) => packages.add(p));
  if (model.monitoring.members.includes(node.name)) model.monitoring.service.packages.forEach((p) => packages.add(p));
  // ping: the promotion hook's isolation check.
  if (node.roles.includes('database')) ['mariadb-server', 'mariadb-client', 'iputils-ping'].forEach((p) => packages.add(p));
  if (model.firewall.enabled) packages.add('nftables');
  const hasCassandraInstaller = files.some((f) => f.path === CASSANDRA_INSTALL_SCRIPT);
  if (hasCassandraInstaller) CASSANDRA_INSTALL_PACKAGES.forEach((p) => packages.add(p));

  const net = model.network;
  const units = servicesOf(model, node);
  const afterwards = [...(vrrpInstancesOf(model, node).length > 0 ? [KEEPALIVED_UNIT] : []), `${WATCHDOG_UNIT}.service`, LINUX_WATCHDOG_UNIT];
  const config: Record<string, unknown> = {
    hostname: node.name,
    fqdn: node.fqdn,
    manage_etc_hosts: true,
    users: [
      {
        name: ADMIN_USER,
        gecos: 'appliance-fabric operator',
        groups: ['sudo'],
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        shell: '/bin/bash',
        lock_passwd: true,
        ...(model.sshAuthorizedKeys.length > 0 ? { ssh_authorized_keys: [...model.sshAuthorizedKeys] } : {}),
      },
      // keepalived runs its checks as this user (enable_script_security); the services as their own (ServiceSpec.user).
      ...[SCRIPT_USER, ...serviceUsers(model, node)].map((name) => ({ name, system: true, shell: '/usr/sbin/nologin', no_create_home: true, lock_passwd: true })),
    ],
    ssh_pwauth: false,
    disable_root: true,
    // The host key was made with the plan, so the first connection can check it. No other type is generated:
    // cloud-init makes a listed type only when its key is missing (its schema wants at least one).
    ...(sshHostKey ? { ssh_keys: { ecdsa_private: sshHostKey.privateKeyPem, ecdsa_public: sshHostKey.publicKeyOpenssh }, ssh_genkeytypes: ['ecdsa'] } : {}),
    ...(net.ntpServers.length > 0 ? { ntp: { enabled: true, ntp_client: 'chrony', servers: [...net.ntpServers] } } : {}),
    // A non-empty package list makes cloud-init run apt-get update first.
    ...(model.installPackagesOnBoot ? { packages: [...packages].sort() } : {}),
    // Deferred: written after the packages are installed, so no package overwrites or prompts about them.
    write_files: files.map((f) => ({
      path: f.path,
      ...(f.base64 ? { encoding: 'b64' } : {}),
      content: f.content,
      permissions: f.permissions,
      owner: f.owner ?? 'root:root',
      defer: true,
    })),
    runcmd: [
      // cloud-init runs these as one /bin/sh script whose status is its last line's: stop at the
      // first failing step, so a failed database bootstrap or service start fails the boot
      // (cloud-init status, result.json) instead of leaving a node that only looks configured.
      ['set', '-e'],
      ['systemd-tmpfiles', '--create', '/etc/tmpfiles.d/appliance-fabric.conf'],
      ['sysctl', '--system'],
      ['systemctl', 'daemon-reload'],
      // The firewall first, before any service of ours listens; enabled, it loads at every later boot before the network.
      ...(model.firewall.enabled ? [['systemctl', 'enable', FIREWALL_UNIT], ['systemctl', 'restart', FIREWALL_UNIT]] : []),
      // sshd started before write_files wrote its drop-in (ssh.ts); first, so a later failing step leaves it applied.
      ['systemctl', 'try-reload-or-restart', 'ssh.service'],
      // The Cassandra authentication set-up is enabled here, so that it runs at the next boot even when installing Cassandra below fails.
      ['systemctl', 'enable', ...units, ...afterwards, ...(node.roles.includes('cassandra') ? [CASSANDRA_AUTH_UNIT] : [])],
      // restart, not start: packaged daemons may already run with their stock configuration.
      ...(units.length > 0 ? [['systemctl', 'restart', ...units]] : []),
      ...(node.roles.includes('database') ? [[DATABASE_ACCOUNTS_SCRIPT]] : []),
      ['systemctl', 'restart', ...afterwards],
      // Cassandra last and alone: installing it from Apache's repository takes minutes, and when
      // that fails, one systemctl line naming a missing unit would fail for every unit on it.
      ...(node.roles.includes('cassandra')
        ? [
            ...(hasCassandraInstaller ? [[CASSANDRA_INSTALL_SCRIPT]] : []),
            ['systemctl', 'daemon-reload'],
            ['systemctl', 'enable', CASSANDRA_UNIT],
            ['systemctl', 'restart', CASSANDRA_UNIT],
            // Not waited for: it waits (bounded) until Cassandra answers CQL, which takes a minute or more.
            ['systemctl', 'start', '--no-block', CASSANDRA_AUTH_UNIT],
          ]
        : []),
    ],
  };
  const header = [
    '#cloud-config',
    `# First-boot configuration of appliance ${node.name} (${node.roles.join(', ') || 'no role'}) in fabric '${model.name}'.`,
    `# Generated by appliance-fabric from construct ${model.constructPath}; do not edit by hand.`,
  ].join('\n');
  const networkConfigData = networkConfigOf(model, node);
  const metaData = toYaml(metaDataOf(model, node));
  const networkConfig = toYaml(networkConfigData);
  // The user-data as it would be with every bundle file reduced to its path and mode.
  const identityConfig = {
    ...config,
    write_files: (config.write_files as { path: string; content: string }[]).map((f) => (bundleReloadOf(f.path) ? { ...f, content: '' } : f)),
  };
  return {
    userData: `${header}\n${toYaml(config)}`,
    metaData,
    networkConfig,
    networkConfigData,
    files,
    bundle: nodeBundle(model, node, files),
    identityHash: sha256Hex([header, toYaml(identityConfig), metaData, networkConfig].join('\0')),
  };
}

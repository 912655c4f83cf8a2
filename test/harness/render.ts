import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { NodeBundle } from '../../cloud-init/bundle';
import { FabricSecrets, renderNodeCloudInit } from '../../cloud-init/cloud-config';
import { databaseServerAddresses } from '../../cloud-init/database';
import { buildFabricModel } from '../../model/build-model';
import { DEFAULT_APPLICATION_SERVICE_PORT } from '../../model/defaults';
import { FabricModel } from '../../model/fabric-model';
import { FabricSpec, FirewallSpec, HealthCheckSpec, LoadBalancerSpec, WatchdogSpec } from '../../model/fabric-spec';
import { runOk } from './exec';
import { CLIENT_ADDRESS, FabricInput } from './fabric-harness';
import { frontendTargets } from '../../e2e/lib/disruption-sampler';

/** Where the database VIP is when a namespace fabric has the database cluster. */
export const NAMESPACE_DATABASE_VIP = '198.51.100.20';
/** The monitoring pair's VIP when a namespace fabric has two monitoring nodes. */
export const NAMESPACE_MONITORING_VIP = '198.51.100.30';
/** The device network (the upper half of the test range), its VIP on the load-balancer pair and the client's address on it. */
export const NAMESPACE_DEVICE_NETWORK = { cidr: '198.51.100.128/25', firstAddress: '198.51.100.131', vip: '198.51.100.140', client: '198.51.100.200/25' };

export interface NamespaceFabricOptions {
  /** VRRP advert interval. @default the shipped default */
  readonly advertIntervalSeconds?: number;
  /** Load-balancer settings. @default the shipped defaults */
  readonly loadBalancer?: LoadBalancerSpec;
  readonly watchdog?: WatchdogSpec;
  /** The database cluster on the first two nodes behind VIP .20. @default false */
  readonly database?: boolean;
  /** Two dedicated monitoring nodes (node4, node5) with their own VIP .30. @default false */
  readonly monitoringPair?: boolean;
  /**
   * The device network on eth3: management shrinks to 198.51.100.0/25, the
   * device network is 198.51.100.128/25 with VIP .140, which passes port
   * 8080 through to the application servers. @default false
   */
  readonly deviceNetwork?: boolean;
  /** Cassandra on the three first nodes (not run: its units are skipped; its firewall rules are rendered). @default false */
  readonly cassandra?: boolean;
  /** The host firewall. @default the shipped defaults, plus the client as a database client when there is a database */
  readonly firewall?: FirewallSpec;
  /** The application service's health check. @default the shipped default (HTTP GET /healthz) */
  readonly applicationHealthCheck?: HealthCheckSpec;
}

/**
 * The fabric every namespace test runs: three nodes in 198.51.100.0/24, VIP .10, gateway .1,
 * plus the clusters the options add.
 */
export function namespaceFabricSpec(options: NamespaceFabricOptions = {}): FabricSpec {
  const appliances = [
    { name: 'node1', managementAddress: '198.51.100.11' },
    { name: 'node2', managementAddress: '198.51.100.12' },
    { name: 'node3', managementAddress: '198.51.100.13' },
    ...(options.monitoringPair ? [{ name: 'node4', managementAddress: '198.51.100.14' }, { name: 'node5', managementAddress: '198.51.100.15' }] : []),
  ];
  const device = NAMESPACE_DEVICE_NETWORK;
  return {
    name: 'nsfab',
    managementNetwork: { cidr: options.deviceNetwork ? '198.51.100.0/25' : '198.51.100.0/24', gateway: '198.51.100.1' },
    vip: '198.51.100.10',
    appliances,
    ...(options.advertIntervalSeconds !== undefined ? { highAvailability: { advertIntervalSeconds: options.advertIntervalSeconds } } : {}),
    ...(options.loadBalancer ? { loadBalancer: options.loadBalancer } : {}),
    ...(options.watchdog ? { watchdog: options.watchdog } : {}),
    ...(options.database ? { database: { vip: NAMESPACE_DATABASE_VIP } } : {}),
    ...(options.monitoringPair ? { monitoring: { members: ['node4', 'node5'], vip: NAMESPACE_MONITORING_VIP } } : {}),
    // Devices reach the application servers' own port through the device VIP.
    ...(options.cassandra ? { cassandra: { members: ['node1', 'node2', 'node3'] } } : {}),
    ...(options.applicationHealthCheck ? { applicationServers: { service: { healthCheck: options.applicationHealthCheck } } } : {}),
    // The client writes through the database VIP as the application would (it stands for a reporting tool).
    firewall: options.firewall ?? (options.database ? { databaseClientCidrs: [`${CLIENT_ADDRESS}/32`] } : {}),
    ...(options.deviceNetwork ? { deviceNetwork: { cidr: device.cidr, firstAddress: device.firstAddress, vip: device.vip, tcpPorts: [DEFAULT_APPLICATION_SERVICE_PORT] } } : {}),
  };
}

/** A real self-signed certificate and key, as base64 of the PEM bundle HAProxy loads. */
export function selfSignedBundleBase64(commonName = 'fabric.test'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aft3-cert-'));
  try {
    const key = path.join(dir, 'key.pem');
    const crt = path.join(dir, 'crt.pem');
    runOk('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${commonName}`, '-days', '1', '-keyout', key, '-out', crt]);
    return Buffer.from(readFileSync(crt, 'utf8') + readFileSync(key, 'utf8')).toString('base64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The database cluster's TLS secrets as Terraform makes them: a CA, and a server certificate it signs for `addresses` (base64 PEM each). */
export function databaseTlsSecrets(addresses: readonly string[]): {
  databaseCaCertificatePemBase64: string;
  databaseServerCertificatePemBase64: string;
  databaseServerKeyPemBase64: string;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'aft3-dbca-'));
  try {
    const f = (name: string) => path.join(dir, name);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    runOk('openssl', ['req', '-x509', ...ec, '-subj', '/CN=test database CA', '-days', '1', '-keyout', f('ca.key'), '-out', f('ca.pem')]);
    runOk('openssl', ['req', '-new', ...ec, '-subj', '/CN=test database', '-keyout', f('server.key'), '-out', f('server.csr')]);
    writeFileSync(f('ext.cnf'), `subjectAltName=${addresses.map((a) => `IP:${a}`).join(',')}\nextendedKeyUsage=serverAuth\n`);
    runOk('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f('ext.cnf'), '-out', f('server.pem')]);
    const b64 = (name: string) => Buffer.from(readFileSync(f(name), 'utf8')).toString('base64');
    return { databaseCaCertificatePemBase64: b64('ca.pem'), databaseServerCertificatePemBase64: b64('server.pem'), databaseServerKeyPemBase64: b64('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RenderedFabric extends FabricInput {
  readonly model: FabricModel;
  /** The generated secrets, for tests that log in as a client would (never printed). */
  readonly secrets: FabricSecrets;
  /** Each node's configuration bundle, by node name. */
  readonly bundles: Readonly<Record<string, NodeBundle>>;
}

/**
 * The secrets after one raise of database.passwordGeneration, as the plan's
 * password slots give them: the current passwords become the previous ones,
 * the next ones current, and each account gets a new next one.
 */
export function rotatedDatabasePasswords(secrets: FabricSecrets): FabricSecrets {
  return {
    ...secrets,
    databaseReplicationPasswordPrevious: secrets.databaseReplicationPassword,
    databaseReplicationPassword: secrets.databaseReplicationPasswordNext,
    databaseReplicationPasswordNext: randomBytes(12).toString('hex'),
    databaseApplicationPasswordPrevious: secrets.databaseApplicationPassword,
    databaseApplicationPassword: secrets.databaseApplicationPasswordNext,
    databaseApplicationPasswordNext: randomBytes(12).toString('hex'),
  };
}

/**
 * Renders every node's cloud-init exactly as a deployment would, with a real
 * certificate and a random stats password; or with the secrets of an earlier
 * rendering, as a later deployment of the same fabric would (its Terraform
 * state keeps them).
 */
export function renderFabric(spec: FabricSpec, earlierSecrets?: FabricSecrets): RenderedFabric {
  const model = buildFabricModel(spec, { kind: 'test', watchdogModule: 'softdog', macPrefix: '52:54:00' }, 'test/Fabric');
  const secrets: FabricSecrets = earlierSecrets ?? {
    statsPassword: randomBytes(12).toString('hex'),
    tlsBundlePemBase64: selfSignedBundleBase64(),
    ...(model.cassandra ? { cassandraAdminPassword: randomBytes(12).toString('hex') } : {}),
    ...(model.database
      ? {
          databaseReplicationPasswordPrevious: randomBytes(12).toString('hex'),
          databaseReplicationPassword: randomBytes(12).toString('hex'),
          databaseReplicationPasswordNext: randomBytes(12).toString('hex'),
          databaseApplicationPasswordPrevious: randomBytes(12).toString('hex'),
          databaseApplicationPassword: randomBytes(12).toString('hex'),
          databaseApplicationPasswordNext: randomBytes(12).toString('hex'),
          ...databaseTlsSecrets(databaseServerAddresses(model, model.database)),
        }
      : {}),
  };
  const rendered = model.nodes.map((node) => ({ node, ci: renderNodeCloudInit(model, node, secrets) }));
  return {
    model,
    secrets,
    vip: model.vip,
    frontends: frontendTargets(model),
    ...(model.deviceNetwork ? { clientAddresses: { [model.deviceNetwork.interfaceName]: deviceClientAddress(model.deviceNetwork.cidr) } } : {}),
    nodes: rendered.map(({ node, ci }) => ({ name: node.name, userData: ci.userData, files: ci.files, networkConfigData: ci.networkConfigData })),
    bundles: Object.fromEntries(rendered.map(({ node, ci }) => [node.name, ci.bundle])),
  };
}

/** The client's address on the device network: only the namespace fabric's device network has one chosen. */
function deviceClientAddress(cidr: string): string {
  if (cidr !== NAMESPACE_DEVICE_NETWORK.cidr) throw new Error(`the harness has a client address for the device network ${NAMESPACE_DEVICE_NETWORK.cidr} only, not ${cidr}`);
  return NAMESPACE_DEVICE_NETWORK.client;
}

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FabricSecrets, renderNodeCloudInit } from '../../cloud-init/cloud-config';
import { buildFabricModel } from '../../model/build-model';
import { FabricModel } from '../../model/fabric-model';
import { FabricSpec, WatchdogSpec } from '../../model/fabric-spec';
import { runOk } from './exec';
import { FabricInput } from './fabric-harness';

/** Where the database VIP is when a namespace fabric has the database cluster. */
export const NAMESPACE_DATABASE_VIP = '198.51.100.20';

/**
 * The fabric every namespace test runs: three nodes in 198.51.100.0/24, VIP .10, gateway .1;
 * with `database`, the database cluster on the first two nodes behind VIP .20.
 */
export function namespaceFabricSpec(options: { advertIntervalSeconds?: number; watchdog?: WatchdogSpec; database?: boolean } = {}): FabricSpec {
  return {
    name: 'nsfab',
    managementNetwork: { cidr: '198.51.100.0/24', gateway: '198.51.100.1' },
    vip: '198.51.100.10',
    appliances: [
      { name: 'node1', managementAddress: '198.51.100.11' },
      { name: 'node2', managementAddress: '198.51.100.12' },
      { name: 'node3', managementAddress: '198.51.100.13' },
    ],
    ...(options.advertIntervalSeconds !== undefined ? { highAvailability: { advertIntervalSeconds: options.advertIntervalSeconds } } : {}),
    ...(options.watchdog ? { watchdog: options.watchdog } : {}),
    ...(options.database ? { database: { vip: NAMESPACE_DATABASE_VIP } } : {}),
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

export interface RenderedFabric extends FabricInput {
  readonly model: FabricModel;
  /** The generated secrets, for tests that log in as a client would (never printed). */
  readonly secrets: FabricSecrets;
}

/** Renders every node's cloud-init exactly as a deployment would, with a real certificate and a random stats password. */
export function renderFabric(spec: FabricSpec): RenderedFabric {
  const model = buildFabricModel(spec, { kind: 'test', watchdogModule: 'softdog', macPrefix: '52:54:00' }, 'test/Fabric');
  const secrets: FabricSecrets = {
    statsPassword: randomBytes(12).toString('hex'),
    tlsBundlePemBase64: selfSignedBundleBase64(),
    ...(model.database ? { databaseReplicationPassword: randomBytes(12).toString('hex'), databaseApplicationPassword: randomBytes(12).toString('hex') } : {}),
  };
  return {
    model,
    secrets,
    vip: model.vip,
    nodes: model.nodes.map((node) => {
      const ci = renderNodeCloudInit(model, node, secrets);
      return { name: node.name, userData: ci.userData, files: ci.files, networkConfigData: ci.networkConfigData };
    }),
  };
}

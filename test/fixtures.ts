import { FabricSpec } from '../model/fabric-spec';
import { PlatformTraits } from '../model/fabric-model';
import type { DatabaseSecrets } from '../cloud-init/database';

/** A valid three-node fabric in 198.51.100.0/24; tests change one thing at a time. */
export function threeNodeSpec(overrides: Partial<FabricSpec> = {}): FabricSpec {
  return {
    name: 'testfab',
    managementNetwork: {
      cidr: '198.51.100.0/24',
      gateway: '198.51.100.1',
      dnsServers: ['198.51.100.53'],
      searchDomains: ['fabric.example.net'],
      ntpServers: ['198.51.100.123'],
    },
    vip: '198.51.100.10',
    appliances: [
      { name: 'node1', managementAddress: '198.51.100.11' },
      { name: 'node2', managementAddress: '198.51.100.12' },
      { name: 'node3', managementAddress: '198.51.100.13' },
    ],
    ...overrides,
  };
}

/** threeNodeSpec's three nodes and a pair db1/db2 (198.51.100.21-22) for the database or monitoring clusters. */
export const FIVE_APPLIANCES: NonNullable<FabricSpec['appliances']> = [
  { name: 'node1', managementAddress: '198.51.100.11' },
  { name: 'node2', managementAddress: '198.51.100.12' },
  { name: 'node3', managementAddress: '198.51.100.13' },
  { name: 'db1', managementAddress: '198.51.100.21' },
  { name: 'db2', managementAddress: '198.51.100.22' },
];

export const TEST_PLATFORM: PlatformTraits = { kind: 'test', watchdogModule: 'i6300esb', macPrefix: '52:54:00' };

/** Stand-ins for the Terraform references, so rendered files are complete. */
export const TEST_SECRETS = { statsPassword: 'TestOnlyStatsPassword0', tlsBundlePemBase64: 'VEVTVA==', cassandraAdminPassword: 'TestOnlyCassandra0' };
/** TEST_SECRETS plus the database cluster's (the PEM stand-ins are base64 of TEST-CA, TEST-CRT and TEST-KEY). */
export const TEST_DATABASE_SECRETS = {
  ...TEST_SECRETS,
  databaseReplicationPassword: 'TestOnlyReplication0',
  databaseApplicationPassword: 'TestOnlyApplication0',
  databaseReplicationPasswordPrevious: 'TestOnlyReplicationPrevious0',
  databaseReplicationPasswordNext: 'TestOnlyReplicationNext0',
  databaseApplicationPasswordPrevious: 'TestOnlyApplicationPrevious0',
  databaseApplicationPasswordNext: 'TestOnlyApplicationNext0',
  databaseCaCertificatePemBase64: 'VEVTVC1DQQ==',
  databaseServerCertificatePemBase64: 'VEVTVC1DUlQ=',
  databaseServerKeyPemBase64: 'VEVTVC1LRVk=',
};

/** The six database passwords a node's database.env holds (test values, never a real secret). */
export const TEST_NODE_DATABASE_PASSWORDS = {
  replicationPassword: 'ReplicationTestOnly7',
  replicationPasswordPrevious: 'ReplicationPreviousTestOnly6',
  replicationPasswordNext: 'ReplicationNextTestOnly8',
  applicationPassword: 'ApplicationTestOnly8',
  applicationPasswordPrevious: 'ApplicationPreviousTestOnly7',
  applicationPasswordNext: 'ApplicationNextTestOnly9',
};

/** What a database node's files are rendered with: the passwords above and stand-in TLS material. */
export const TEST_NODE_DATABASE_SECRETS: DatabaseSecrets = { ...TEST_NODE_DATABASE_PASSWORDS, caCertificatePemBase64: 'Q0E=', serverCertificatePemBase64: 'Q1JU', serverKeyPemBase64: 'S0VZ' };

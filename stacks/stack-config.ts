import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { FabricValidationError } from '../model/errors';
import { FabricSpec } from '../model/fabric-spec';

/**
 * Reads an example stack's YAML config. Structure only: an unknown key is
 * almost always a typo, so it is an error here; values are validated by the
 * fabric model.
 */
export function readStackConfig<T>(file: string, allowedTopLevel: readonly string[]): T {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FabricValidationError([{ path: file, message: `cannot read the config: ${(err as Error).message}`, fix: 'fix the YAML syntax at the line shown' }]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new FabricValidationError([{ path: file, message: 'the config is not a YAML mapping', fix: `write a mapping with the keys ${allowedTopLevel.join(', ')}` }]);
  }
  const unknown = Object.keys(data).filter((k) => !allowedTopLevel.includes(k));
  if (unknown.length > 0) {
    throw new FabricValidationError(unknown.map((k) => ({ path: file, message: `unknown key '${k}'`, fix: `use only ${allowedTopLevel.join(', ')}` })));
  }
  checkFabricKeys(file, (data as { fabric?: FabricSpec }).fabric);
  return data as T;
}

/** The keys FabricSpec knows, nested; `[]` marks a list of objects. */
const FABRIC_KEYS: Record<string, unknown> = {
  name: 1,
  appliances: [{ name: 1, managementAddress: 1, sizing: { vcpus: 1, memoryMiB: 1, diskGiB: 1 }, host: 1, deviceAddress: 1 }],
  addressPlan: { count: 1, firstAddress: 1, namePrefix: 1 },
  managementNetwork: { cidr: 1, gateway: 1, dnsServers: 1, searchDomains: 1, ntpServers: 1 },
  vip: 1,
  sizing: { vcpus: 1, memoryMiB: 1, diskGiB: 1 },
  sshAuthorizedKeys: 1,
  highAvailability: { advertIntervalSeconds: 1, vrrpMode: 1, preempt: 1 },
  loadBalancer: { members: 1, guiPort: 1, nbiPorts: 1, statsPort: 1, virtualRouterId: 1, stickyCookieName: 1 },
  applicationServers: { members: 1, service: { name: 1, port: 1, healthCheck: { type: 1, path: 1, command: 1 }, execStart: 1, packages: 1 } },
  database: { members: 1, vip: 1, port: 1, virtualRouterId: 1, databaseName: 1 },
  cassandra: { members: 1, seeds: 1, clusterName: 1, datacenter: 1, aptSource: { url: 1, suite: 1, keyUrl: 1 } },
  monitoring: { members: 1, vip: 1, virtualRouterId: 1, service: { name: 1, port: 1, healthCheck: { type: 1, path: 1, command: 1 }, execStart: 1, packages: 1 } },
  deviceNetwork: { cidr: 1, gateway: 1, routes: 1, firstAddress: 1, vip: 1, virtualRouterId: 1 },
  watchdog: { probeIntervalSeconds: 1, startupGraceSeconds: 1, failuresBeforeRestart: 1, restartsBeforeFailover: 1, restartWindowSeconds: 1, hardwareTimeoutSeconds: 1 },
  installPackagesOnBoot: 1,
};

function checkFabricKeys(file: string, fabric: unknown): void {
  const problems: { path: string; message: string; fix: string }[] = [];
  const walk = (value: unknown, shape: unknown, where: string) => {
    if (Array.isArray(shape)) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, shape[0], `${where}[${i}]`));
      return;
    }
    if (typeof shape !== 'object' || shape === null || typeof value !== 'object' || value === null) return;
    for (const key of Object.keys(value)) {
      const known = (shape as Record<string, unknown>)[key];
      if (known === undefined) {
        problems.push({ path: `${file}: ${where}`, message: `unknown key '${key}'`, fix: `use one of ${Object.keys(shape).join(', ')}` });
      } else {
        walk((value as Record<string, unknown>)[key], known, `${where}.${key}`);
      }
    }
  };
  walk(fabric, FABRIC_KEYS, 'fabric');
  if (problems.length > 0) throw new FabricValidationError(problems);
}

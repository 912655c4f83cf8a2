import { inNetwork, isIpv4, offsetIpv4, parseIpv4Cidr, Ipv4Network } from './addresses';
import { ProblemCollector } from './errors';
import {
  ApplicationService,
  FabricModel,
  HealthCheck,
  ManagementNetwork,
  NodeModel,
  NodeRole,
  PlatformTraits,
  Sizing,
  VrrpInstance,
} from './fabric-model';
import { ApplianceSpec, FabricSpec, SizingSpec } from './fabric-spec';
import { derivedMac, derivedRouterId, isDnsLabel } from './identifiers';

export const DEFAULT_SIZING: Sizing = { vcpus: 4, memoryMiB: 32768, diskGiB: 100 };
export const DEFAULT_ADVERT_INTERVAL_SECONDS = 0.4;
const GUEST_INTERFACE = 'eth0';
const HAPROXY_HEALTH_PORT = 8405;
/** Priority of the first member of a VRRP instance; each further member gets 10 less, so no two are equal. */
const TOP_PRIORITY = 150;
const PRIORITY_STEP = 10;

/**
 * Validates a fabric description once, up front, and returns the normalized
 * model. Throws one FabricValidationError listing every problem found.
 */
export function buildFabricModel(spec: FabricSpec, platform: PlatformTraits, constructPath: string): FabricModel {
  const problems = new ProblemCollector(constructPath);

  if (!isDnsLabel(spec.name)) {
    problems.add('name', `fabric name '${String(spec.name)}' is not a DNS label`, "use lower-case letters, digits and '-', at most 63 characters, e.g. 'fabric1'");
  }

  const network = buildNetwork(spec, problems);
  const subnet = network ? parseIpv4Cidr(network.cidr) : undefined;
  const appliances = listAppliances(spec, problems);
  const defaultSizing = mergeSizing(DEFAULT_SIZING, spec.sizing, 'sizing', problems);

  // The VIP.
  const vipOk = isIpv4(spec.vip);
  if (!vipOk) {
    problems.add('vip', `VIP '${String(spec.vip)}' is not an IPv4 address`, "give a dotted-quad address inside the management network, e.g. '198.51.100.10'");
  } else if (subnet) {
    checkHostAddress('vip', 'VIP', spec.vip, subnet, problems);
    if (network && spec.vip === network.gateway) {
      problems.add('vip', `VIP '${spec.vip}' is the gateway address`, 'choose a free address in the management network for the VIP');
    }
  }

  // The appliances.
  const nodes: NodeModel[] = [];
  const seenNames = new Map<string, number>();
  const seenAddresses = new Map<string, number>();
  appliances.forEach((appliance, index) => {
    const where = `appliances[${index}]`;
    if (!isDnsLabel(appliance.name)) {
      problems.add(`${where}.name`, `appliance name '${String(appliance.name)}' is not a DNS label`, "use lower-case letters, digits and '-' (no dots or underscores), at most 63 characters, e.g. 'node1'");
    } else if (seenNames.has(appliance.name)) {
      problems.add(`${where}.name`, `appliance name '${appliance.name}' is used twice (also appliances[${seenNames.get(appliance.name)}])`, 'give every appliance its own name');
    } else {
      seenNames.set(appliance.name, index);
    }
    const address = appliance.managementAddress;
    if (!isIpv4(address)) {
      problems.add(`${where}.managementAddress`, `management address '${String(address)}' of appliance '${appliance.name}' is not an IPv4 address`, "give a dotted-quad address inside the management network, e.g. '198.51.100.11'");
    } else {
      if (seenAddresses.has(address)) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' is already used by appliances[${seenAddresses.get(address)}]`, 'give every appliance its own address');
      } else {
        seenAddresses.set(address, index);
      }
      if (subnet) checkHostAddress(`${where}.managementAddress`, `management address of appliance '${appliance.name}'`, address, subnet, problems);
      if (vipOk && address === spec.vip) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' equals the fabric VIP`, 'the VIP must be an address no node owns: change the VIP or the node address');
      }
      if (network && address === network.gateway) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' is the gateway`, 'choose a free address in the management network');
      }
    }
    const sizing = mergeSizing(defaultSizing, appliance.sizing, `${where}.sizing`, problems);
    nodes.push({
      name: appliance.name,
      fqdn: network && network.searchDomains.length > 0 ? `${appliance.name}.${network.searchDomains[0]}` : appliance.name,
      index,
      managementAddress: address,
      managementMac: derivedMac(platform.macPrefix, platform.macFourthOctetMask ?? 0xff, spec.name, appliance.name, GUEST_INTERFACE),
      roles: [],
      sizing,
      host: appliance.host,
    });
  });

  // High availability.
  const ha = spec.highAvailability ?? {};
  const advertInterval = ha.advertIntervalSeconds ?? DEFAULT_ADVERT_INTERVAL_SECONDS;
  if (typeof advertInterval !== 'number' || !(advertInterval >= 0.01 && advertInterval <= 40.95) || Math.abs(Math.round(advertInterval * 100) - advertInterval * 100) > 1e-9) {
    problems.add('highAvailability.advertIntervalSeconds', `advert interval ${String(advertInterval)} s is outside VRRPv3's range`, 'use 0.01 to 40.95 seconds in steps of 0.01 (default 0.4)');
  }
  const vrrpMode = ha.vrrpMode ?? 'unicast';
  if (vrrpMode !== 'unicast' && vrrpMode !== 'multicast') {
    problems.add('highAvailability.vrrpMode', `VRRP mode '${String(vrrpMode)}' is unknown`, "use 'unicast' (default) or 'multicast'");
  }

  // Load-balancer cluster.
  const lb = spec.loadBalancer ?? {};
  const lbMembers = lb.members ?? nodes.slice(0, 2).map((n) => n.name);
  checkMembers('loadBalancer.members', 'load-balancer cluster', lbMembers, seenNames, problems);
  if (lbMembers.length < 2) {
    problems.add('loadBalancer.members', `the load-balancer cluster has ${lbMembers.length} node(s) [${lbMembers.join(', ')}] but holding the VIP highly available needs 2`, 'add appliances to the fabric (or name two in loadBalancer.members)');
  }
  const routerId = lb.virtualRouterId ?? derivedRouterId(spec.name, 'fabric_vip');
  if (!Number.isInteger(routerId) || routerId < 1 || routerId > 255) {
    problems.add('loadBalancer.virtualRouterId', `VRRP router id ${String(routerId)} is outside 1..255`, 'use a whole number from 1 to 255 that no other VRRP instance on this network uses, or leave it out to derive one');
  }

  // Application-server cluster.
  const appSpec = spec.applicationServers ?? {};
  const appMembers = appSpec.members ?? nodes.map((n) => n.name);
  checkMembers('applicationServers.members', 'application-server cluster', appMembers, seenNames, problems);
  if (appMembers.length < 1) {
    problems.add('applicationServers.members', 'the application-server cluster is empty', 'name at least one appliance, or leave members out to use every appliance');
  }
  const service = buildService(spec, problems);

  // Ports on one node must not collide.
  const guiPort = lb.guiPort ?? 443;
  const nbiPorts = lb.nbiPorts ?? [8443];
  const statsPort = lb.statsPort ?? 8404;
  const ports: [string, number][] = [
    ['loadBalancer.guiPort', guiPort],
    ...nbiPorts.map((p, i): [string, number] => [`loadBalancer.nbiPorts[${i}]`, p]),
    ['loadBalancer.statsPort', statsPort],
    ['applicationServers.service.port', service.port],
  ];
  const usedPorts = new Map<number, string>([[HAPROXY_HEALTH_PORT, 'the HAProxy health endpoint']]);
  for (const [where, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.add(where, `port ${String(port)} is not a TCP port`, 'use a whole number from 1 to 65535');
    } else if (usedPorts.has(port)) {
      problems.add(where, `port ${port} is already taken by ${usedPorts.get(port)}`, 'give every listener its own port');
    } else {
      usedPorts.set(port, where);
    }
  }
  const cookie = lb.stickyCookieName ?? 'FABRICNODE';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookie)) {
    problems.add('loadBalancer.stickyCookieName', `cookie name '${cookie}' is not a plain token`, "use letters, digits, '_' or '-'");
  }

  // Watchdog.
  const wd = spec.watchdog ?? {};
  const watchdog = {
    probeIntervalSeconds: positiveInteger('watchdog.probeIntervalSeconds', wd.probeIntervalSeconds ?? 1, problems),
    failuresBeforeRestart: positiveInteger('watchdog.failuresBeforeRestart', wd.failuresBeforeRestart ?? 3, problems),
    restartsBeforeFailover: positiveInteger('watchdog.restartsBeforeFailover', wd.restartsBeforeFailover ?? 3, problems),
    restartWindowSeconds: positiveInteger('watchdog.restartWindowSeconds', wd.restartWindowSeconds ?? 300, problems),
    hardwareTimeoutSeconds: positiveInteger('watchdog.hardwareTimeoutSeconds', wd.hardwareTimeoutSeconds ?? 60, problems),
    deviceModule: platform.watchdogModule,
  };

  const sshAuthorizedKeys = spec.sshAuthorizedKeys ?? [];
  sshAuthorizedKeys.forEach((key, i) => {
    if (typeof key !== 'string' || /PRIVATE KEY/.test(key)) {
      problems.add(`sshAuthorizedKeys[${i}]`, 'this is a private key, not a public one', 'give the public key (the .pub file); never put a private key in the fabric config');
    } else if (!/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/.test(key.trim())) {
      problems.add(`sshAuthorizedKeys[${i}]`, `'${key.slice(0, 24)}...' is not an OpenSSH public key`, "give one key per entry, in the form 'ssh-ed25519 AAAA... comment'");
    }
  });

  problems.throwIfAny();

  // Everything below runs on validated input only.
  const roleMap = new Map<string, NodeRole[]>(nodes.map((n) => [n.name, []]));
  lbMembers.forEach((m) => roleMap.get(m)!.push('load-balancer'));
  appMembers.forEach((m) => roleMap.get(m)!.push('application-server'));
  const finalNodes = nodes.map((n) => ({ ...n, roles: roleMap.get(n.name)! }));
  const byName = new Map(finalNodes.map((n) => [n.name, n]));

  const fabricVrrp: VrrpInstance = {
    name: 'fabric_vip',
    vip: spec.vip,
    prefixLength: subnet!.prefixLength,
    interfaceName: GUEST_INTERFACE,
    virtualRouterId: routerId,
    advertIntervalSeconds: advertInterval,
    mode: vrrpMode,
    preempt: ha.preempt ?? false,
    members: lbMembers.map((m, i) => ({ node: m, address: byName.get(m)!.managementAddress, priority: TOP_PRIORITY - i * PRIORITY_STEP })),
    trackedProcesses: ['haproxy'],
  };

  return {
    constructPath,
    name: spec.name,
    platform,
    network: network!,
    vip: spec.vip,
    nodes: finalNodes,
    loadBalancer: {
      members: lbMembers,
      vrrp: fabricVrrp,
      guiPort,
      nbiPorts,
      statsPort,
      healthPort: HAPROXY_HEALTH_PORT,
      stickyCookieName: cookie,
    },
    applicationServers: { members: appMembers, service },
    watchdog,
    sshAuthorizedKeys: sshAuthorizedKeys.map((k) => k.trim()),
    installPackagesOnBoot: spec.installPackagesOnBoot ?? true,
  };
}

function buildNetwork(spec: FabricSpec, problems: ProblemCollector): ManagementNetwork | undefined {
  const net = spec.managementNetwork;
  if (!net || typeof net !== 'object') {
    problems.add('managementNetwork', 'the management network is missing', "give managementNetwork with at least cidr and gateway, e.g. { cidr: '198.51.100.0/24', gateway: '198.51.100.1' }");
    return undefined;
  }
  const subnet = parseIpv4Cidr(net.cidr);
  if (!subnet) {
    problems.add('managementNetwork.cidr', `'${String(net.cidr)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '198.51.100.0/24'");
  } else {
    if (subnet.address.toString() !== subnet.networkAddress) {
      problems.add('managementNetwork.cidr', `'${net.cidr}' has host bits set`, `write the network address: '${subnet.networkAddress}/${subnet.prefixLength}'`);
    }
    if (subnet.prefixLength > 29) {
      problems.add('managementNetwork.cidr', `'${net.cidr}' is too small for a fabric (a /${subnet.prefixLength} has at most ${2 ** (32 - subnet.prefixLength)} addresses)`, 'use a /29 or larger network');
    }
  }
  if (!isIpv4(net.gateway)) {
    problems.add('managementNetwork.gateway', `gateway '${String(net.gateway)}' is not an IPv4 address`, "give the router's address inside the management network");
  } else if (subnet) {
    checkHostAddress('managementNetwork.gateway', 'gateway', net.gateway, subnet, problems);
  }
  (net.dnsServers ?? []).forEach((s, i) => {
    if (!isIpv4(s)) problems.add(`managementNetwork.dnsServers[${i}]`, `DNS server '${String(s)}' is not an IPv4 address`, 'list resolvers by address');
  });
  (net.ntpServers ?? []).forEach((s, i) => {
    if (!isIpv4(s) && !(typeof s === 'string' && /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(s))) {
      problems.add(`managementNetwork.ntpServers[${i}]`, `NTP server '${String(s)}' is neither an IPv4 address nor a host name`, 'list NTP servers by address or host name');
    }
  });
  (net.searchDomains ?? []).forEach((d, i) => {
    if (typeof d !== 'string' || !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(d)) {
      problems.add(`managementNetwork.searchDomains[${i}]`, `search domain '${String(d)}' is not a domain name`, "use lower-case labels separated by dots, e.g. 'fabric.example.net'");
    }
  });
  if (!subnet) return undefined;
  return {
    interfaceName: GUEST_INTERFACE,
    cidr: `${subnet.networkAddress}/${subnet.prefixLength}`,
    networkAddress: subnet.networkAddress,
    prefixLength: subnet.prefixLength,
    gateway: net.gateway,
    dnsServers: net.dnsServers ?? [],
    searchDomains: net.searchDomains ?? [],
    ntpServers: net.ntpServers ?? [],
  };
}

function listAppliances(spec: FabricSpec, problems: ProblemCollector): ApplianceSpec[] {
  if (spec.appliances && spec.addressPlan) {
    problems.add('appliances', 'both appliances and addressPlan are given', 'list the appliances one by one or give an addressPlan, not both');
    return [];
  }
  if (spec.addressPlan) {
    const plan = spec.addressPlan;
    if (!Number.isInteger(plan.count) || plan.count < 1 || plan.count > 250) {
      problems.add('addressPlan.count', `appliance count ${String(plan.count)} is not a whole number from 1 to 250`, 'give how many appliances the fabric has');
      return [];
    }
    if (!isIpv4(plan.firstAddress)) {
      problems.add('addressPlan.firstAddress', `'${String(plan.firstAddress)}' is not an IPv4 address`, "give the first appliance's address, e.g. '198.51.100.11'");
      return [];
    }
    const prefix = plan.namePrefix ?? 'node';
    const out: ApplianceSpec[] = [];
    for (let i = 0; i < plan.count; i++) {
      const address = offsetIpv4(plan.firstAddress, i);
      if (!address) {
        problems.add('addressPlan', `${plan.count} addresses from ${plan.firstAddress} run past 255.255.255.255`, 'start the plan lower');
        return out;
      }
      out.push({ name: `${prefix}${i + 1}`, managementAddress: address });
    }
    return out;
  }
  if (!Array.isArray(spec.appliances) || spec.appliances.length === 0) {
    problems.add('appliances', 'the fabric has no appliances', 'list the appliances (name and managementAddress each) or give an addressPlan with a count and a first address');
    return [];
  }
  return spec.appliances;
}

function checkHostAddress(where: string, what: string, address: string, subnet: Ipv4Network, problems: ProblemCollector): void {
  const cidr = `${subnet.networkAddress}/${subnet.prefixLength}`;
  if (!inNetwork(address, subnet)) {
    problems.add(where, `${what} '${address}' is outside the management network ${cidr}`, `choose an address inside ${cidr}`);
  } else if (address === subnet.networkAddress) {
    problems.add(where, `${what} '${address}' is the network address of ${cidr}`, `choose a host address between ${offsetIpv4(subnet.networkAddress, 1)} and ${offsetIpv4(subnet.broadcastAddress, -1)}`);
  } else if (address === subnet.broadcastAddress) {
    problems.add(where, `${what} '${address}' is the broadcast address of ${cidr}`, `choose a host address between ${offsetIpv4(subnet.networkAddress, 1)} and ${offsetIpv4(subnet.broadcastAddress, -1)}`);
  }
}

function checkMembers(where: string, cluster: string, members: unknown, known: Map<string, number>, problems: ProblemCollector): void {
  if (!Array.isArray(members)) {
    problems.add(where, `members of the ${cluster} are not a list`, 'give a list of appliance names');
    return;
  }
  const seen = new Set<string>();
  members.forEach((m, i) => {
    if (!known.has(m)) {
      problems.add(`${where}[${i}]`, `'${String(m)}' in the ${cluster} is not an appliance of this fabric`, `use one of: ${[...known.keys()].join(', ')}`);
    } else if (seen.has(m)) {
      problems.add(`${where}[${i}]`, `'${m}' is listed twice in the ${cluster}`, 'list every member once');
    }
    seen.add(m);
  });
}

function mergeSizing(base: Sizing, override: SizingSpec | undefined, where: string, problems: ProblemCollector): Sizing {
  const merged = { ...base, ...(override ?? {}) };
  // Only the keys given here: inherited values were checked where they were given.
  for (const key of ['vcpus', 'memoryMiB', 'diskGiB'] as const) {
    if (override?.[key] === undefined) continue;
    const value = merged[key];
    if (!Number.isInteger(value) || value <= 0) {
      problems.add(`${where}.${key}`, `${key} ${String(value)} is not a positive whole number`, `give a positive whole number (default ${DEFAULT_SIZING[key]})`);
    }
  }
  return merged;
}

function positiveInteger(where: string, value: number, problems: ProblemCollector): number {
  if (!Number.isInteger(value) || value <= 0) {
    problems.add(where, `${String(value)} is not a positive whole number`, 'give a positive whole number');
  }
  return value;
}

function buildService(spec: FabricSpec, problems: ProblemCollector): ApplicationService {
  const s = spec.applicationServers?.service ?? {};
  const where = 'applicationServers.service';
  const name = s.name ?? 'fabric-app';
  if (!/^[a-zA-Z0-9:_.\\-]+$/.test(name) || name.endsWith('.service')) {
    problems.add(`${where}.name`, `'${name}' is not a systemd unit name`, "give the unit name without '.service', using letters, digits, ':', '_', '.', '-'");
  }
  const hc = s.healthCheck ?? {};
  const healthCheck: HealthCheck = { type: hc.type ?? 'http', path: hc.path ?? '/healthz', command: hc.command };
  if (!['http', 'tcp', 'command'].includes(healthCheck.type)) {
    problems.add(`${where}.healthCheck.type`, `health check type '${String(healthCheck.type)}' is unknown`, "use 'http', 'tcp' or 'command'");
  }
  if (healthCheck.type === 'http' && !/^\/[\x21-\x7e]*$/.test(healthCheck.path)) {
    problems.add(`${where}.healthCheck.path`, `health check path '${healthCheck.path}' is not an absolute URL path`, "start it with '/' and use no spaces, e.g. '/healthz'");
  }
  if (healthCheck.type === 'command' && !healthCheck.command) {
    problems.add(`${where}.healthCheck.command`, 'a command health check has no command', 'give the shell command that exits 0 when the service is healthy');
  }
  return {
    name,
    port: s.port ?? 8080,
    healthCheck,
    execStart: s.execStart,
    packages: s.packages ?? (s.execStart ? [] : ['python3']),
  };
}

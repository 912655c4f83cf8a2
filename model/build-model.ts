import { inNetwork, isIpv4, offsetIpv4, parseIpv4Cidr } from './addresses';
import { ProblemCollector } from './errors';
import {
  ApplicationService,
  ConfigurationDelivery,
  FabricModel,
  HealthCheck,
  ManagementNetwork,
  NodeModel,
  NodeRole,
  PlatformTraits,
  ServerChecks,
  Sizing,
  VrrpInstance,
} from './fabric-model';
import * as D from './defaults';
import { ApplianceImageSpec, ApplianceSpec, ConfigurationDeliverySpec, FabricSpec, ServiceSpec, SizingSpec } from './fabric-spec';
import { derivedMac, isDnsLabel, isDomainName, isHostName, isSystemUserName } from './identifiers';
import { RouterIdAllocator } from './vrrp-ids';
import { checkHttpsUrl, checkSafeHostName, checkSafeName, refuseSecretPlaceholders } from './safe-strings';
import { HOST_KEY_TYPES, isOpensshKey, MIN_RSA_BITS, rsaModulusBits, USER_KEY_TYPES } from './ssh-keys';
import { buildServerChecks } from './server-checks';
import { buildFirewall } from './firewall';
import { checkHostAddress, checkMembers, isTcpPort, nonNegativeInteger, positiveInteger } from './clusters/checks';
import { VipRegistry } from './clusters/vip-registry';

export const DEFAULT_SIZING: Sizing = { vcpus: D.DEFAULT_VCPUS, memoryMiB: D.DEFAULT_MEMORY_MIB, diskGiB: D.DEFAULT_DISK_GIB };
/** The built-in demo application's unit name and port, when the user gives no service of their own. */
export const DEFAULT_APPLICATION_SERVICE = { name: D.DEFAULT_APPLICATION_SERVICE_NAME, port: D.DEFAULT_APPLICATION_SERVICE_PORT } as const;
const DEFAULT_MONITORING_SERVICE = { name: D.DEFAULT_MONITORING_SERVICE_NAME, port: D.DEFAULT_MONITORING_SERVICE_PORT } as const;
const GUEST_INTERFACE = 'eth0';
/** The device-management NIC keeps the original's name. */
const DEVICE_INTERFACE = 'eth3';
const HAPROXY_HEALTH_PORT = 8405;

/**
 * Validates a fabric description once, up front, and returns the normalized
 * model. Throws one FabricValidationError listing every problem found.
 */
export function buildFabricModel(spec: FabricSpec, platform: PlatformTraits, constructPath: string): FabricModel {
  const problems = new ProblemCollector(constructPath);
  refuseSecretPlaceholders(spec, problems);

  if (!isDnsLabel(spec.name)) {
    problems.add('name', `fabric name '${String(spec.name)}' is not a DNS label`, "use lower-case letters, digits and '-', at most 63 characters, e.g. 'fabric1'");
  }

  const network = buildNetwork(spec, problems);
  const subnet = network ? parseIpv4Cidr(network.cidr) : undefined;
  const appliances = listAppliances(spec, problems);
  const defaultSizing = mergeSizing(DEFAULT_SIZING, spec.sizing, 'sizing', problems);
  const vips = new VipRegistry(problems);

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
      if (network && address === network.gateway) {
        problems.add(`${where}.managementAddress`, `management address '${address}' of appliance '${appliance.name}' is the gateway`, 'choose a free address in the management network');
      }
      vips.nodeAddress(address, `${where}.managementAddress`, appliance.name);
    }
    const sizing = mergeSizing(defaultSizing, appliance.sizing, `${where}.sizing`, problems);
    const image = checkImageChoice(appliance.image, `${where}.image`, problems);
    // The host names the Cassandra rack too (cassandra-rackdc.properties).
    if (appliance.host !== undefined) checkSafeHostName(appliance.host, `${where}.host`, `host of appliance '${appliance.name}'`, problems);
    nodes.push({
      name: appliance.name,
      fqdn: network && network.searchDomains.length > 0 ? `${appliance.name}.${network.searchDomains[0]}` : appliance.name,
      index,
      managementAddress: address,
      managementMac: derivedMac(platform.macPrefix, platform.macFourthOctetMask ?? 0xff, spec.name, appliance.name, GUEST_INTERFACE),
      roles: [],
      sizing,
      host: appliance.host,
      ...(image ? { image } : {}),
    });
  });

  // High availability.
  const ha = spec.highAvailability ?? {};
  const advertInterval = ha.advertIntervalSeconds ?? D.DEFAULT_ADVERT_INTERVAL_SECONDS;
  if (typeof advertInterval !== 'number' || !(advertInterval >= 0.01 && advertInterval <= 40.95) || Math.abs(Math.round(advertInterval * 100) - advertInterval * 100) > 1e-9) {
    problems.add('highAvailability.advertIntervalSeconds', `advert interval ${String(advertInterval)} s is outside VRRPv3's range`, `use 0.01 to 40.95 seconds in steps of 0.01 (default ${D.DEFAULT_ADVERT_INTERVAL_SECONDS})`);
  }
  const checkInterval = positiveInteger('highAvailability.checkIntervalSeconds', ha.checkIntervalSeconds ?? D.DEFAULT_CHECK_INTERVAL_SECONDS, problems);
  const topPriority = ha.topPriority ?? D.DEFAULT_TOP_PRIORITY;
  if (!Number.isInteger(topPriority) || topPriority < 2 || topPriority > 254) {
    problems.add('highAvailability.topPriority', `VRRP priority ${String(topPriority)} is outside 2 to 254`, `give a whole number from 2 to 254 (default ${D.DEFAULT_TOP_PRIORITY}; 255 belongs to an address owner)`);
  }
  const priorityStep = positiveInteger('highAvailability.priorityStep', ha.priorityStep ?? D.DEFAULT_PRIORITY_STEP, problems);
  const vrrpMode = ha.vrrpMode ?? D.DEFAULT_VRRP_MODE;
  if (vrrpMode !== 'unicast' && vrrpMode !== 'multicast') {
    problems.add('highAvailability.vrrpMode', `VRRP mode '${String(vrrpMode)}' is unknown`, "use 'unicast' (default) or 'multicast'");
  }
  const routerIds = new RouterIdAllocator(spec.name, problems);
  const routerId = (where: string, vipName: string, explicit: number | undefined, segment = 'management') => routerIds.request(segment, where, vipName, explicit);

  // Load-balancer cluster and the fabric VIP.
  const lb = spec.loadBalancer ?? {};
  const lbMembers = lb.members ?? nodes.slice(0, 2).map((n) => n.name);
  checkMembers('loadBalancer.members', 'load-balancer cluster', lbMembers, seenNames, problems);
  // The load-balancer cluster is the largest VRRP cluster (database and monitoring have at most two members).
  const vrrpMembers = Math.max(Array.isArray(lbMembers) ? lbMembers.length : 0, 2);
  if (Number.isInteger(topPriority) && Number.isInteger(priorityStep) && topPriority - (vrrpMembers - 1) * priorityStep < 1) {
    problems.add('highAvailability.priorityStep', `a step of ${priorityStep} from priority ${topPriority} leaves the last of ${vrrpMembers} VRRP members at ${topPriority - (vrrpMembers - 1) * priorityStep}`, `use a step of at most ${Math.floor((topPriority - 1) / (vrrpMembers - 1))}, or a higher topPriority`);
  }
  if (Array.isArray(lbMembers) && lbMembers.length < 2) {
    problems.add('loadBalancer.members', `the load-balancer cluster has ${lbMembers.length} node(s) [${lbMembers.join(', ')}] but holding the VIP highly available needs 2`, 'add appliances to the fabric (or name two in loadBalancer.members)');
  }
  if (subnet && network) vips.vip('vip', 'fabric VIP', spec.vip, subnet, network.gateway);
  const fabricRouterId = routerId('loadBalancer.virtualRouterId', 'the fabric VIP', lb.virtualRouterId);

  // Monitoring: dedicated nodes are not application servers.
  const mon = spec.monitoring ?? {};
  const monMembers = mon.members ?? [];
  checkMembers('monitoring.members', 'monitoring cluster', monMembers, seenNames, problems);
  if (Array.isArray(monMembers) && monMembers.length > 2) {
    problems.add('monitoring.members', `the monitoring cluster has ${monMembers.length} nodes [${monMembers.join(', ')}]`, 'name zero, one or two dedicated monitoring appliances');
  }
  if (Array.isArray(monMembers) && monMembers.length === 2 && mon.vip === undefined) {
    problems.add('monitoring.vip', 'two monitoring nodes form a pair but no monitoring VIP is given', 'give monitoring.vip, an address in the management network that no node uses');
  }
  if (Array.isArray(monMembers) && monMembers.length < 2 && mon.vip !== undefined) {
    problems.add('monitoring.vip', `a monitoring VIP '${String(mon.vip)}' is given but the monitoring cluster has ${monMembers.length} dedicated node(s)`, 'name two monitoring appliances, or leave the VIP out');
  }
  if (mon.vip !== undefined && subnet && network) vips.vip('monitoring.vip', 'monitoring VIP', mon.vip, subnet, network.gateway);
  const monRouterId = Array.isArray(monMembers) && monMembers.length === 2 ? routerId('monitoring.virtualRouterId', 'the monitoring VIP', mon.virtualRouterId) : undefined;

  // Application-server cluster.
  const appSpec = spec.applicationServers ?? {};
  const dedicatedMonitoring = new Set(Array.isArray(monMembers) ? monMembers : []);
  const appMembers = appSpec.members ?? nodes.map((n) => n.name).filter((n) => !dedicatedMonitoring.has(n));
  checkMembers('applicationServers.members', 'application-server cluster', appMembers, seenNames, problems);
  if (Array.isArray(appMembers) && appMembers.length < 1) {
    problems.add('applicationServers.members', 'the application-server cluster is empty', 'name at least one appliance, or leave members out to use every appliance');
  }
  if (Array.isArray(appMembers)) {
    appMembers.filter((m) => dedicatedMonitoring.has(m)).forEach((m) => {
      problems.add('applicationServers.members', `'${m}' is a dedicated monitoring node and cannot also be an application server`, 'remove it from applicationServers.members or from monitoring.members');
    });
  }
  const service = buildService(appSpec.service ?? {}, 'applicationServers.service', DEFAULT_APPLICATION_SERVICE, problems);
  const monitoringService = buildService(mon.service ?? {}, 'monitoring.service', DEFAULT_MONITORING_SERVICE, problems);

  // Database cluster.
  const db = spec.database;
  let dbMembers: string[] = [];
  let dbRouterId: { id: number } | undefined;
  if (db !== undefined) {
    dbMembers = db.members ?? nodes.slice(0, 2).map((n) => n.name);
    checkMembers('database.members', 'database cluster', dbMembers, seenNames, problems);
    if (Array.isArray(dbMembers) && dbMembers.length !== 2) {
      problems.add('database.members', `the database cluster has ${dbMembers.length} node(s) [${dbMembers.join(', ')}]`, 'name exactly two appliances: a primary and its standby');
    }
    if (subnet && network) vips.vip('database.vip', 'database VIP', db.vip, subnet, network.gateway);
    dbRouterId = routerId('database.virtualRouterId', 'the database VIP', db.virtualRouterId);
    if (!isDnsLabel((db.databaseName ?? D.DEFAULT_DATABASE_NAME).replace(/_/g, '-'))) {
      problems.add('database.databaseName', `database name '${db.databaseName}' is not a plain identifier`, "use lower-case letters, digits and '_'");
    }
  }

  // Cassandra.
  const cassandra = spec.cassandra;
  let seeds: string[] = [];
  if (cassandra !== undefined) {
    checkMembers('cassandra.members', 'Cassandra cluster', cassandra.members, seenNames, problems);
    const members = Array.isArray(cassandra.members) ? cassandra.members : [];
    if (members.length < 2) {
      problems.add('cassandra.members', `Cassandra is enabled with ${members.length} member(s)`, 'name at least two appliances in cassandra.members, or leave cassandra out');
    } else if (members.length > 8) {
      problems.add('cassandra.members', `Cassandra has ${members.length} members`, 'run Cassandra on at most 8 appliances, as the original supports');
    }
    seeds = cassandra.seeds ?? members.slice(0, members.length >= 5 ? 3 : 2);
    // Written into cassandra.yaml, cassandra-rackdc.properties and the root installer script.
    if (cassandra.clusterName !== undefined) checkSafeName(cassandra.clusterName, 'cassandra.clusterName', 'Cassandra cluster name', problems);
    if (cassandra.datacenter !== undefined) checkSafeName(cassandra.datacenter, 'cassandra.datacenter', 'Cassandra datacenter', problems);
    const apt = cassandra.aptSource;
    if (apt?.url !== undefined) checkHttpsUrl(apt.url, 'cassandra.aptSource.url', 'Cassandra repository URL', problems);
    if (apt?.keyUrl !== undefined) checkHttpsUrl(apt.keyUrl, 'cassandra.aptSource.keyUrl', 'Cassandra signing key URL', problems);
    if (apt?.suite !== undefined) checkSafeName(apt.suite, 'cassandra.aptSource.suite', 'Cassandra repository suite', problems);
    seeds.forEach((s, i) => {
      if (!members.includes(s)) problems.add(`cassandra.seeds[${i}]`, `seed '${s}' is not a member of the Cassandra cluster`, `choose seeds among ${members.join(', ')}`);
    });
  }

  // Device-management network.
  const device = buildDeviceNetwork(spec, platform, appliances, vips, problems);
  const deviceRouterId = device?.vip !== undefined ? routerId('deviceNetwork.virtualRouterId', 'the device VIP', spec.deviceNetwork?.virtualRouterId, 'device') : undefined;

  // Ports on one node must not collide.
  const guiPort = lb.guiPort ?? D.DEFAULT_GUI_PORT;
  const nbiPorts = lb.nbiPorts ?? [...D.DEFAULT_NBI_PORTS];
  const statsPort = lb.statsPort ?? D.DEFAULT_STATS_PORT;
  const ports: [string, number][] = [
    ['loadBalancer.guiPort', guiPort],
    ...nbiPorts.map((p, i): [string, number] => [`loadBalancer.nbiPorts[${i}]`, p]),
    ['loadBalancer.statsPort', statsPort],
    ['applicationServers.service.port', service.port],
    ['monitoring.service.port', monitoringService.port],
    ...(db ? [['database.port', db.port ?? D.DEFAULT_DATABASE_PORT] as [string, number]] : []),
  ];
  const usedPorts = new Map<number, string>([[HAPROXY_HEALTH_PORT, 'the HAProxy health endpoint']]);
  for (const [where, port] of ports) {
    if (!isTcpPort(where, port, problems)) continue;
    if (usedPorts.has(port)) problems.add(where, `port ${port} is already taken by ${usedPorts.get(port)}`, 'give every listener its own port');
    else usedPorts.set(port, where);
  }
  const cookie = lb.stickyCookieName ?? D.DEFAULT_STICKY_COOKIE_NAME;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cookie)) {
    problems.add('loadBalancer.stickyCookieName', `cookie name '${cookie}' is not a plain token`, "use letters, digits, '_' or '-'");
  }

  const serverTimeoutSeconds = positiveInteger('loadBalancer.serverTimeoutSeconds', lb.serverTimeoutSeconds ?? D.DEFAULT_SERVER_TIMEOUT_SECONDS, problems);
  // The default never exceeds a shorter serverTimeoutSeconds; only a given value above it is refused.
  const readTimeoutSeconds = lb.readTimeoutSeconds ?? Math.min(D.DEFAULT_READ_TIMEOUT_SECONDS, serverTimeoutSeconds);
  if (typeof readTimeoutSeconds !== 'number' || !Number.isFinite(readTimeoutSeconds) || readTimeoutSeconds < 0.1 || Math.round(readTimeoutSeconds * 1000) !== readTimeoutSeconds * 1000) {
    problems.add('loadBalancer.readTimeoutSeconds', `read timeout ${String(readTimeoutSeconds)} s is not a number of seconds of at least 0.1, in whole milliseconds`, `give e.g. ${D.DEFAULT_READ_TIMEOUT_SECONDS} (the default), above the slowest GET the application answers`);
  } else if (readTimeoutSeconds > serverTimeoutSeconds) {
    problems.add('loadBalancer.readTimeoutSeconds', `read timeout ${readTimeoutSeconds} s is longer than serverTimeoutSeconds ${serverTimeoutSeconds} s`, `lower it, or raise serverTimeoutSeconds to at least ${Math.ceil(readTimeoutSeconds)}`);
  }
  const longRequestPaths = lb.longRequestPaths ?? [];
  if (!Array.isArray(longRequestPaths)) problems.add('loadBalancer.longRequestPaths', 'is not a list', "give path prefixes, e.g. ['/reports/', '/export']");
  else
    longRequestPaths.forEach((p, i) => {
      // HAProxy reads the prefixes as words of an ACL: no space, quote, brace or '#' may reach it.
      if (typeof p !== 'string' || !/^\/[A-Za-z0-9/._~%!$&*+,;=:@-]*$/.test(p)) {
        problems.add(`loadBalancer.longRequestPaths[${i}]`, `'${String(p)}' is not a URL path prefix`, "start it with '/' and use only URL path characters (no spaces, quotes, parentheses or '#')");
      }
    });

  const appServerChecks = buildServerChecks('loadBalancer.serverChecks', lb.serverChecks, problems);
  const tlsCertificate = lb.tlsCertificate ?? D.DEFAULT_TLS_CERTIFICATE;
  if (tlsCertificate !== 'generated' && tlsCertificate !== 'terraform-variables') {
    problems.add('loadBalancer.tlsCertificate', `certificate source '${String(tlsCertificate)}' is unknown`, "use 'generated' (the default, self-signed) or 'terraform-variables' (your own certificate and key)");
  }

  // Watchdog.
  const wd = spec.watchdog ?? {};
  const watchdog = {
    probeIntervalSeconds: positiveInteger('watchdog.probeIntervalSeconds', wd.probeIntervalSeconds ?? D.DEFAULT_PROBE_INTERVAL_SECONDS, problems),
    startupGraceSeconds: nonNegativeInteger('watchdog.startupGraceSeconds', wd.startupGraceSeconds ?? D.DEFAULT_STARTUP_GRACE_SECONDS, problems),
    failuresBeforeRestart: positiveInteger('watchdog.failuresBeforeRestart', wd.failuresBeforeRestart ?? D.DEFAULT_FAILURES_BEFORE_RESTART, problems),
    restartsBeforeFailover: positiveInteger('watchdog.restartsBeforeFailover', wd.restartsBeforeFailover ?? D.DEFAULT_RESTARTS_BEFORE_FAILOVER, problems),
    restartWindowSeconds: positiveInteger('watchdog.restartWindowSeconds', wd.restartWindowSeconds ?? D.DEFAULT_RESTART_WINDOW_SECONDS, problems),
    hardwareTimeoutSeconds: positiveInteger('watchdog.hardwareTimeoutSeconds', wd.hardwareTimeoutSeconds ?? D.DEFAULT_HARDWARE_TIMEOUT_SECONDS, problems),
    deviceModule: platform.watchdogModule,
  };

  const sshAuthorizedKeys = spec.sshAuthorizedKeys ?? [];
  sshAuthorizedKeys.forEach((key, i) => {
    if (typeof key !== 'string' || /PRIVATE KEY/.test(key)) {
      problems.add(`sshAuthorizedKeys[${i}]`, 'this is a private key, not a public one', 'give the public key (the .pub file); never put a private key in the fabric config');
    } else if (!isOpensshKey(key, USER_KEY_TYPES)) {
      problems.add(`sshAuthorizedKeys[${i}]`, `'${key.slice(0, 24)}...' is not an OpenSSH public key`, "give one key per entry, in the form 'ssh-ed25519 AAAA... comment'");
    } else {
      // sshd on the nodes would refuse these at login; say so now rather than at the first apply.
      const [type, blob] = key.trim().split(' ');
      const bits = type === 'ssh-rsa' ? rsaModulusBits(blob) : undefined;
      if (type === 'ssh-dss') {
        problems.add(`sshAuthorizedKeys[${i}]`, `'${key.slice(0, 24)}...' is a DSA key, which sshd on the nodes refuses`, 'make an Ed25519 key (ssh-keygen -t ed25519) and give its .pub file');
      } else if (type === 'ssh-rsa' && (bits === undefined || bits < MIN_RSA_BITS)) {
        problems.add(
          `sshAuthorizedKeys[${i}]`,
          `'${key.slice(0, 24)}...' is an RSA key of ${bits === undefined ? 'unreadable size' : `${bits} bits`}; sshd on the nodes refuses RSA keys under ${MIN_RSA_BITS} bits`,
          `make an Ed25519 key (ssh-keygen -t ed25519), or an RSA key of at least ${MIN_RSA_BITS} bits (ssh-keygen -t rsa -b 4096)`,
        );
      }
    }
  });

  const configurationDelivery = buildConfigurationDelivery(spec.configurationDelivery ?? {}, sshAuthorizedKeys.length, problems);
  const firewall = network ? buildFirewall(spec.firewall, { network, hasDatabase: spec.database !== undefined, delivery: configurationDelivery }, problems) : undefined;
  const replaceAppliances = spec.replaceAppliances ?? [];
  checkMembers('replaceAppliances', 'list of appliances to replace', replaceAppliances, seenNames, problems);

  routerIds.assign();
  problems.throwIfAny();

  // Everything below runs on validated input only.
  const roleMap = new Map<string, NodeRole[]>(nodes.map((n) => [n.name, []]));
  const addRole = (members: readonly string[], role: NodeRole) => members.forEach((m) => roleMap.get(m)!.push(role));
  addRole(lbMembers, 'load-balancer');
  addRole(appMembers, 'application-server');
  addRole(dbMembers, 'database');
  addRole(cassandra?.members ?? [], 'cassandra');
  addRole(monMembers, 'monitoring');
  const finalNodes = nodes.map((n) => ({ ...n, roles: roleMap.get(n.name)!, ...(device ? device.addressOf(n.name) : {}) }));
  const byName = new Map(finalNodes.map((n) => [n.name, n]));

  const instance = (name: string, vip: string, prefixLength: number, interfaceName: string, id: number, members: readonly string[], extra: Pick<VrrpInstance, 'purpose'> & Partial<VrrpInstance>): VrrpInstance => ({
    name,
    vip,
    prefixLength,
    interfaceName,
    virtualRouterId: id,
    advertIntervalSeconds: advertInterval,
    checkIntervalSeconds: checkInterval,
    mode: vrrpMode,
    preempt: ha.preempt ?? D.DEFAULT_PREEMPT,
    members: members.map((m, i) => ({
      node: m,
      address: interfaceName === GUEST_INTERFACE ? byName.get(m)!.managementAddress : byName.get(m)!.deviceAddress!,
      priority: topPriority - i * priorityStep,
    })),
    ...extra,
  });
  const prefix = subnet!.prefixLength;
  const dbPort = db?.port ?? D.DEFAULT_DATABASE_PORT;

  return {
    constructPath,
    name: spec.name,
    platform,
    network: network!,
    vip: spec.vip,
    nodes: finalNodes,
    loadBalancer: {
      members: lbMembers,
      vrrp: instance('fabric_vip', spec.vip, prefix, GUEST_INTERFACE, fabricRouterId.id, lbMembers, { purpose: 'fabric' }),
      guiPort,
      nbiPorts,
      statsPort,
      healthPort: HAPROXY_HEALTH_PORT,
      stickyCookieName: cookie,
      serverTimeoutSeconds,
      readTimeoutSeconds,
      longRequestPaths: Array.isArray(longRequestPaths) ? [...longRequestPaths] : [],
      closeSessionsOnServerDown: lb.closeSessionsOnServerDown ?? D.DEFAULT_CLOSE_SESSIONS_ON_SERVER_DOWN,
      serverTcpKeepAlive: lb.serverTcpKeepAlive ?? D.DEFAULT_SERVER_TCP_KEEPALIVE,
      serverChecks: appServerChecks,
      tlsCertificate,
    },
    applicationServers: { members: appMembers, service },
    database: db
      ? {
          members: [dbMembers[0], dbMembers[1]],
          // Database nodes never preempt: a returning node may hold stale data.
          vrrp: instance('database_vip', db.vip, prefix, GUEST_INTERFACE, dbRouterId!.id, dbMembers, { purpose: 'database', preempt: false }),
          port: dbPort,
          // By place in the cluster, not in the fabric: removing another appliance must not change a running server's id.
          serverIds: Object.fromEntries(dbMembers.map((m, i) => [m, i + 1])),
          databaseName: db.databaseName ?? D.DEFAULT_DATABASE_NAME,
          replicationUser: 'fabric_repl',
          applicationUser: 'fabric_app',
          dedicated: !dbMembers.some((m) => appMembers.includes(m)),
        }
      : undefined,
    cassandra: cassandra
      ? {
          members: cassandra.members,
          seeds,
          clusterName: cassandra.clusterName ?? spec.name,
          datacenter: cassandra.datacenter ?? spec.name,
          aptSource: {
            url: cassandra.aptSource?.url ?? D.DEFAULT_CASSANDRA_APT_URL,
            suite: cassandra.aptSource?.suite ?? D.DEFAULT_CASSANDRA_APT_SUITE,
            keyUrl: cassandra.aptSource?.keyUrl ?? D.DEFAULT_CASSANDRA_APT_KEY_URL,
          },
        }
      : undefined,
    monitoring: {
      members: monMembers.length > 0 ? monMembers : lbMembers,
      dedicated: monMembers.length > 0,
      vrrp: monRouterId ? instance('monitoring_vip', mon.vip!, prefix, GUEST_INTERFACE, monRouterId.id, monMembers, { purpose: 'monitoring' }) : undefined,
      service: monitoringService,
    },
    deviceNetwork: device
      ? {
          interfaceName: DEVICE_INTERFACE,
          cidr: device.cidr,
          prefixLength: device.prefixLength,
          gateway: device.gateway,
          routes: device.routes,
          vrrp: deviceRouterId ? instance('device_vip', device.vip!, device.prefixLength, DEVICE_INTERFACE, deviceRouterId.id, lbMembers, { purpose: 'device' }) : undefined,
          tcpPorts: device.tcpPorts,
          serverChecks: device.serverChecks,
          closeSessionsOnServerDown: device.closeSessionsOnServerDown,
          serverTcpKeepAlive: device.serverTcpKeepAlive,
        }
      : undefined,
    watchdog,
    firewall: firewall!,
    sshAuthorizedKeys: sshAuthorizedKeys.map((k) => k.trim()),
    configurationDelivery,
    installPackagesOnBoot: spec.installPackagesOnBoot ?? D.DEFAULT_INSTALL_PACKAGES_ON_BOOT,
    replaceAppliances: [...replaceAppliances],
  };
}

function buildConfigurationDelivery(spec: ConfigurationDeliverySpec, authorizedKeys: number, problems: ProblemCollector): ConfigurationDelivery {
  const where = 'configurationDelivery';
  if (spec.enabled === true && authorizedKeys === 0) {
    problems.add(`${where}.enabled`, 'delivery is on but sshAuthorizedKeys is empty, so Terraform could not log in to any node', "add the public half of the deploy key (the variable '<fabric name>_deploy_private_key' or a key in the SSH agent) to sshAuthorizedKeys");
  }
  const bastion = spec.bastion;
  if (bastion && !isOpensshKey(String(bastion.hostKey ?? ''), HOST_KEY_TYPES)) {
    problems.add(`${where}.bastion.hostKey`, `'${String(bastion.hostKey ?? '').slice(0, 24)}' is not an SSH host public key`, "give the bastion's host key in OpenSSH form, e.g. the content of its /etc/ssh/ssh_host_ed25519_key.pub");
  }
  return {
    enabled: spec.enabled ?? authorizedKeys > 0,
    enabledExplicitly: spec.enabled !== undefined,
    bastion: bastion
      ? {
          host: bastion.host,
          port: positiveInteger(`${where}.bastion.port`, bastion.port ?? D.DEFAULT_BASTION_PORT, problems),
          user: bastion.user ?? D.DEFAULT_BASTION_USER,
          hostKey: String(bastion.hostKey).trim(),
        }
      : undefined,
    connectTimeoutSeconds: positiveInteger(`${where}.connectTimeoutSeconds`, spec.connectTimeoutSeconds ?? D.DEFAULT_CONNECT_TIMEOUT_SECONDS, problems),
    readyTimeoutSeconds: positiveInteger(`${where}.readyTimeoutSeconds`, spec.readyTimeoutSeconds ?? D.DEFAULT_READY_TIMEOUT_SECONDS, problems),
    commonReloadDelaySeconds: commonReloadDelay(spec.commonReloadDelaySeconds ?? D.DEFAULT_COMMON_RELOAD_DELAY_SECONDS, problems),
  };
}

/** The agent accepts a common reload time at most an hour ahead. */
function commonReloadDelay(value: number, problems: ProblemCollector): number {
  const where = 'configurationDelivery.commonReloadDelaySeconds';
  const seconds = positiveInteger(where, value, problems);
  if (Number.isInteger(value) && value > 3600) problems.add(where, `${value} s is more than an hour`, 'give at most 3600 (the agent refuses a reload time further ahead)');
  return seconds;
}

const IMAGE_CHOICES = ['template', 'source', 'volumeName'] as const;

/**
 * An appliance's own image: exactly one of its kinds, as a non-empty string.
 * Which kind the platform takes, and the rest of the shape, its platform checks.
 */
function checkImageChoice(image: ApplianceImageSpec | undefined, where: string, problems: ProblemCollector): ApplianceImageSpec | undefined {
  if (image === undefined) return undefined;
  const loose = image as unknown as Record<string, unknown>;
  const given = typeof image === 'object' && image !== null ? IMAGE_CHOICES.filter((k) => loose[k] !== undefined) : [];
  if (given.length !== 1) {
    problems.add(where, given.length === 0 ? 'the image names none of template, source or volumeName' : `the image gives ${given.join(' and ')}`, 'give exactly one: template (vSphere), source or volumeName (KVM)');
    return undefined;
  }
  if (typeof loose[given[0]] !== 'string' || (loose[given[0]] as string).trim() === '') {
    problems.add(`${where}.${given[0]}`, `the image's ${given[0]} is empty`, `give the ${given[0] === 'template' ? "template VM's name" : given[0] === 'source' ? 'URL or path of a qcow2 image' : "existing volume's name"}`);
    return undefined;
  }
  return image;
}

interface DeviceNetworkDraft {
  readonly cidr: string;
  readonly prefixLength: number;
  readonly gateway?: string;
  readonly routes: string[];
  readonly vip?: string;
  readonly tcpPorts: number[];
  readonly serverChecks: ServerChecks;
  readonly closeSessionsOnServerDown: boolean;
  readonly serverTcpKeepAlive: boolean;
  addressOf(node: string): { deviceAddress: string; deviceMac: string };
}

function buildDeviceNetwork(spec: FabricSpec, platform: PlatformTraits, appliances: ApplianceSpec[], vips: VipRegistry, problems: ProblemCollector): DeviceNetworkDraft | undefined {
  const dn = spec.deviceNetwork;
  if (dn === undefined) {
    appliances.forEach((a, i) => {
      if (a.deviceAddress !== undefined) problems.add(`appliances[${i}].deviceAddress`, `appliance '${a.name}' has a device address but the fabric has no deviceNetwork`, 'add deviceNetwork (cidr and firstAddress), or remove deviceAddress');
    });
    return undefined;
  }
  const subnet = parseIpv4Cidr(dn.cidr);
  if (!subnet) {
    problems.add('deviceNetwork.cidr', `'${String(dn.cidr)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '203.0.113.0/24'");
    return undefined;
  }
  const cidr = `${subnet.networkAddress}/${subnet.prefixLength}`;
  const mgmt = parseIpv4Cidr(spec.managementNetwork?.cidr);
  if (mgmt && (inNetwork(subnet.networkAddress, mgmt) || inNetwork(mgmt.networkAddress, subnet))) {
    problems.add('deviceNetwork.cidr', `device network ${cidr} overlaps the management network ${spec.managementNetwork.cidr}`, 'use a separate network for device management');
  }
  if (dn.gateway !== undefined) {
    if (!isIpv4(dn.gateway)) problems.add('deviceNetwork.gateway', `gateway '${String(dn.gateway)}' is not an IPv4 address`, 'give the router address on the device network');
    else checkHostAddress('deviceNetwork.gateway', 'device gateway', dn.gateway, subnet, problems, 'device network');
  }
  (dn.routes ?? []).forEach((r, i) => {
    if (!parseIpv4Cidr(r)) problems.add(`deviceNetwork.routes[${i}]`, `route '${String(r)}' is not an IPv4 network in CIDR notation`, "write it as address/prefix, e.g. '10.20.0.0/16'");
  });
  if ((dn.routes ?? []).length > 0 && dn.gateway === undefined) {
    problems.add('deviceNetwork.routes', 'routes are given without a gateway', 'give deviceNetwork.gateway');
  }
  const addresses = new Map<string, string>();
  const seen = new Map<string, string>();
  appliances.forEach((a, i) => {
    const address = a.deviceAddress ?? (dn.firstAddress !== undefined && isIpv4(dn.firstAddress) ? offsetIpv4(dn.firstAddress, i) : undefined);
    const where = a.deviceAddress !== undefined ? `appliances[${i}].deviceAddress` : 'deviceNetwork.firstAddress';
    if (address === undefined) {
      problems.add(where, `appliance '${a.name}' has no device address`, 'give deviceNetwork.firstAddress or a deviceAddress for every appliance');
      return;
    }
    if (!isIpv4(address)) {
      problems.add(where, `device address '${address}' of appliance '${a.name}' is not an IPv4 address`, 'give a dotted-quad address inside the device network');
      return;
    }
    checkHostAddress(where, `device address of appliance '${a.name}'`, address, subnet, problems, 'device network');
    if (seen.has(address)) problems.add(where, `device address '${address}' of appliance '${a.name}' is already used by '${seen.get(address)}'`, 'give every appliance its own device address');
    seen.set(address, a.name);
    if (address === dn.gateway) problems.add(where, `device address '${address}' of appliance '${a.name}' is the device gateway`, 'choose a free address');
    vips.nodeAddress(address, where, a.name);
    addresses.set(a.name, address);
  });
  if (dn.vip !== undefined) vips.vip('deviceNetwork.vip', 'device VIP', dn.vip, subnet, dn.gateway ?? '', 'device network');
  const tcpPorts = dn.tcpPorts ?? [];
  if (!Array.isArray(tcpPorts)) {
    problems.add('deviceNetwork.tcpPorts', `'${String(tcpPorts)}' is not a list of ports`, 'give a list of TCP ports, e.g. [4334, 6514]');
  } else {
    if (tcpPorts.length > 0 && dn.vip === undefined) {
      problems.add('deviceNetwork.tcpPorts', `ports [${tcpPorts.join(', ')}] are given but the device network has no VIP to listen on`, 'give deviceNetwork.vip, or leave tcpPorts out');
    }
    const seenPorts = new Set<number>();
    tcpPorts.forEach((port, i) => {
      if (!isTcpPort(`deviceNetwork.tcpPorts[${i}]`, port, problems)) return;
      if (seenPorts.has(port)) problems.add(`deviceNetwork.tcpPorts[${i}]`, `port ${port} is listed twice`, 'list every port once');
      seenPorts.add(port);
    });
  }
  return {
    cidr,
    prefixLength: subnet.prefixLength,
    gateway: dn.gateway,
    routes: dn.routes ?? [],
    vip: dn.vip,
    tcpPorts: Array.isArray(tcpPorts) ? tcpPorts : [],
    serverChecks: buildServerChecks('deviceNetwork.serverChecks', dn.serverChecks, problems),
    closeSessionsOnServerDown: dn.closeSessionsOnServerDown ?? D.DEFAULT_DEVICE_CLOSE_SESSIONS_ON_SERVER_DOWN,
    serverTcpKeepAlive: dn.serverTcpKeepAlive ?? D.DEFAULT_DEVICE_SERVER_TCP_KEEPALIVE,
    addressOf: (node) => ({
      deviceAddress: addresses.get(node)!,
      deviceMac: derivedMac(platform.macPrefix, platform.macFourthOctetMask ?? 0xff, spec.name, node, DEVICE_INTERFACE),
    }),
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
    if (!isIpv4(s) && !isHostName(s)) {
      problems.add(`managementNetwork.ntpServers[${i}]`, `NTP server '${String(s)}' is neither an IPv4 address nor a host name`, 'list NTP servers by address or host name');
    }
  });
  (net.searchDomains ?? []).forEach((d, i) => {
    if (!isDomainName(d)) {
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
    const prefix = plan.namePrefix ?? D.DEFAULT_NAME_PREFIX;
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

function buildService(s: ServiceSpec, where: string, defaults: { name: string; port: number }, problems: ProblemCollector): ApplicationService {
  const name = s.name ?? defaults.name;
  // Not the backslash escapes systemd also takes: they would reach the watchdog's records and scripts.
  if (typeof name !== 'string' || !/^[a-zA-Z0-9:_.-]+$/.test(name) || name.endsWith('.service')) {
    problems.add(`${where}.name`, `${JSON.stringify(name)} is not a systemd unit name`, "give the unit name without '.service', using letters, digits, ':', '_', '.', '-'");
  }
  const hc = s.healthCheck ?? {};
  const healthCheck: HealthCheck = { type: hc.type ?? D.DEFAULT_HEALTH_CHECK_TYPE, path: hc.path ?? D.DEFAULT_HEALTH_CHECK_PATH, command: hc.command };
  if (!['http', 'tcp', 'command'].includes(healthCheck.type)) {
    problems.add(`${where}.healthCheck.type`, `health check type '${String(healthCheck.type)}' is unknown`, "use 'http', 'tcp' or 'command'");
  }
  // The path goes into haproxy.cfg (where '#' starts a comment and quotes quote) and into the
  // watchdog's '|'-separated probe records: URL path and query characters that mean nothing to either.
  if (healthCheck.type === 'http' && !/^\/[A-Za-z0-9._~%/+=:@,?&!-]*$/.test(healthCheck.path)) {
    problems.add(
      `${where}.healthCheck.path`,
      `health check path ${JSON.stringify(healthCheck.path)} is not a plain absolute URL path`,
      "start it with '/' and use letters, digits and . _ ~ % / + = : @ , ? & ! - only (percent-encode anything else), e.g. '/healthz'",
    );
  }
  if (typeof s.execStart === 'string' && /[\n\r\0]/.test(s.execStart)) {
    problems.add(`${where}.execStart`, `execStart ${JSON.stringify(s.execStart)} holds a line break, which would add lines to the service's unit`, 'give one command line; put a longer start-up into a script on the node and give its path');
  }
  if (healthCheck.type === 'command' && !healthCheck.command) {
    problems.add(`${where}.healthCheck.command`, 'a command health check has no command', 'give the shell command that exits 0 when the service is healthy');
  }
  if (healthCheck.type === 'command' && typeof healthCheck.command === 'string' && /[|\n\r]/.test(healthCheck.command)) {
    problems.add(
      `${where}.healthCheck.command`,
      `health check command ${JSON.stringify(healthCheck.command)} holds '|' or a line break, which separate the watchdog's probe records`,
      'put a pipeline or a multi-line check into a script on the node (a package or an image file) and give its path as the command',
    );
  }
  return {
    name,
    port: s.port ?? defaults.port,
    healthCheck,
    execStart: s.execStart,
    packages: s.packages ?? (s.execStart ? [] : [...D.DEMO_SERVICE_PACKAGES]),
    user: serviceUser(s, name, where, problems),
  };
}

/** The user a service runs as (see ServiceSpec.user); undefined for the built-in service's DynamicUser. */
function serviceUser(s: ServiceSpec, name: string, where: string, problems: ProblemCollector): string | undefined {
  const fix = "set user to a name of lower-case letters, digits, '_' and '-', starting with a letter, at most 32 characters (or 'root', not recommended)";
  let user: string;
  if (s.user !== undefined) {
    if (typeof s.user !== 'string' || (s.user !== 'root' && !isSystemUserName(s.user))) {
      problems.add(`${where}.user`, `${JSON.stringify(s.user)} is not a system user name`, fix);
      return undefined;
    }
    user = s.user;
  } else if (s.execStart === undefined) {
    return undefined;
  } else if (isSystemUserName(name)) {
    user = name;
  } else {
    problems.add(`${where}.user`, `the service ${JSON.stringify(name)} would run as a user named after it, which is not a system user name`, fix);
    return undefined;
  }
  if (user === D.ADMIN_USER || user === D.VRRP_SCRIPT_USER) {
    problems.add(`${where}.user`, `'${user}' is the fabric's own ${user === D.ADMIN_USER ? 'operator login (with sudo)' : "user for keepalived's scripts"}`, 'give the service a user of its own (set user)');
  }
  return user;
}

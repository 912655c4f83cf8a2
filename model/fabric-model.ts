/**
 * The normalized, validated model of a fabric. Built once by
 * `buildFabricModel`; the cloud-init renderers and the platforms read only
 * this. Plain data: no construct, no token logic.
 */
import { ApplianceImageSpec, TlsCertificateSource } from './fabric-spec';

/** HAProxy's health checks of one backend's servers, with what follows from them. */
export interface ServerChecks {
  /** `inter`: between checks of a server that is UP. */
  readonly intervalSeconds: number;
  /** `fastinter`: between checks once one has failed, half the interval, so a DOWN is confirmed quickly. */
  readonly fastIntervalSeconds: number;
  readonly fall: number;
  readonly rise: number;
  /** A check's connect gives up after this: HAProxy takes the shorter of `timeout connect` and the interval. */
  readonly checkConnectTimeoutSeconds: number;
  /**
   * The longest stall of a server (a hypervisor pause, a vMotion stun) that
   * does not mark it DOWN. A check's connect gives up after the interval
   * (HAProxy uses min(timeout connect, inter)); DOWN takes `fall` such
   * failures in a row, `fastIntervalSeconds` apart.
   */
  readonly stallToleranceSeconds: number;
  /** The time from a silent death to DOWN, at most: the wait for the next check, then `fall` failures. */
  readonly downWithinSeconds: number;
}

/** Logical clusters a node can belong to. */
export type NodeRole = 'load-balancer' | 'application-server' | 'database' | 'cassandra' | 'monitoring';

export interface Sizing {
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly diskGiB: number;
}

export interface NodeModel {
  /** Hostname (DNS label). */
  readonly name: string;
  /** `name.domain` when a search domain is set, else the name. */
  readonly fqdn: string;
  /** Position in the fabric, 0-based; decides default roles and priorities. */
  readonly index: number;
  readonly managementAddress: string;
  /** Deterministic MAC of the management NIC, so the guest can name it eth0 by MAC. */
  readonly managementMac: string;
  readonly roles: readonly NodeRole[];
  readonly sizing: Sizing;
  /** Platform host: the one the operator named, or the one the platform placed it on. */
  readonly host?: string;
  /** Address and MAC on the device-management network, when the fabric has one. */
  readonly deviceAddress?: string;
  readonly deviceMac?: string;
  /** The appliance's own image, when it names one (the platform's otherwise); its platform checks the kind. */
  readonly image?: ApplianceImageSpec;
}

export interface ManagementNetwork {
  /** Interface name inside the guest. */
  readonly interfaceName: string;
  readonly cidr: string;
  readonly networkAddress: string;
  readonly prefixLength: number;
  readonly gateway: string;
  readonly dnsServers: readonly string[];
  readonly searchDomains: readonly string[];
  readonly ntpServers: readonly string[];
}

/** One VRRP instance (one VIP) as every member renders it. */
export interface VrrpInstance {
  /** keepalived instance name, e.g. `fabric_vip`. */
  readonly name: string;
  readonly vip: string;
  readonly prefixLength: number;
  readonly interfaceName: string;
  readonly virtualRouterId: number;
  readonly advertIntervalSeconds: number;
  /** Seconds between keepalived's health checks of what the VIP depends on. */
  readonly checkIntervalSeconds: number;
  readonly mode: 'unicast' | 'multicast';
  readonly preempt: boolean;
  /** Members in priority order, with their unique priorities. */
  readonly members: readonly { readonly node: string; readonly address: string; readonly priority: number }[];
  /** What the VIP fronts; decides which health checks and hooks the renderer attaches. */
  readonly purpose: 'fabric' | 'database' | 'monitoring' | 'device';
}

export interface HealthCheck {
  readonly type: 'http' | 'tcp' | 'command';
  readonly path: string;
  readonly command?: string;
}

export interface ApplicationService {
  readonly name: string;
  readonly port: number;
  readonly healthCheck: HealthCheck;
  /** Undefined means the built-in demo service. */
  readonly execStart?: string;
  readonly packages: readonly string[];
  /** The user it runs as: a system user the node creates, `root`, or undefined for systemd's DynamicUser (the built-in service). */
  readonly user?: string;
}

export interface LoadBalancerClusterModel {
  readonly members: readonly string[];
  readonly vrrp: VrrpInstance;
  readonly guiPort: number;
  readonly nbiPorts: readonly number[];
  readonly statsPort: number;
  /** Loopback port of HAProxy's own health endpoint (probed by the watchdog). */
  readonly healthPort: number;
  readonly stickyCookieName: string;
  /** HAProxy's `timeout server` for the application servers. */
  readonly serverTimeoutSeconds: number;
  /** `http-request set-timeout server` for GET, HEAD and OPTIONS: replayed elsewhere after this. */
  readonly readTimeoutSeconds: number;
  /** Path prefixes whose GETs keep `serverTimeoutSeconds`. */
  readonly longRequestPaths: readonly string[];
  /** `on-marked-down shutdown-sessions` on the application servers. */
  readonly closeSessionsOnServerDown: boolean;
  /** `option srvtcpka` towards the application servers. */
  readonly serverTcpKeepAlive: boolean;
  /** Health checks of the application servers. */
  readonly serverChecks: ServerChecks;
  /** Where the frontends' certificate comes from. */
  readonly tlsCertificate: TlsCertificateSource;
}

export interface ApplicationServerClusterModel {
  readonly members: readonly string[];
  readonly service: ApplicationService;
}

export interface DatabaseClusterModel {
  /** Primary first, then standby. */
  readonly members: readonly [string, string];
  readonly vrrp: VrrpInstance;
  readonly port: number;
  /** MariaDB server_id per node. */
  readonly serverIds: Readonly<Record<string, number>>;
  readonly databaseName: string;
  readonly replicationUser: string;
  readonly applicationUser: string;
  /** The passwords' generation: the current one; the accounts also accept the one before and after it. */
  readonly passwordGeneration: number;
  /** Whether the database nodes are dedicated (not application servers). */
  readonly dedicated: boolean;
}

export interface CassandraClusterModel {
  readonly members: readonly string[];
  readonly seeds: readonly string[];
  readonly clusterName: string;
  readonly datacenter: string;
  readonly aptSource: {
    readonly url: string;
    readonly suite: string;
    readonly keyUrl: string;
    /** Upper-case, 40 hex digits each. */
    readonly keyFingerprints: readonly string[];
  };
}

export interface MonitoringClusterModel {
  /** The dedicated nodes, or the load-balancer pair when there are none. */
  readonly members: readonly string[];
  readonly dedicated: boolean;
  /** The pair's own VIP (two dedicated nodes only). */
  readonly vrrp?: VrrpInstance;
  readonly service: ApplicationService;
}

export interface DeviceNetworkModel {
  readonly interfaceName: string;
  readonly cidr: string;
  readonly prefixLength: number;
  readonly gateway?: string;
  readonly routes: readonly string[];
  /** A VIP on this network held by the load-balancer pair. */
  readonly vrrp?: VrrpInstance;
  /** TCP ports HAProxy passes from the device VIP to the application servers. */
  readonly tcpPorts: readonly number[];
  /** Connect checks of the servers behind tcpPorts. */
  readonly serverChecks: ServerChecks;
  /** `on-marked-down shutdown-sessions` on the servers behind tcpPorts. */
  readonly closeSessionsOnServerDown: boolean;
  /** `option srvtcpka` on the passed-through connections. */
  readonly serverTcpKeepAlive: boolean;
}

export interface Watchdog {
  readonly probeIntervalSeconds: number;
  readonly startupGraceSeconds: number;
  readonly failuresBeforeRestart: number;
  readonly restartsBeforeFailover: number;
  readonly restartWindowSeconds: number;
  readonly hardwareTimeoutSeconds: number;
  /** Kernel module of the platform's virtual watchdog device; softdog is the fallback. */
  readonly deviceModule: string;
}

/** Who may reach what on a node beyond the fabric's own traffic (the ruleset is derived from the clusters). */
export interface Firewall {
  readonly enabled: boolean;
  /** Normalized CIDRs (`a.b.c.d/n`): SSH, HAProxy stats and metrics. */
  readonly adminCidrs: readonly string[];
  /** Normalized CIDRs allowed to the database port besides the application servers and the peer. */
  readonly databaseClientCidrs: readonly string[];
  /** Normalized CIDRs allowed to the monitoring service. */
  readonly monitoringClientCidrs: readonly string[];
}

/** What the model needs to know about the platform it will run on. */
export interface PlatformTraits {
  /** `vsphere`, `libvirt`, ... */
  readonly kind: string;
  /** Watchdog driver of the virtual device the platform gives a VM. */
  readonly watchdogModule: string;
  /** First three octets of generated MAC addresses, e.g. `52:54:00`. */
  readonly macPrefix: string;
  /** Mask for the fourth octet, where the vendor range is narrower (VMware static MACs: 0x3f). @default 0xff */
  readonly macFourthOctetMask?: number;
}

export interface FabricModel {
  /** Construct path of the Fabric, named in rendered file headers. */
  readonly constructPath: string;
  readonly name: string;
  readonly platform: PlatformTraits;
  readonly network: ManagementNetwork;
  readonly vip: string;
  readonly nodes: readonly NodeModel[];
  readonly loadBalancer: LoadBalancerClusterModel;
  readonly applicationServers: ApplicationServerClusterModel;
  readonly database?: DatabaseClusterModel;
  readonly cassandra?: CassandraClusterModel;
  readonly monitoring: MonitoringClusterModel;
  readonly deviceNetwork?: DeviceNetworkModel;
  readonly watchdog: Watchdog;
  readonly firewall: Firewall;
  readonly sshAuthorizedKeys: readonly string[];
  readonly configurationDelivery: ConfigurationDelivery;
  /** Let cloud-init install the packages (and so run apt-get update) at first boot. */
  readonly installPackagesOnBoot: boolean;
  /** Appliances whose identity may change in this synth: they are replaced on purpose. */
  readonly replaceAppliances: readonly string[];
}

/** How Terraform delivers bundles to running nodes (see fabric-spec.ts). */
export interface ConfigurationDelivery {
  readonly enabled: boolean;
  /** Whether `enabled` was given, rather than derived from sshAuthorizedKeys. */
  readonly enabledExplicitly: boolean;
  readonly bastion?: { readonly host: string; readonly port: number; readonly user: string; readonly hostKey: string };
  readonly connectTimeoutSeconds: number;
  readonly readyTimeoutSeconds: number;
  readonly commonReloadDelaySeconds: number;
}

/** Every VRRP instance of the fabric. */
export function vrrpInstances(model: FabricModel): VrrpInstance[] {
  return [model.loadBalancer.vrrp, model.database?.vrrp, model.monitoring.vrrp, model.deviceNetwork?.vrrp].filter(
    (i): i is VrrpInstance => i !== undefined,
  );
}

export function nodeByName(model: FabricModel, name: string): NodeModel {
  const node = model.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`internal: node '${name}' is not in fabric '${model.name}'`);
  return node;
}

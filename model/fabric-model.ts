/**
 * The normalized, validated model of a fabric. Built once by
 * `buildFabricModel`; the cloud-init renderers and the platforms read only
 * this. Plain data: no construct, no token logic.
 */

/** Logical clusters a node can belong to. */
export type NodeRole = 'load-balancer' | 'application-server';

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
  /** Explicit platform host, when the operator named one. */
  readonly host?: string;
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
  readonly mode: 'unicast' | 'multicast';
  readonly preempt: boolean;
  /** Members in priority order, with their unique priorities. */
  readonly members: readonly { readonly node: string; readonly address: string; readonly priority: number }[];
  /** Processes whose absence puts the instance in FAULT on that node. */
  readonly trackedProcesses: readonly string[];
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
}

export interface ApplicationServerClusterModel {
  readonly members: readonly string[];
  readonly service: ApplicationService;
}

export interface Watchdog {
  readonly probeIntervalSeconds: number;
  readonly failuresBeforeRestart: number;
  readonly restartsBeforeFailover: number;
  readonly restartWindowSeconds: number;
  readonly hardwareTimeoutSeconds: number;
  /** Kernel module of the platform's virtual watchdog device; softdog is the fallback. */
  readonly deviceModule: string;
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
  // The database, Cassandra and monitoring clusters join here as they land.
  readonly watchdog: Watchdog;
  readonly sshAuthorizedKeys: readonly string[];
  /** Let cloud-init install the packages (and so run apt-get update) at first boot. */
  readonly installPackagesOnBoot: boolean;
}

export function nodeByName(model: FabricModel, name: string): NodeModel {
  const node = model.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`internal: node '${name}' is not in fabric '${model.name}'`);
  return node;
}

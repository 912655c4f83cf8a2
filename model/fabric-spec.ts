/**
 * What an operator writes: the description of a fabric as plain data. The
 * constructs take these as props; `buildFabricModel` validates them once and
 * turns them into the normalized `FabricModel`.
 */

/** vCPU, memory and disk of an appliance VM. */
export interface SizingSpec {
  /** Virtual CPUs. @default 4 (the original's HA appliances want 4 vCPUs) */
  readonly vcpus?: number;
  /** Memory in MiB. @default 32768 (32 GiB, as the original's HA appliances) */
  readonly memoryMiB?: number;
  /** System disk in GiB. @default 100 */
  readonly diskGiB?: number;
}

/** One appliance (node) of the fabric, listed explicitly. */
export interface ApplianceSpec {
  /** Hostname; must be a DNS label (a-z, 0-9, '-', at most 63 characters). */
  readonly name: string;
  /** Management IPv4 address, inside the management network. */
  readonly managementAddress: string;
  /** Per-appliance sizing; fields left out come from the fabric's `sizing`. @default the fabric's sizing */
  readonly sizing?: SizingSpec;
  /** Platform host to place this appliance on (KVM host name); platforms without explicit placement ignore it. @default chosen by the platform */
  readonly host?: string;
}

/** Appliances described by a count and a consecutive address range instead of one by one. */
export interface AddressPlanSpec {
  /** How many appliances. */
  readonly count: number;
  /** Address of the first appliance; the others follow consecutively. */
  readonly firstAddress: string;
  /** Names are the prefix plus 1, 2, 3... @default 'node' */
  readonly namePrefix?: string;
}

/** The management network that every node, and the fabric VIP, sits in (eth0 in the original). */
export interface ManagementNetworkSpec {
  /** IPv4 network in CIDR notation, e.g. `198.51.100.0/24`. */
  readonly cidr: string;
  /** Default gateway, inside the network. */
  readonly gateway: string;
  /** DNS resolvers. @default [] (no resolver configured) */
  readonly dnsServers?: string[];
  /** DNS search domains; the first is also the nodes' domain for their FQDN. @default [] */
  readonly searchDomains?: string[];
  /** NTP servers; every node uses the same source, as the original requires. @default [] (the image's default) */
  readonly ntpServers?: string[];
}

/** How the VIPs are held. */
export interface HighAvailabilitySpec {
  /**
   * VRRP advertisement interval in seconds (VRRPv3 allows fractions). The
   * standby takes over after three missed adverts plus a skew below one
   * interval, so 0.4 s gives about 1.4 s to failover while a hypervisor stall
   * must exceed 1.2 s to cause a spurious one.
   * @default 0.4
   */
  readonly advertIntervalSeconds?: number;
  /** `unicast` (peers listed explicitly; works where multicast is filtered, e.g. vSphere port groups) or `multicast`. @default 'unicast' */
  readonly vrrpMode?: 'unicast' | 'multicast';
  /**
   * Whether a recovered higher-priority node takes its VIP back. Off by
   * default: taking it back costs clients a second interruption.
   * @default false
   */
  readonly preempt?: boolean;
}

/** How the health-probing watchdog treats a service. */
export interface HealthCheckSpec {
  /** `http` (GET path, expects 2xx/3xx), `tcp` (connect) or `command` (exit 0). @default 'http' */
  readonly type?: 'http' | 'tcp' | 'command';
  /** HTTP path for `http` checks. @default '/healthz' */
  readonly path?: string;
  /** Shell command for `command` checks. */
  readonly command?: string;
}

/** The service that every application server runs (JBoss in the original). */
export interface ApplicationServiceSpec {
  /** systemd unit name without `.service`. @default 'fabric-app' */
  readonly name?: string;
  /** TCP port the service listens on, on the node's management address. @default 8080 */
  readonly port?: number;
  /** Health check used by HAProxy and the watchdog. @default HTTP GET /healthz */
  readonly healthCheck?: HealthCheckSpec;
  /**
   * Command that runs the service (systemd ExecStart). The default is a small
   * Python HTTP server that answers with its node name, so a fresh fabric can
   * be tested end to end.
   * @default the built-in demo service
   */
  readonly execStart?: string;
  /** Debian packages the service needs. @default ['python3'] for the built-in service, [] otherwise */
  readonly packages?: string[];
}

/** The load-balancer cluster: the pair that holds the fabric VIP and runs HAProxy. */
export interface LoadBalancerSpec {
  /** Names of the appliances in the cluster, in priority order. @default the first two appliances */
  readonly members?: string[];
  /** HTTPS port of the GUI frontend on the VIP. @default 443 */
  readonly guiPort?: number;
  /** HTTPS ports of the northbound API frontends on the VIP. @default [8443] */
  readonly nbiPorts?: number[];
  /** Port of the HAProxy stats and Prometheus endpoint on each balancer's own address. @default 8404 */
  readonly statsPort?: number;
  /** VRRP router id of the fabric VIP (1..255). @default derived from the fabric name */
  readonly virtualRouterId?: number;
  /** Name of the sticky-session cookie. @default 'FABRICNODE' */
  readonly stickyCookieName?: string;
}

/** The application-server cluster: every node that serves the application. */
export interface ApplicationServerSpec {
  /** Names of the appliances that run the application service. @default every appliance */
  readonly members?: string[];
  /** The service. @default the built-in demo service on port 8080 */
  readonly service?: ApplicationServiceSpec;
}

/** Self-healing settings of the watchdog on every node. */
export interface WatchdogSpec {
  /** Seconds between health probes. @default 1 */
  readonly probeIntervalSeconds?: number;
  /** Consecutive failed probes before the service is restarted. @default 3 */
  readonly failuresBeforeRestart?: number;
  /** Restarts within `restartWindowSeconds` after which a VIP-critical service takes its node out of the VIP election. @default 3 */
  readonly restartsBeforeFailover?: number;
  /** Window for counting restarts, in seconds. @default 300 */
  readonly restartWindowSeconds?: number;
  /** Seconds the Linux watchdog daemon lets the kernel hang before the virtual watchdog device resets the VM. @default 60 */
  readonly hardwareTimeoutSeconds?: number;
}

/** The whole fabric, platform aside. */
export interface FabricSpec {
  /** Fabric name: a DNS label; seeds the VRRP router ids and names the VMs. */
  readonly name: string;
  /** Appliances listed one by one (exclusive with `addressPlan`). */
  readonly appliances?: ApplianceSpec[];
  /** Appliances as a count plus consecutive addresses (exclusive with `appliances`). */
  readonly addressPlan?: AddressPlanSpec;
  /** The management network. */
  readonly managementNetwork: ManagementNetworkSpec;
  /** The fabric VIP that GUI and NBI clients use, inside the management network. */
  readonly vip: string;
  /** Default sizing of every appliance. @default 4 vCPU, 32768 MiB, 100 GiB */
  readonly sizing?: SizingSpec;
  /** SSH public keys for the `fabric-admin` user. @default [] (console login only) */
  readonly sshAuthorizedKeys?: string[];
  /** VRRP behaviour. @default unicast, advert 0.4 s, no preemption */
  readonly highAvailability?: HighAvailabilitySpec;
  /** The load-balancer cluster. @default the first two appliances */
  readonly loadBalancer?: LoadBalancerSpec;
  /** The application-server cluster. @default every appliance, built-in demo service */
  readonly applicationServers?: ApplicationServerSpec;
  /** Watchdog tuning. @default see WatchdogSpec */
  readonly watchdog?: WatchdogSpec;
  /**
   * Install the packages each appliance needs (keepalived, HAProxy, watchdog,
   * chrony, curl, the service's) at first boot. cloud-init then runs
   * `apt-get update`, so a package mirror must be reachable. Turn it off for
   * air-gapped fabrics whose image already carries the packages.
   * @default true
   */
  readonly installPackagesOnBoot?: boolean;
}

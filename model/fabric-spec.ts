/**
 * What an operator writes: the description of a fabric as plain data. The
 * constructs take these as props; `buildFabricModel` validates them once and
 * turns them into the normalized `FabricModel`.
 */

/** vCPU, memory and disk of an appliance VM. */
export interface SizingSpec {
  /** Virtual CPUs; the original's HA appliances want 4. @default 4 */
  readonly vcpus?: number;
  /** Memory in MiB; the original's HA appliances want 32 GiB. @default 32768 */
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
  /** Per-appliance sizing; fields left out come from the fabric's `sizing`. @default - the fabric's sizing */
  readonly sizing?: SizingSpec;
  /** Platform host to place this appliance on (KVM host name); vSphere places by DRS and rejects it. @default - chosen by the platform */
  readonly host?: string;
  /** Address on the device-management network (eth3), when the fabric has one. @default - counted from deviceNetwork.firstAddress */
  readonly deviceAddress?: string;
  /**
   * The base image of this appliance alone, to upgrade one node at a time: on
   * vSphere `{ template }`, on KVM `{ source }` or `{ volumeName }` (uploaded
   * into, or found in, the pool of the appliance's host). A changed image
   * replaces the appliance's VM; both members of a pair (balancers, database,
   * monitoring) may not change in one synth.
   * @default - the platform's image (vSphere `template`, the KVM host's `baseImage`)
   */
  readonly image?: ApplianceImageSpec;
}

/** A vSphere template VM to clone. */
export interface ImageFromTemplate {
  /** Name of the template VM, as vCenter shows it. */
  readonly template: string;
}

/**
 * An image file that Terraform uploads into a KVM host's pool: what an
 * appliance's own image (ImageFromSource) and a host's base image
 * (KvmBaseImageFromSource) share. Each declares its own `name`, with its
 * default: jsii forbids re-declaring an inherited member.
 */
export interface ImageSourceSpec {
  /**
   * qcow2 image with cloud-init (NoCloud), e.g. Debian 12 generic: an
   * http(s) URL (then `sha256` is required) or a path on the machine that
   * runs Terraform. It is read there and uploaded to each host that uses
   * it. Its kernel must have the i6300esb watchdog driver, which Debian's
   * cloud kernel (the genericcloud image) lacks: without it a hung kernel is
   * never reset (each boot then logs a critical message and falls back to
   * softdog).
   */
  readonly source: string;
  /**
   * SHA-256 of the image file, 64 hex digits (what `sha256sum` prints).
   * Terraform then downloads (or copies) the image once into the platform's
   * `imageCacheDirectory`, checks it and uploads only that checked copy; a
   * mismatch fails the apply before libvirt reads anything. Required for an
   * http(s) URL; for a path, optional. A new value is a new image (it
   * replaces the VMs that use it, like a new source).
   * @default - none: a path is uploaded as it is, unchecked (an http(s) URL needs one)
   */
  readonly sha256?: string;
}

/** A base image that Terraform uploads into the KVM host's pool. */
export interface ImageFromSource extends ImageSourceSpec {
  /**
   * Name of the base volume created from it in the host's pool. The default
   * names the image by its source, so two images never share a volume.
   * @default - the host's base volume for the host's own source and sha256, else `<fabric name>-base-<first 8 hex digits of the SHA-256 of source (and of sha256, when given)>.qcow2`
   */
  readonly name?: string;
}

/** A base image that already exists as a volume on the KVM host. */
export interface ImageFromVolume {
  /** Name of an existing qcow2 volume. */
  readonly volumeName: string;
  /** Pool that holds it. @default - the host's `storagePool` */
  readonly pool?: string;
}

/** One appliance's own image: exactly one of `template` (vSphere), `source` or `volumeName` (KVM). */
export type ApplianceImageSpec = ImageFromTemplate | ImageFromSource | ImageFromVolume;

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
  /** DNS resolvers; none configured when empty. @default [] */
  readonly dnsServers?: string[];
  /** DNS search domains; the first is also the nodes' domain for their FQDN. @default [] */
  readonly searchDomains?: string[];
  /** NTP servers; every node uses the same source, as the original requires. Empty: the image's default. @default [] */
  readonly ntpServers?: string[];
}

/** How the VIPs are held. */
export interface HighAvailabilitySpec {
  /**
   * VRRP advertisement interval in seconds (VRRPv3 allows fractions). A
   * standby takes over after three missed adverts plus a skew of
   * (256 - priority) / 256 of an interval, so 0.2 s gives about 0.61 s to
   * failover (the standby at priority 240), while a stall of the holder
   * (a hypervisor pause, a vMotion stun) must exceed that to cause a
   * spurious one: QEMU's default migration downtime is 0.3 s. keepalived
   * runs its VRRP process first in the CPU queue (nice -20) and locked in
   * memory, so a busy node still sends its adverts on time. Raise it on
   * hosts that stall VMs for longer.
   * @default 0.2
   */
  readonly advertIntervalSeconds?: number;
  /**
   * VRRP priority of each cluster's first member; each further member gets
   * `priorityStep` less. High priorities shorten the takeover: the skew
   * above is 0.0125 s at 240 but 0.09 s at 140. At most 254 (255 is the
   * address owner's).
   * @default 250
   */
  readonly topPriority?: number;
  /** How much lower each further member's VRRP priority is than the one before it (priorities must differ). @default 10 */
  readonly priorityStep?: number;
  /** `unicast` (peers listed explicitly; works where multicast is filtered, e.g. vSphere port groups) or `multicast`. @default 'unicast' */
  readonly vrrpMode?: 'unicast' | 'multicast';
  /**
   * Whether a recovered higher-priority node takes its VIP back. Off by
   * default: taking it back costs clients a second interruption.
   * @default false
   */
  readonly preempt?: boolean;
  /**
   * Seconds between keepalived's checks of the service each VIP depends on
   * (HAProxy, the database, monitoring); a check may run twice as long. A
   * hung service loses its VIP after two failed checks, about 2 to 3
   * intervals. Each check starts a program: raise this on slow or heavily
   * overcommitted hosts, where that costs a noticeable share of a CPU. A
   * crashed HAProxy and a dead node are noticed without checks (process
   * events, missed adverts), so this does not slow those failovers.
   * @default 1
   */
  readonly checkIntervalSeconds?: number;
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
export interface ApplicationServiceSpec extends ServiceSpec {
  /** systemd unit name without `.service`. @default 'fabric-app' */
  readonly name?: string;
  /** TCP port the service listens on, on the node's management address. @default 8080 */
  readonly port?: number;
}

/** Where HAProxy's TLS certificate and key come from (see LoadBalancerSpec.tlsCertificate). */
export type TlsCertificateSource = 'generated' | 'terraform-variables';

/**
 * HAProxy's health checks of a backend's servers. A check's connect gives up
 * after the interval (HAProxy takes the shorter of it and the 1 s connect
 * timeout) and its answer after 1 s (`timeout check`); after one failure the
 * checks run twice as often until the server is DOWN or passes again; a DOWN
 * server is checked every second.
 */
export interface ServerChecksSpec {
  /**
   * Seconds between checks of a server that is UP (`inter`). With `fall`
   * this sets how soon a dead server leaves rotation (at most interval +
   * fall x interval + (fall - 1) x interval / 2) and the longest stall it
   * rides out (fall x interval + (fall - 1) x interval / 2; at least 0.3 s,
   * a hypervisor pause, is required).
   * @default 0.2
   */
  readonly intervalSeconds?: number;
  /** Failed checks in a row that mark a server DOWN. @default 2 */
  readonly fall?: number;
  /** Passed checks in a row that bring a DOWN server back. @default 2 */
  readonly rise?: number;
}

/** The load-balancer cluster: the pair that holds the fabric VIP and runs HAProxy. */
export interface LoadBalancerSpec {
  /** Names of the appliances in the cluster, in priority order. @default - the first two appliances */
  readonly members?: string[];
  /** HTTPS port of the GUI frontend on the VIP. @default 443 */
  readonly guiPort?: number;
  /** HTTPS ports of the northbound API frontends on the VIP. @default [8443] */
  readonly nbiPorts?: number[];
  /** Port of the HAProxy stats and Prometheus endpoint on each balancer's own address. @default 8404 */
  readonly statsPort?: number;
  /** VRRP router id of the fabric VIP (1..255), unique per L2 segment. @default - derived from the fabric name */
  readonly virtualRouterId?: number;
  /** Name of the sticky-session cookie. @default 'FABRICNODE' */
  readonly stickyCookieName?: string;
  /**
   * Seconds HAProxy waits for an application server's answer (`timeout
   * server`) to a request that may not be replayed (POST, PUT, DELETE, ...)
   * and to the reads that keep it (`longRequestPaths`, WebSocket upgrades,
   * event streams). @default 60
   */
  readonly serverTimeoutSeconds?: number;
  /**
   * Seconds HAProxy waits for the answer to a GET, HEAD or OPTIONS before it
   * sends the request to another server instead (up to 3 retries, each this
   * long). A node that loses power sends no RST, so this bounds how long a
   * read in flight to it waits: measured in namespaces, 0 of 7,548 GETs
   * failed and the slowest took 1.61 s across silent node losses, against
   * 10 s with `serverTimeoutSeconds` 10. A read that legitimately takes
   * longer is replayed on every server and fails with 504 after 4 tries:
   * list such paths in `longRequestPaths`, or raise this above your slowest
   * read. At most `serverTimeoutSeconds` (the default is that when it is shorter).
   * @default 1.5
   */
  readonly readTimeoutSeconds?: number;
  /**
   * Path prefixes whose GETs may take up to `serverTimeoutSeconds` (reports,
   * downloads, long polls): they are not cut by `readTimeoutSeconds`, and so
   * wait that long on a node that lost power. WebSocket upgrades and
   * `Accept: text/event-stream` requests keep it without being listed.
   * @default []
   */
  readonly longRequestPaths?: string[];
  /**
   * When the health checks mark an application server DOWN (`serverChecks`:
   * within 0.7 s of a silent death by default), close the sessions still open to it
   * (`on-marked-down shutdown-sessions`) instead of letting their requests
   * wait out `serverTimeoutSeconds`. Measured: a GET waiting on a node that
   * died silently, sent on a connection of its own, was answered by another
   * server within 1.5 s (namespace tier); but on the VMs GETs sent over
   * kept-alive client connections were reset instead (3 of 300 at 20/s,
   * ECONNRESET 54-366 ms after they were sent). So it trades a long wait for
   * an error the client must retry itself, and a DOWN that was false cuts
   * that server's requests too. Off by default. @default false
   */
  readonly closeSessionsOnServerDown?: boolean;
  /**
   * TCP keepalive on HAProxy's connections to the application servers
   * (`option srvtcpka`: first probe after 1 s idle, then every second, dead
   * after 2 unanswered): a connection to a server that vanished without a
   * word fails within about 3 s even if the checks never mark it DOWN. A live
   * server's kernel answers the probes while the application takes its time.
   * Not yet measured on VMs, so off by default. @default false
   */
  readonly serverTcpKeepAlive?: boolean;
  /**
   * Health checks of the application servers behind the GUI and NBI
   * frontends. The default takes a dead server out of rotation within
   * 0.7 s and rides out a 0.5 s stall.
   * @default - ServerChecksSpec's defaults: every 0.2 s, fall 2, rise 2
   */
  readonly serverChecks?: ServerChecksSpec;
  /**
   * Where the GUI and NBI frontends' certificate comes from; both balancers
   * serve the same one, so a failover does not change it.
   * `generated`: a self-signed ECDSA P-256 certificate for the VIP and
   * `<name>.<first search domain>`, made by Terraform's tls provider and kept
   * in its state; clients must be told to trust it.
   * `terraform-variables`: your own, from two sensitive variables the plan
   * declares, `<name>_tls_certificate_pem` (the certificate, then its
   * intermediates) and `<name>_tls_private_key_pem` (`-` in the fabric's name
   * becomes `_`). Set them with `TF_VAR_...` or a `.tfvars` file kept out of
   * version control; a value that is not PEM is refused at plan time.
   * @default generated
   */
  readonly tlsCertificate?: TlsCertificateSource;
}

/** The application-server cluster: every node that serves the application. */
export interface ApplicationServerSpec {
  /** Names of the appliances that run the application service. @default - every appliance that is not a dedicated monitoring node */
  readonly members?: string[];
  /** The service. @default - the built-in demo service */
  readonly service?: ApplicationServiceSpec;
}

/** Self-healing settings of the watchdog on every node. */
export interface WatchdogSpec {
  /** Seconds between health probes. @default 1 */
  readonly probeIntervalSeconds?: number;
  /** Seconds after a service's (re)start during which its failed probes do not count, so a slow start is not killed. @default 10 */
  readonly startupGraceSeconds?: number;
  /** Consecutive failed probes before the service is restarted. @default 3 */
  readonly failuresBeforeRestart?: number;
  /** Restarts within `restartWindowSeconds` after which a VIP-critical service takes its node out of the VIP election. @default 3 */
  readonly restartsBeforeFailover?: number;
  /** Window for counting restarts, in seconds. @default 300 */
  readonly restartWindowSeconds?: number;
  /** Seconds the Linux watchdog daemon lets the kernel hang before the virtual watchdog device resets the VM. @default 60 */
  readonly hardwareTimeoutSeconds?: number;
}

/** A service the fabric runs and watches: systemd unit, port, health check. */
/**
 * A service the fabric runs and watches on its nodes: the application (on
 * every application server) or the monitoring service. Each declares its own
 * unit name and port, with its defaults (ApplicationServiceSpec,
 * MonitoringServiceSpec): jsii forbids re-declaring an inherited member.
 */
export interface ServiceSpec {
  /** Health check used by HAProxy and the watchdog. @default - an `http` check (HealthCheckSpec's defaults) */
  readonly healthCheck?: HealthCheckSpec;
  /**
   * Command that runs the service (systemd ExecStart). The default is a small
   * Python HTTP server that answers with its node name, so a fresh fabric can
   * be tested end to end.
   * @default - the built-in demo service
   */
  readonly execStart?: string;
  /** Debian packages it needs. @default - what the built-in service needs (python3), none for a service of your own */
  readonly packages?: string[];
  /**
   * System user the service runs as. A named user is created on the nodes
   * that run the service (a system account: no login, no home). `root` runs
   * it as root (the application service with the database client
   * credentials in its environment): give that only to a service that cannot
   * do without.
   * @default - the built-in service: a transient user of systemd's (DynamicUser); a service of your own: a user named after the service
   */
  readonly user?: string;
}

/**
 * The database cluster (MySQL in the original, MariaDB here): a primary and
 * a standby with GTID replication, the primary reached through its own VIP.
 */
export interface DatabaseSpec {
  /** The two database nodes, primary first. @default - the first two appliances */
  readonly members?: string[];
  /** The database VIP the application servers use, inside the management network. */
  readonly vip: string;
  /** MariaDB port. @default 3306 */
  readonly port?: number;
  /** VRRP router id of the database VIP. @default - derived from the fabric name */
  readonly virtualRouterId?: number;
  /** Database the application uses. @default 'fabric' */
  readonly databaseName?: string;
  /**
   * Generation of the database passwords (the replication and the
   * application account). Raise it by one and apply to rotate both on a
   * running fabric without an outage: every account accepts the previous,
   * the current and the next generation's password, so the nodes may take
   * the change in any order; the application servers restart with the new
   * one, one at a time. A password stops working two raises after it was
   * current: raise it twice (two applies) to revoke a leaked one.
   * @default 0
   */
  readonly passwordGeneration?: number;
}

/** The Cassandra cluster (file storage in the original); off unless given. */
export interface CassandraSpec {
  /** The appliances that run Cassandra (2 to 8). */
  readonly members: string[];
  /** Seed nodes, members of the cluster. @default - the first two members (three from five members on) */
  readonly seeds?: string[];
  /** cluster_name in cassandra.yaml. @default - the fabric name */
  readonly clusterName?: string;
  /** Datacenter name for GossipingPropertyFileSnitch. @default - the fabric name */
  readonly datacenter?: string;
  /** APT source for Apache Cassandra (Debian does not ship it). @default - the Apache 5.0 repository (CassandraAptSourceSpec's defaults) */
  readonly aptSource?: CassandraAptSourceSpec;
}

/** Where apt finds Apache Cassandra. */
export interface CassandraAptSourceSpec {
  /** Repository URL. @default 'https://debian.cassandra.apache.org' */
  readonly url?: string;
  /** Suite (release series); 50x is Cassandra 5.0, which runs on Debian 12's Java 17. @default '50x' */
  readonly suite?: string;
  /** URL of the repository's signing keys (a KEYS file of armored public keys). @default 'https://downloads.apache.org/cassandra/KEYS' */
  readonly keyUrl?: string;
  /**
   * The keys apt trusts for the repository: full OpenPGP v4 fingerprints (40
   * hex digits, no spaces), each a primary key of the KEYS file. The first
   * boot refuses to add the repository unless every one is in the file, and
   * exports only these to the keyring `signed-by` names; any other key in
   * the file is ignored. Give your own when `url` or `keyUrl` point to
   * another repository.
   * @default ['CEC86BB4A0BA9D0F90397CAEF8358FA2F2833C93', 'C4965EE9E3015D192CCCF2B6F758CE318D77295D', '5AED1BF378E9A19DADE1BCB34BD736A82B5C1B00', '514A2AD631A57A16DD0047EC749D6EEC0353B12C', 'A26E528B271F19B9E5D8E19EA278B781FE4B2BDA', 'A4C465FEA0C552561A392A61E91335D77E3E87CB', '9E66CEC6106D578D0B1EB9BFF1000962B7F6840C', 'C4009872C59B49561310D966D0062876AF30F054', 'B7842CDAF36E6A3214FAE35D5E85B9AE0B84C041', '3E9C876907A560ACA00964F363E9BAD215BBF5F0', 'F8B7FD00E05C932991A2CD6150EE103D162C5A55', '7464AAD9068241C50BA6A26232F35CB2F546D93E', 'CEC5C50B9C629EF0F5AB2706650B72EB14CCD622']
   */
  readonly keyFingerprints?: string[];
}

/** Fault and performance monitoring nodes. */
export interface MonitoringSpec {
  /**
   * Dedicated monitoring appliances (0, 1 or 2), which are then not
   * application servers. With none, monitoring runs on the load-balancer
   * pair behind the fabric VIP.
   * @default []
   */
  readonly members?: string[];
  /** The pair's own VIP; required with two members. */
  readonly vip?: string;
  /** VRRP router id of the monitoring VIP. @default - derived from the fabric name */
  readonly virtualRouterId?: number;
  /** The monitoring service. @default - the built-in demo monitoring service */
  readonly service?: MonitoringServiceSpec;
}

/** The service that the monitoring nodes run (fault and performance monitoring in the original). */
export interface MonitoringServiceSpec extends ServiceSpec {
  /** systemd unit name without `.service`. @default 'fabric-monitor' */
  readonly name?: string;
  /** TCP port the service listens on, on the node's management address. @default 8162 */
  readonly port?: number;
}

/** The device-management network (eth3 in the original): a second NIC per appliance. */
export interface DeviceNetworkSpec {
  /** IPv4 network in CIDR notation. */
  readonly cidr: string;
  /** Gateway for routes to managed devices. @default - none (directly connected devices only) */
  readonly gateway?: string;
  /** Routes to reach device networks through the gateway. @default [] */
  readonly routes?: string[];
  /** Address of the first appliance; the others follow (unless each appliance names its deviceAddress). */
  readonly firstAddress?: string;
  /** A VIP on this network held by the load-balancer pair. @default - none */
  readonly vip?: string;
  /** VRRP router id of the device VIP. @default - derived from the fabric name */
  readonly virtualRouterId?: number;
  /**
   * TCP ports that managed devices connect to on the device VIP (NETCONF
   * call-home, syslog over TLS, ...). HAProxy on the active balancer passes
   * each through to the application servers on the same port (least
   * connections, TCP connect checks), so a device connection survives the
   * loss of any one node. Needs `vip`. Empty: the VIP only.
   * @default []
   */
  readonly tcpPorts?: number[];
  /** Connect checks of the application servers behind `tcpPorts`. @default - ServerChecksSpec's defaults: every 0.2 s, fall 2, rise 2 */
  readonly serverChecks?: ServerChecksSpec;
  /**
   * When a server behind `tcpPorts` is marked DOWN, close the device
   * sessions still passed through to it (`on-marked-down
   * shutdown-sessions`), so each device reconnects through the VIP to a live
   * server at once instead of when its own TCP timeout strikes. A DOWN that
   * was false (a stall longer than the checks ride out) cuts that server's
   * device sessions too. Not yet measured with devices, so off by default.
   * @default false
   */
  readonly closeSessionsOnServerDown?: boolean;
  /**
   * TCP keepalive on the passed-through connections to the application
   * servers (`option srvtcpka`: first probe after 1 s idle, then every
   * second, dead after 2 unanswered): an idle device session to a server
   * that vanished without a word is closed within about 3 s, and the device
   * reconnects. Not yet measured with devices, so off by default.
   * @default false
   */
  readonly serverTcpKeepAlive?: boolean;
}

/** The whole fabric, platform aside. */
/**
 * How Terraform reaches running nodes to deliver their configuration bundles
 * (README "Changing a running fabric"): over SSH as `fabric-admin`, with the
 * deploy key from the Terraform variable `<fabric name>_deploy_private_key`
 * or the SSH agent, each node's host key pinned.
 */
export interface ConfigurationDeliverySpec {
  /**
   * Deliver configuration changes to running nodes. Needs the deploy key's
   * public half in `sshAuthorizedKeys`; off, a changed config reaches only
   * VMs created afterwards.
   * @default - on when sshAuthorizedKeys is not empty
   */
  readonly enabled?: boolean;
  /** A jump host between Terraform and the management network. @default - none: Terraform connects to each node directly */
  readonly bastion?: SshBastionSpec;
  /** How long Terraform retries its SSH connection to a node, in seconds. @default 900 */
  readonly connectTimeoutSeconds?: number;
  /** How long a node may take to finish its first boot and answer its health checks before it is configured, in seconds. @default 900 */
  readonly readyTimeoutSeconds?: number;
  /**
   * A change VRRP peers must agree on (VIPs, router ids, advert interval) is
   * taken up by every peer at one common time, this many seconds after
   * `terraform plan`: long enough for the apply to reach every peer. At most 3600.
   * @default 300
   */
  readonly commonReloadDelaySeconds?: number;
}

/** An SSH jump host. */
export interface SshBastionSpec {
  /** Its address or DNS name. */
  readonly host: string;
  /** @default 22 */
  readonly port?: number;
  /** @default fabric-admin */
  readonly user?: string;
  /** Its SSH host public key (OpenSSH format, e.g. from /etc/ssh/ssh_host_ed25519_key.pub), pinned like the nodes' own. */
  readonly hostKey: string;
}

/**
 * The host firewall (nftables) of every node: input is dropped unless the
 * fabric needs it. Loaded before any service starts; a configuration bundle
 * reloads it on a running node.
 */
export interface FirewallSpec {
  /** Render and load the ruleset. Turn it off only where another firewall filters every node's traffic. @default true */
  readonly enabled?: boolean;
  /**
   * Operator networks (IPv4 CIDR, or one address): the only sources of SSH and
   * of HAProxy's stats and metrics. Include the host that runs `terraform
   * apply` (configuration delivery logs in over SSH), or the bastion.
   * @default - the management network
   */
  readonly adminCidrs?: string[];
  /**
   * Networks allowed to the database port besides the application servers and
   * the database peer (a reporting tool, an operator's client). The
   * application's database account is created for these networks too; the
   * accounts are otherwise for each application server's address only.
   * @default []
   */
  readonly databaseClientCidrs?: string[];
  /** Networks allowed to the monitoring service (its own VIP, or the fabric VIP without dedicated nodes). @default - the management network */
  readonly monitoringClientCidrs?: string[];
}

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
  /** Default sizing of every appliance. @default - SizingSpec's defaults */
  readonly sizing?: SizingSpec;
  /** SSH public keys for the `fabric-admin` user (sudo), the only user sshd lets in: Ed25519, ECDSA, or RSA of at least 3072 bits (sshd refuses DSA and smaller RSA keys, and so does synth); private keys are rejected. Empty: console login only. @default [] */
  readonly sshAuthorizedKeys?: string[];
  /** How `terraform apply` delivers configuration changes to running nodes. @default - ConfigurationDeliverySpec's defaults */
  readonly configurationDelivery?: ConfigurationDeliverySpec;
  /** VRRP behaviour. @default - HighAvailabilitySpec's defaults */
  readonly highAvailability?: HighAvailabilitySpec;
  /** The load-balancer cluster. @default - the first two appliances */
  readonly loadBalancer?: LoadBalancerSpec;
  /** The application-server cluster. @default - every appliance, built-in demo service */
  readonly applicationServers?: ApplicationServerSpec;
  /** The database cluster with its own VIP. @default - none */
  readonly database?: DatabaseSpec;
  /** The Cassandra cluster. @default - none */
  readonly cassandra?: CassandraSpec;
  /** Monitoring nodes. @default - monitoring on the load-balancer pair */
  readonly monitoring?: MonitoringSpec;
  /** A second network for device management. @default - none */
  readonly deviceNetwork?: DeviceNetworkSpec;
  /** Watchdog tuning. @default - WatchdogSpec's defaults */
  readonly watchdog?: WatchdogSpec;
  /** The nodes' host firewall. @default - FirewallSpec's defaults: on, operators on the management network */
  readonly firewall?: FirewallSpec;
  /**
   * Install the packages each appliance needs (keepalived, HAProxy, watchdog,
   * chrony, curl, the service's) at first boot. cloud-init then runs
   * `apt-get update`, so a package mirror must be reachable. Turn it off for
   * air-gapped fabrics whose image already carries the packages.
   * @default true
   */
  readonly installPackagesOnBoot?: boolean;
  /**
   * Appliances to replace on purpose: their identity (addresses, MACs,
   * instance-id, management network, database server id) may differ from
   * what the lock file records, and the lock takes the new one. The synth-time error of an
   * identity change names each such appliance with the `terraform apply
   * -replace=...` addresses of its VM; remove it from this list after that
   * apply.
   * @default []
   */
  readonly replaceAppliances?: string[];
}

/**
 * Every default of a fabric key, written once. The model's builders
 * (model/clusters/) read these; the types in fabric-spec.ts restate each
 * value in their `@default` (so editors, the generated JSON Schema and the
 * README show it), and test/config-schema.test.ts checks that each
 * `@default` equals the constant whose `@defaultOf` names that key. An
 * empty list, which means "none", has no constant.
 */

/** The one login on every node: operators and Terraform's configuration delivery. */
export const ADMIN_USER = 'fabric-admin';
/** The user keepalived runs its check scripts as (enable_script_security); its notify hooks run as root. */
export const VRRP_SCRIPT_USER = 'keepalived_script';

/** @defaultOf SizingSpec.vcpus */
export const DEFAULT_VCPUS = 4;
/** @defaultOf SizingSpec.memoryMiB */
export const DEFAULT_MEMORY_MIB = 32768;
/** @defaultOf SizingSpec.diskGiB */
export const DEFAULT_DISK_GIB = 100;

/** @defaultOf AddressPlanSpec.namePrefix */
export const DEFAULT_NAME_PREFIX = 'node';

/** @defaultOf HighAvailabilitySpec.advertIntervalSeconds */
export const DEFAULT_ADVERT_INTERVAL_SECONDS = 0.2;
/** @defaultOf HighAvailabilitySpec.topPriority */
export const DEFAULT_TOP_PRIORITY = 250;
/** @defaultOf HighAvailabilitySpec.priorityStep */
export const DEFAULT_PRIORITY_STEP = 10;
/** @defaultOf HighAvailabilitySpec.vrrpMode */
export const DEFAULT_VRRP_MODE = 'unicast';
/** @defaultOf HighAvailabilitySpec.preempt */
export const DEFAULT_PREEMPT = false;
/** @defaultOf HighAvailabilitySpec.checkIntervalSeconds */
export const DEFAULT_CHECK_INTERVAL_SECONDS = 1;

/** @defaultOf HealthCheckSpec.type */
export const DEFAULT_HEALTH_CHECK_TYPE = 'http';
/** @defaultOf HealthCheckSpec.path */
export const DEFAULT_HEALTH_CHECK_PATH = '/healthz';

/** The built-in demo application's unit. @defaultOf ApplicationServiceSpec.name */
export const DEFAULT_APPLICATION_SERVICE_NAME = 'fabric-app';
/** @defaultOf ApplicationServiceSpec.port */
export const DEFAULT_APPLICATION_SERVICE_PORT = 8080;
/** The built-in demo monitoring service's unit. @defaultOf MonitoringServiceSpec.name */
export const DEFAULT_MONITORING_SERVICE_NAME = 'fabric-monitor';
/** @defaultOf MonitoringServiceSpec.port */
export const DEFAULT_MONITORING_SERVICE_PORT = 8162;
/** What the built-in demo services need (a service of the user's own needs none unless it says so). */
export const DEMO_SERVICE_PACKAGES: readonly string[] = ['python3'];

/** @defaultOf LoadBalancerSpec.guiPort */
export const DEFAULT_GUI_PORT = 443;
/** @defaultOf LoadBalancerSpec.nbiPorts */
export const DEFAULT_NBI_PORTS: readonly number[] = [8443];
/** @defaultOf LoadBalancerSpec.statsPort */
export const DEFAULT_STATS_PORT = 8404;
/** @defaultOf LoadBalancerSpec.stickyCookieName */
export const DEFAULT_STICKY_COOKIE_NAME = 'FABRICNODE';
/** @defaultOf LoadBalancerSpec.serverTimeoutSeconds */
export const DEFAULT_SERVER_TIMEOUT_SECONDS = 60;
/** @defaultOf LoadBalancerSpec.readTimeoutSeconds */
export const DEFAULT_READ_TIMEOUT_SECONDS = 1.5;
/** @defaultOf LoadBalancerSpec.closeSessionsOnServerDown */
export const DEFAULT_CLOSE_SESSIONS_ON_SERVER_DOWN = false;
/** @defaultOf LoadBalancerSpec.serverTcpKeepAlive */
export const DEFAULT_SERVER_TCP_KEEPALIVE = false;
/** @defaultOf LoadBalancerSpec.tlsCertificate */
export const DEFAULT_TLS_CERTIFICATE = 'generated';
/** @defaultOf ServerChecksSpec.intervalSeconds */
export const DEFAULT_SERVER_CHECK_INTERVAL_SECONDS = 0.2;
/** @defaultOf ServerChecksSpec.fall */
export const DEFAULT_SERVER_CHECK_FALL = 2;
/** @defaultOf ServerChecksSpec.rise */
export const DEFAULT_SERVER_CHECK_RISE = 2;
/** @defaultOf DeviceNetworkSpec.closeSessionsOnServerDown */
export const DEFAULT_DEVICE_CLOSE_SESSIONS_ON_SERVER_DOWN = false;
/** @defaultOf DeviceNetworkSpec.serverTcpKeepAlive */
export const DEFAULT_DEVICE_SERVER_TCP_KEEPALIVE = false;

/** @defaultOf DatabaseSpec.port */
export const DEFAULT_DATABASE_PORT = 3306;
/** @defaultOf DatabaseSpec.databaseName */
export const DEFAULT_DATABASE_NAME = 'fabric';

/** Apache Cassandra's own Debian repository (Debian does not ship Cassandra). @defaultOf CassandraAptSourceSpec.url */
export const DEFAULT_CASSANDRA_APT_URL = 'https://debian.cassandra.apache.org';
/** Cassandra 5.0, which runs on Debian 12's Java 17. @defaultOf CassandraAptSourceSpec.suite */
export const DEFAULT_CASSANDRA_APT_SUITE = '50x';
/** @defaultOf CassandraAptSourceSpec.keyUrl */
export const DEFAULT_CASSANDRA_APT_KEY_URL = 'https://downloads.apache.org/cassandra/KEYS';

/** @defaultOf WatchdogSpec.probeIntervalSeconds */
export const DEFAULT_PROBE_INTERVAL_SECONDS = 1;
/** @defaultOf WatchdogSpec.startupGraceSeconds */
export const DEFAULT_STARTUP_GRACE_SECONDS = 10;
/** @defaultOf WatchdogSpec.failuresBeforeRestart */
export const DEFAULT_FAILURES_BEFORE_RESTART = 3;
/** @defaultOf WatchdogSpec.restartsBeforeFailover */
export const DEFAULT_RESTARTS_BEFORE_FAILOVER = 3;
/** @defaultOf WatchdogSpec.restartWindowSeconds */
export const DEFAULT_RESTART_WINDOW_SECONDS = 300;
/** @defaultOf WatchdogSpec.hardwareTimeoutSeconds */
export const DEFAULT_HARDWARE_TIMEOUT_SECONDS = 60;

/** @defaultOf FabricSpec.installPackagesOnBoot */
export const DEFAULT_INSTALL_PACKAGES_ON_BOOT = true;

/** @defaultOf ConfigurationDeliverySpec.connectTimeoutSeconds */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 900;
/** @defaultOf ConfigurationDeliverySpec.readyTimeoutSeconds */
export const DEFAULT_READY_TIMEOUT_SECONDS = 900;
/** @defaultOf ConfigurationDeliverySpec.commonReloadDelaySeconds */
export const DEFAULT_COMMON_RELOAD_DELAY_SECONDS = 300;
/** @defaultOf SshBastionSpec.port */
export const DEFAULT_BASTION_PORT = 22;
/** @defaultOf SshBastionSpec.user */
export const DEFAULT_BASTION_USER = 'fabric-admin';

/** @defaultOf FirewallSpec.enabled */
export const DEFAULT_FIREWALL_ENABLED = true;
/** @defaultOf FirewallSpec.databaseClientCidrs */
export const DEFAULT_DATABASE_CLIENT_CIDRS: readonly string[] = [];

/** The Cassandra role that replaces the default `cassandra` superuser (its password is generated by the plan). */
export const CASSANDRA_ADMIN_ROLE = 'fabric_admin';

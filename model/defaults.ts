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
/** @defaultOf DatabaseSpec.passwordGeneration */
export const DEFAULT_DATABASE_PASSWORD_GENERATION = 0;
/** The highest passwordGeneration: a bound that keeps the number exact and its Terraform keeper short. */
export const MAX_DATABASE_PASSWORD_GENERATION = 1_000_000;

/** Apache Cassandra's own Debian repository (Debian does not ship Cassandra). @defaultOf CassandraAptSourceSpec.url */
export const DEFAULT_CASSANDRA_APT_URL = 'https://debian.cassandra.apache.org';
/** Cassandra 5.0, which runs on Debian 12's Java 17. @defaultOf CassandraAptSourceSpec.suite */
export const DEFAULT_CASSANDRA_APT_SUITE = '50x';
/** @defaultOf CassandraAptSourceSpec.keyUrl */
export const DEFAULT_CASSANDRA_APT_KEY_URL = 'https://downloads.apache.org/cassandra/KEYS';
/**
 * The Apache Cassandra release managers' signing keys, as full OpenPGP v4
 * fingerprints: the only keys of the KEYS file that apt trusts for the
 * repository. The repository's Release files are signed by whichever release
 * manager published the release (Cassandra's download page: "The actual key
 * may be different [...] For a full list of Apache contributors public keys,
 * you can refer to Cassandra KEYS"), so every release-signing key in KEYS is
 * pinned, not one.
 *
 * Source: the GPG_KEYS list of docker-library/cassandra (5.0/Dockerfile, e.g.
 * commit 12ee728efc59b4aa6cc02c637396c8460ee1e3cd), which that file generates
 * from https://downloads.apache.org/cassandra/KEYS (`gpg --import` of KEYS,
 * then the `fpr` of each `pub` with a user ID); the official cassandra image
 * verifies its releases with the same 13 keys. Names as the keys' user IDs say.
 * @defaultOf CassandraAptSourceSpec.keyFingerprints
 */
export const DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS: readonly string[] = [
  'CEC86BB4A0BA9D0F90397CAEF8358FA2F2833C93', // Eric Evans
  'C4965EE9E3015D192CCCF2B6F758CE318D77295D', // Eric Evans
  '5AED1BF378E9A19DADE1BCB34BD736A82B5C1B00', // Sylvain Lebresne
  '514A2AD631A57A16DD0047EC749D6EEC0353B12C', // T Jake Luciani
  'A26E528B271F19B9E5D8E19EA278B781FE4B2BDA', // Michael Shuler (A278B781FE4B2BDA, the key Cassandra's install docs name)
  'A4C465FEA0C552561A392A61E91335D77E3E87CB', // Michael Semb Wever
  '9E66CEC6106D578D0B1EB9BFF1000962B7F6840C', // Alex Petrov
  'C4009872C59B49561310D966D0062876AF30F054', // Jordan West
  'B7842CDAF36E6A3214FAE35D5E85B9AE0B84C041', // Brandon Williams
  '3E9C876907A560ACA00964F363E9BAD215BBF5F0', // Ekaterina Buryanova Dimitrova
  'F8B7FD00E05C932991A2CD6150EE103D162C5A55', // Sam Tunnicliffe
  '7464AAD9068241C50BA6A26232F35CB2F546D93E', // Stefan Miklosovic
  'CEC5C50B9C629EF0F5AB2706650B72EB14CCD622', // Berenguer Blasi
];

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

import { CASSANDRA_INSTALL_SCRIPT } from '../../cloud-init/cassandra';

/**
 * What a guest's cloud-init says about its first boot. "Cloud-init ...
 * finished" on the console is printed even when modules failed: the errors
 * are in /run/cloud-init/result.json. Every error fails the boot except the
 * ones this test network causes on purpose: there is no package mirror and
 * no internet, so `apt-get update` and Cassandra's install (its own
 * repository) cannot reach their servers.
 */
export interface CloudInitVerdict {
  readonly errors: string[];
  /** Errors explained by the unreachable package repositories, with the reason. */
  readonly allowed: { error: string; because: string }[];
  /** Errors that fail the boot. */
  readonly unexpected: string[];
}

/** A name the test network cannot resolve or a host it cannot reach, as apt and curl report it. */
const UNREACHABLE = /Temporary failure resolving|Could not resolve host|Failed to fetch|Network is unreachable|Connection refused|Could not connect/;

/** An apt error that is not about reaching a server (a package the image lacks: "Unable to locate package"). */
const APT_OTHER_ERROR = /^E: (?!Failed to fetch|Some index files failed)/m;

export function judgeCloudInit(resultJson: string, outputLog: string, userData: string): CloudInitVerdict {
  const errors: string[] = (JSON.parse(resultJson) as { v1?: { errors?: string[] } }).v1?.errors ?? [];
  const allowed: { error: string; because: string }[] = [];
  const unexpected: string[] = [];
  const installsCassandra = userData.includes(CASSANDRA_INSTALL_SCRIPT);
  // The Cassandra install script's own output: curl of the repository key, apt of its repository.
  const cassandraUnreachable = /curl: \(\d+\) (Could not resolve host|Failed to connect)[^\n]*(apache\.org|cassandra)/.test(outputLog);
  for (const error of errors) {
    if (/^\('package[-_]update[-_]upgrade[-_]install'/.test(error) && UNREACHABLE.test(outputLog) && !APT_OTHER_ERROR.test(outputLog)) {
      allowed.push({ error, because: 'the apt mirror is unreachable (no mirror on the test network)' });
    } else if (/^\('scripts[-_]user'/.test(error) && /runcmd/.test(error) && installsCassandra && cassandraUnreachable) {
      // runcmd's exit status is its last line's, Cassandra's restart: it fails when the install could not reach its repository.
      allowed.push({ error, because: "Cassandra's repository is unreachable (its install is runcmd's last step)" });
    } else {
      unexpected.push(error);
    }
  }
  return { errors, allowed, unexpected };
}

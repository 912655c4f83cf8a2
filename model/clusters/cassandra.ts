import * as D from '../defaults';
import { ProblemCollector } from '../errors';
import { CassandraClusterModel } from '../fabric-model';
import { FabricSpec } from '../fabric-spec';
import { checkHttpsUrl, checkSafeName } from '../safe-strings';
import { checkMembers } from './checks';
import { BuildContext } from './context';

/** The Cassandra cluster, derived once the whole fabric is valid. */
export interface CassandraDraft {
  model(): CassandraClusterModel;
}

/** The Cassandra ring, when the fabric has one: sets the cluster's members. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): CassandraDraft | undefined {
  const cassandra = spec.cassandra;
  if (cassandra === undefined) return undefined;
  checkMembers('cassandra.members', 'Cassandra cluster', cassandra.members, context.nodeIndex, problems);
  const members = Array.isArray(cassandra.members) ? cassandra.members : [];
  if (members.length < 2) {
    problems.add('cassandra.members', `Cassandra is enabled with ${members.length} member(s)`, 'name at least two appliances in cassandra.members, or leave cassandra out');
  } else if (members.length > 8) {
    problems.add('cassandra.members', `Cassandra has ${members.length} members`, 'run Cassandra on at most 8 appliances, as the original supports');
  }
  const seeds = cassandra.seeds ?? members.slice(0, members.length >= 5 ? 3 : 2);
  // Written into cassandra.yaml, cassandra-rackdc.properties and the root installer script.
  if (cassandra.clusterName !== undefined) checkSafeName(cassandra.clusterName, 'cassandra.clusterName', 'Cassandra cluster name', problems);
  if (cassandra.datacenter !== undefined) checkSafeName(cassandra.datacenter, 'cassandra.datacenter', 'Cassandra datacenter', problems);
  const apt = cassandra.aptSource;
  if (apt?.url !== undefined) checkHttpsUrl(apt.url, 'cassandra.aptSource.url', 'Cassandra repository URL', problems);
  if (apt?.keyUrl !== undefined) checkHttpsUrl(apt.keyUrl, 'cassandra.aptSource.keyUrl', 'Cassandra signing key URL', problems);
  if (apt?.suite !== undefined) checkSafeName(apt.suite, 'cassandra.aptSource.suite', 'Cassandra repository suite', problems);
  if (apt?.keyFingerprints !== undefined) checkKeyFingerprints(apt.keyFingerprints, 'cassandra.aptSource.keyFingerprints', problems);
  seeds.forEach((s, i) => {
    if (!members.includes(s)) problems.add(`cassandra.seeds[${i}]`, `seed '${s}' is not a member of the Cassandra cluster`, `choose seeds among ${members.join(', ')}`);
  });
  context.members.set('cassandra', cassandra.members);

  return {
    model: () => ({
      members: cassandra.members,
      seeds,
      clusterName: cassandra.clusterName ?? spec.name,
      datacenter: cassandra.datacenter ?? spec.name,
      aptSource: {
        url: apt?.url ?? D.DEFAULT_CASSANDRA_APT_URL,
        suite: apt?.suite ?? D.DEFAULT_CASSANDRA_APT_SUITE,
        keyUrl: apt?.keyUrl ?? D.DEFAULT_CASSANDRA_APT_KEY_URL,
        keyFingerprints: (apt?.keyFingerprints ?? D.DEFAULT_CASSANDRA_APT_KEY_FINGERPRINTS).map((f) => f.toUpperCase()),
      },
    }),
  };
}

/** A full OpenPGP v4 fingerprint: 40 hex digits (gpg --with-colons prints them upper-case). */
const V4_FINGERPRINT = /^[0-9A-Fa-f]{40}$/;
const HOW_TO_READ_A_FINGERPRINT = "run 'gpg --show-keys --with-colons KEYS' and copy the 10th field of the 'fpr' line under the key's 'pub' line";

/**
 * The pinned signing keys: at least one, each a full v4 fingerprint (a short
 * or long key ID names a key that anyone can forge a collision for), none twice.
 */
function checkKeyFingerprints(value: unknown, where: string, problems: ProblemCollector): void {
  if (!Array.isArray(value)) {
    problems.add(where, `${JSON.stringify(value)} is not a list of fingerprints`, "write a list, even of one: ['<40 hex digits>']");
    return;
  }
  if (value.length === 0) {
    problems.add(where, '[] pins no signing key, so apt could trust no key of the repository', "list the full fingerprint of each key that signs the repository, or leave keyFingerprints out for Apache's release keys");
    return;
  }
  const seen = new Map<string, number>();
  value.forEach((fingerprint: unknown, i) => {
    const at = `${where}[${i}]`;
    if (typeof fingerprint !== 'string' || !V4_FINGERPRINT.test(fingerprint)) {
      const compact = typeof fingerprint === 'string' ? fingerprint.replace(/^0x/i, '').replace(/\s+/g, '') : '';
      const what = /^[0-9A-Fa-f]{8}$|^[0-9A-Fa-f]{16}$/.test(compact)
        ? `${JSON.stringify(fingerprint)} is a key ID, not a fingerprint: a key made to share an ID is easy to forge`
        : V4_FINGERPRINT.test(compact)
          ? `${JSON.stringify(fingerprint)} has spaces or a 0x prefix`
          : `${JSON.stringify(fingerprint)} is not an OpenPGP v4 fingerprint (40 hex digits)`;
      const fix = V4_FINGERPRINT.test(compact) ? `write it as 40 hex digits and nothing else: '${compact.toUpperCase()}'` : `give the key's full fingerprint, 40 hex digits without spaces: ${HOW_TO_READ_A_FINGERPRINT}`;
      problems.add(at, `signing key fingerprint ${what}`, fix);
      return;
    }
    const upper = fingerprint.toUpperCase();
    const first = seen.get(upper);
    if (first !== undefined) problems.add(at, `signing key fingerprint '${fingerprint}' is listed twice (also ${where}[${first}])`, 'list each key once');
    else seen.set(upper, i);
  });
}

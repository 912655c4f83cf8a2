import { ProblemCollector } from '../errors';
import { FabricSpec } from '../fabric-spec';
import { isOpensshKey, MIN_RSA_BITS, rsaModulusBits, USER_KEY_TYPES } from '../ssh-keys';
import { BuildContext } from './context';

/** The login keys, derived once the whole fabric is valid. */
export interface AuthorizedKeysDraft {
  model(): string[];
}

/** The public keys that may log in as the fabric's operator: sets `context.authorizedKeys`. */
export function build(spec: FabricSpec, context: BuildContext, problems: ProblemCollector): AuthorizedKeysDraft {
  const keys = spec.sshAuthorizedKeys ?? [];
  keys.forEach((key, i) => {
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
  context.authorizedKeys = keys;
  return { model: () => keys.map((k) => k.trim()) };
}

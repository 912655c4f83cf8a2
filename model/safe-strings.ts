import { ProblemCollector } from './errors';

/**
 * Checks of config strings that end up inside root shell scripts, config
 * files and Terraform strings. A value either passes, and is then inert
 * wherever it goes, or is refused at synth time with its path and the fix.
 */

/**
 * What the renderers put where a secret goes; the construct layer swaps every
 * occurrence for a Terraform reference. A config value holding it would be
 * swapped too, and the secret written wherever that value goes (a
 * world-readable file, a log line).
 */
export const SECRET_PLACEHOLDER_PREFIX = '__appliance_fabric_secret_';

/** The placeholder of one secret. */
export function secretPlaceholder(name: string): string {
  return `${SECRET_PLACEHOLDER_PREFIX}${name}__`;
}

/** Refuses every string anywhere in `spec` that holds the secret placeholder prefix. */
export function refuseSecretPlaceholders(spec: unknown, problems: ProblemCollector): void {
  const walk = (value: unknown, where: string, depth: number): void => {
    if (depth > 32) return; // specs are shallow; a cycle is not a config
    if (typeof value === 'string') {
      if (value.includes(SECRET_PLACEHOLDER_PREFIX)) {
        problems.add(where, `the value ${JSON.stringify(value)} holds '${SECRET_PLACEHOLDER_PREFIX}', which appliance-fabric replaces with secrets`, `remove '${SECRET_PLACEHOLDER_PREFIX}' from it`);
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${where}[${i}]`, depth + 1));
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, where ? `${where}.${k}` : k, depth + 1);
    }
  };
  walk(spec, '', 0);
}

/**
 * An https URL whose every character is inert in a shell word, a YAML scalar
 * and a Terraform string: scheme https, a host name, an optional port and a
 * path of unreserved characters and percent escapes (no query, no fragment,
 * no user info).
 */
const SAFE_HTTPS_URL = /^https:\/\/[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?(?:\/[A-Za-z0-9._~%/+-]*)?$/;

/** Adds a problem unless `value` is a safe https URL (see SAFE_HTTPS_URL). */
export function checkHttpsUrl(value: unknown, where: string, what: string, problems: ProblemCollector): void {
  if (typeof value !== 'string' || !SAFE_HTTPS_URL.test(value)) {
    problems.add(
      where,
      `${what} ${JSON.stringify(value)} is not a plain https URL`,
      "give an https:// URL with a host name and a path of letters, digits and . _ ~ % / + - only (no query, fragment, credentials, quotes, spaces or $), e.g. 'https://downloads.apache.org/cassandra/KEYS'",
    );
  }
}

/** A name that is one word in every file it is written to: letters, digits, '.', '_' and '-', starting with a letter or digit. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Adds a problem unless `value` is a safe name (see SAFE_NAME). */
export function checkSafeName(value: unknown, where: string, what: string, problems: ProblemCollector): void {
  if (typeof value !== 'string' || !SAFE_NAME.test(value)) {
    problems.add(where, `${what} ${JSON.stringify(value)} is not a plain name`, "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (no spaces, quotes, newlines or shell characters)");
  }
}

/** A platform host's name as vCenter or the KVM stack names it: a host name or an FQDN, one word everywhere. */
const SAFE_HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$/;

/** Adds a problem unless `value` is a safe host name (see SAFE_HOST_NAME). */
export function checkSafeHostName(value: unknown, where: string, what: string, problems: ProblemCollector): void {
  if (typeof value !== 'string' || !SAFE_HOST_NAME.test(value)) {
    problems.add(where, `${what} ${JSON.stringify(value)} is not a host name`, "use the host's name or FQDN as the platform knows it: letters, digits, '.', '_' and '-' (no spaces, quotes, newlines or shell characters)");
  }
}

/**
 * The body of a keepalived check script that GETs http://host:port/path
 * with bash's own /dev/tcp and succeeds on a 2xx or 3xx status line.
 *
 * No curl: keepalived runs each check every interval, and on a loaded or
 * emulated node every program started costs tenths of a second of CPU
 * (measured under TCG: bash 0.47 s, curl 0.97 s). The check reads the
 * status line for at most one second; keepalived's own script timeout
 * bounds a connect to a hung server whose accept queue is full.
 */
/** printf format of the health request: the path, then host:port. HTTP/1.0 and close: one status line, no keep-alive. */
export const HEALTH_REQUEST_FORMAT = 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n';
/** The status lines that count as healthy (2xx, 3xx), as a bash regex. */
export const HEALTHY_STATUS_REGEX = '^HTTP/[0-9.]+ [23][0-9][0-9]';

export function bashHttpCheck(host: string, port: number, path: string): string[] {
  return [
    `exec 3<> /dev/tcp/${host}/${port} || exit 1`,
    `printf '${HEALTH_REQUEST_FORMAT}' ${shellQuote(path)} '${host}:${port}' >&3`,
    'IFS= read -r -t 1 status <&3 || exit 1',
    `healthy='${HEALTHY_STATUS_REGEX}'`,
    '[[ "$status" =~ $healthy ]]',
  ];
}

/** `value` as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

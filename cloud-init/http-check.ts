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
export function bashHttpCheck(host: string, port: number, path: string): string[] {
  return [
    `exec 3<> /dev/tcp/${host}/${port} || exit 1`,
    `printf 'GET %s HTTP/1.0\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n' ${shellQuote(path)} '${host}:${port}' >&3`,
    'IFS= read -r -t 1 status <&3 || exit 1',
    "healthy='^HTTP/[0-9.]+ [23][0-9][0-9]'",
    '[[ "$status" =~ $healthy ]]',
  ];
}

/** `value` as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

import { RenderedFile } from '../../cloud-init/rendered-file';

/**
 * The one place where the harness changes a rendered file before a test
 * node uses it. Paths are never rewritten (every node sees its files at the
 * rendered paths through its own mount namespace); only what cannot work in
 * a network namespace is replaced, by the nearest equivalent, and each
 * change is reported.
 *
 * keepalived's `vrrp_track_process` listens to the kernel's process-events
 * connector, which exists only in the initial network namespace (and
 * ignores listeners in other PID namespaces): in a namespace keepalived logs
 * "Failed to set/clear process event listen - errno 111 - Connection
 * refused" and holds the instance in FAULT for good (keepalived issue
 * #1469, the same in LXC containers). On a VM it works. The harness swaps
 * each tracked process for a `vrrp_script` that checks the same process name
 * with pgrep in the node's own PID namespace, keeping the tracker's name,
 * its quorum and its loss delay (a script interval is whole seconds, so the
 * delay is taken inside the script).
 */
export function adaptForNamespaces(file: RenderedFile): { file: RenderedFile; changes: string[] } {
  if (file.path === '/etc/default/keepalived') {
    // No syslog in a test node: keepalived also logs to the unit's output. The rendered options stay.
    const content = file.content.replace(/^DAEMON_ARGS="([^"]*)"$/m, (_m, args: string) => `DAEMON_ARGS="${args} --log-console --log-detail"`.replace('" ', '"'));
    return { file: { ...file, content }, changes: ['/etc/default/keepalived: DAEMON_ARGS += --log-console --log-detail'] };
  }
  if (!file.path.startsWith('/etc/keepalived/') || !file.path.endsWith('.conf')) return { file, changes: [] };
  const changes: string[] = [];
  let content = file.content.replace(/^(\s*)vrrp_track_process\s+(\S+)\s*\{([^}]*)\}/gm, (_all, indent: string, name: string, body: string) => {
    const setting = (key: string) => new RegExp(`^\\s*${key}\\s+(\\S+)`, 'm').exec(body)?.[1];
    const processName = setting('process');
    if (!processName || /['"\\]/.test(processName)) throw new Error(`${file.path}: cannot adapt vrrp_track_process ${name} (process '${processName}')`);
    const quorum = Number(setting('quorum') ?? '1');
    const delay = Number(setting('delay') ?? setting('terminate_delay') ?? '0');
    if (!Number.isInteger(quorum) || quorum < 1 || !(delay >= 0 && delay <= 5)) throw new Error(`${file.path}: cannot adapt vrrp_track_process ${name} (quorum ${quorum}, delay ${delay})`);
    const check = `[ $(pgrep --count --exact ${processName}) -ge ${quorum} ]`;
    const script = delay > 0 ? `${check} || { sleep ${delay}; ${check}; }` : check;
    changes.push(`vrrp_track_process ${name} (process ${processName}, quorum ${quorum}, delay ${delay}) -> vrrp_script polling pgrep every 1 s`);
    return [
      `${indent}# namespace harness: vrrp_track_process needs the process-events connector of the initial network namespace;`,
      `${indent}# the same check by pgrep in this node's PID namespace.`,
      `${indent}vrrp_script ${name} {`,
      `${indent}    script "/bin/sh -c '${script}'"`,
      `${indent}    interval 1`,
      `${indent}    timeout ${Math.ceil(delay) + 1}`,
      `${indent}    fall 1`,
      `${indent}    rise 1`,
      `${indent}}`,
    ].join('\n');
  });
  if (changes.length > 0) {
    content = content.replace(/^(\s*)track_process(\s*\{)/gm, (_m, indent: string, brace: string) => `${indent}track_script${brace}`);
  }
  return { file: changes.length > 0 ? { ...file, content } : file, changes };
}

import { adaptForNamespaces } from '../harness/adapt';
import { expandCommand, loadUnit, MAINPID_PLACEHOLDER, NodeFs, parseTimespan, unitsStartedByRuncmd } from '../harness/units';
import { namespaceFabricSpec, renderFabric } from '../harness/render';

// The namespace harness's own logic, without namespaces: how it reads units
// and what it changes in a rendered file (tier 1 speed).
describe('namespace harness: reading the rendered node', () => {
  const fabric = renderFabric(namespaceFabricSpec());
  const node1 = fabric.nodes[0];
  const fsOf = (files: Record<string, string>): NodeFs => ({
    read: (p) => files[p],
    list: (dir) => Object.keys(files).filter((p) => p.startsWith(`${dir}/`)).map((p) => p.slice(dir.length + 1)),
  });
  const ids = () => ({ uid: 65534, gid: 65534 });

  it('starts the units the runcmd restarts, in order', () => {
    const units = unitsStartedByRuncmd(node1.userData);
    expect(units).toEqual(expect.arrayContaining(['haproxy.service', 'keepalived.service', 'fabric-watchdog.service', 'fabric-app.service']));
    expect(units.indexOf('haproxy.service')).toBeLessThan(units.indexOf('keepalived.service'));
  });

  it('assembles a unit from the package unit and the rendered drop-in, as systemd does', () => {
    const files: Record<string, string> = {
      '/lib/systemd/system/keepalived.service': '[Service]\nType=notify\nEnvironmentFile=-/etc/default/keepalived\nExecStart=/usr/sbin/keepalived --dont-fork $DAEMON_ARGS\n',
      '/etc/default/keepalived': 'DAEMON_ARGS="--log-console --log-detail"\n',
    };
    for (const f of node1.files) if (f.path.startsWith('/etc/systemd/system/keepalived.service.d/')) files[f.path] = f.content;
    const unit = loadUnit(fsOf(files), 'keepalived.service', ids);
    expect(unit.argv).toEqual(['/usr/sbin/keepalived', '--dont-fork', '--log-console', '--log-detail']);
    expect(unit.restart).toBe('always');
    expect(unit.restartSec).toBe(1);
    expect(unit.execStopPost).toEqual([['/usr/local/lib/appliance-fabric/remove-stale-vips']]);
    expect(unit.killMode).toBe('control-group');
    expect(unit.notEmulated).toEqual(['Type=notify (/lib/systemd/system/keepalived.service)']);
  });

  it("reads a database node's ExecStop= from its drop-in, after the restart policy's, with $MAINPID", () => {
    const db = renderFabric(namespaceFabricSpec({ database: true }));
    const member = db.nodes.find((n) => n.name === db.model.database!.members[0])!;
    const files: Record<string, string> = {
      '/lib/systemd/system/mariadb.service': '[Service]\nType=notify\nUser=mysql\nExecStart=/usr/sbin/mariadbd\nKillSignal=SIGTERM\nTimeoutStopSec=900\n',
    };
    for (const f of member.files) if (f.path.startsWith('/etc/systemd/system/mariadb.service.d/')) files[f.path] = f.content;
    const unit = loadUnit(fsOf(files), 'mariadb.service', ids);
    expect(unit.execStop).toEqual([['/usr/bin/mariadb-admin', '--protocol=socket', '--skip-ssl', '--connect-timeout=2', '--wait-for-all-slaves', 'shutdown']]);
    // The restart policy's drop-in bounds the stop, ExecStop= included.
    expect(unit.timeoutStopSec).toBe(10);
    expect(loadUnit(fsOf({ '/lib/systemd/system/x.service': '[Service]\nExecStart=/bin/x\nExecStop=/bin/kill -s QUIT $MAINPID\n' }), 'x.service', ids).execStop).toEqual([['/bin/kill', '-s', 'QUIT', MAINPID_PLACEHOLDER]]);
  });

  it('expands ExecStart variables the systemd way', () => {
    expect(expandCommand('/bin/x -f $CONFIG ${ONE} "$$HOME"', { CONFIG: 'a b', ONE: 'c d' })).toEqual(['/bin/x', '-f', 'a', 'b', 'c d', '$HOME']);
    expect(parseTimespan('500ms')).toBe(0.5);
    expect(parseTimespan('1min 30s')).toBe(90);
  });

  it('changes only vrrp_track_process in keepalived.conf (into a pgrep check with the same name, quorum and delay) and adds console logging', () => {
    const conf = node1.files.find((f) => f.path === '/etc/keepalived/keepalived.conf')!;
    const { file, changes } = adaptForNamespaces(conf);
    expect(changes).toHaveLength(1);
    expect(file.content).not.toMatch(/^\s*(vrrp_track_process|track_process)\b/m);
    expect(file.content).toMatch(/vrrp_script track_haproxy \{\n\s+script "\/bin\/sh -c '\[ \$\(pgrep --count --exact haproxy\) -ge 1 \] \|\| \{ sleep 0\.5;/);
    expect(file.content).toMatch(/^\s*track_script \{\n\s*track_haproxy\n/m);
    // Every other line is kept as it was.
    const adapted = new Set(file.content.split('\n'));
    const untouched = conf.content.split('\n').filter((l) => !/track_process|^\s*(process|quorum|delay) /.test(l));
    expect(untouched.filter((l) => !adapted.has(l))).toEqual([]);
    const defaults = node1.files.find((f) => f.path === '/etc/default/keepalived')!;
    expect(adaptForNamespaces(defaults).file.content).toContain('DAEMON_ARGS="--dont-respawn --log-console --log-detail"');
    for (const other of node1.files.filter((f) => f !== conf && f !== defaults)) expect(adaptForNamespaces(other).file).toBe(other);
  });
});

import { spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readAsset } from '../cloud-init/assets';
import { KEEPALIVED_CONFIG, renderKeepalivedConf, vrrpInstancesOf } from '../cloud-init/keepalived';
import { PROBES_ASSET, PROBES_LIBRARY } from '../cloud-init/node-paths';
import { REMOVE_STALE_VIPS_ASSET, renderProbeLibrary, renderWatchdogConf, renderWatchdogScript, WATCHDOG_ASSET, WATCHDOG_CONF, WATCHDOG_SCRIPT } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { FabricModel, NodeModel } from '../model/fabric-model';
import { adaptForNamespaces } from './harness/adapt';
import { FIVE_APPLIANCES, TEST_PLATFORM, threeNodeSpec } from './fixtures';

/** The script is a file (cloud-init/assets/fabric-watchdog); what it shares with the renderers must agree. */
describe('the fabric watchdog asset', () => {
  const asset = readAsset(WATCHDOG_ASSET);
  const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');

  it("sources the probes keepalived's checks use, from beside itself, and reads the conf file the renderer writes", () => {
    // One copy of the HTTP and TCP probes: the library, in the watchdog's directory on the node.
    expect(asset).toContain('\n. "$here/fabric-probes" || ');
    expect(asset).not.toMatch(/\/dev\/tcp|^\s*(http|tcp)_probe\(\)/m);
    expect(path.posix.dirname(PROBES_LIBRARY)).toBe(path.posix.dirname(WATCHDOG_SCRIPT));
    expect(asset).toContain(`conf="\${1:-${WATCHDOG_CONF}}"`);
    // Every setting the renderer writes is one the script reads, and the other way round.
    const written = [...renderWatchdogConf(model, model.nodes[0]).matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]).filter((k) => k !== 'PROBE');
    const read = asset.match(/^\s+(\S+)\) printf -v "\$key"/m)?.[1].split('|');
    expect([...new Set(written)].sort()).toEqual([...(read ?? [])].sort());
  });

});

/**
 * The rendered fabric watchdog run by the real bash against probes that
 * always fail, with a stand-in systemctl that records what it is asked:
 * which units it restarts, when, and which it leaves alone.
 */
describe('the fabric watchdog script', () => {
  const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afwd-'));
    mkdirSync(path.join(dir, 'bin'));
    mkdirSync(path.join(dir, 'state'));
    // systemctl: 'ghost.service' is not installed; every call is logged.
    writeFileSync(
      path.join(dir, 'bin', 'systemctl'),
      `#!/bin/bash\nprintf '%s\\n' "$*" >> '${dir}/systemctl.log'\nif [[ "$1" == show ]]; then [[ "$*" == *ghost.service* ]] && echo not-found || echo loaded; fi\nexit 0\n`,
    );
    writeFileSync(path.join(dir, 'bin', 'logger'), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(dir, 'bin', 'systemctl'), 0o755);
    chmodSync(path.join(dir, 'bin', 'logger'), 0o755);
    writeFileSync(path.join(dir, 'watchdog'), renderWatchdogScript(model, model.nodes[0]));
    writeFileSync(path.join(dir, PROBES_ASSET), renderProbeLibrary(model, model.nodes[0]));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeConf = (probes: string[]) =>
    writeFileSync(
      path.join(dir, 'watchdog.conf'),
      [
        'PROBE_INTERVAL=1',
        'STARTUP_GRACE=0',
        'FAILURES_BEFORE_RESTART=2',
        'RESTARTS_BEFORE_FAILOVER=3',
        'RESTART_WINDOW=300',
        `ELIGIBILITY_PREFIX=${dir}/state/ineligible-`,
        `STATE_DIR=${dir}/state`,
        ...probes,
        '',
      ].join('\n'),
    );

  /** Runs the watchdog for a bounded time on the given probes (every one fails: nothing listens on port 1). */
  const runFor = (seconds: number, probes: string[]) => {
    writeConf(probes);
    const r = spawnSync('timeout', [String(seconds), 'bash', path.join(dir, 'watchdog'), path.join(dir, 'watchdog.conf')], {
      env: { PATH: `${dir}/bin:/usr/bin:/bin` },
      encoding: 'utf8',
      timeout: (seconds + 5) * 1000,
    });
    expect(r.status).toBe(124); // it ran until timeout stopped it
    const calls = (() => {
      try {
        return readFileSync(path.join(dir, 'systemctl.log'), 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    })();
    return { calls, events: readFileSync(path.join(dir, 'state', 'events.log'), 'utf8') };
  };

  it('restarts a failing unit after FAILURES_BEFORE_RESTART probes, but never one that is not installed', () => {
    const { calls, events } = runFor(4.5, ['PROBE=app|app.service|tcp|127.0.0.1:1|-|-', 'PROBE=ghost|ghost.service|tcp|127.0.0.1:1|-|-']);
    expect(calls.filter((c) => c === 'restart app.service').length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c.includes('restart ghost.service'))).toEqual([]);
    // Said once, not on every probe.
    expect(events.match(/ghost: ghost\.service is not installed; not restarting it/g)).toHaveLength(1);
  });

  it('stops at once without its probe library, restarting nothing (every probe would fail)', () => {
    rmSync(path.join(dir, PROBES_ASSET));
    writeConf(['PROBE=app|app.service|tcp|127.0.0.1:1|-|-']);
    const r = spawnSync('timeout', ['5', 'bash', path.join(dir, 'watchdog'), path.join(dir, 'watchdog.conf')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 10000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`cannot read its probe library ${dir}/fabric-probes`);
    expect(() => readFileSync(path.join(dir, 'systemctl.log'), 'utf8')).toThrow(/ENOENT/);
  });

  it('does not count failed probes within a probe\'s own startup grace', () => {
    const { calls } = runFor(4.5, ['PROBE=slow|slow.service|tcp|127.0.0.1:1|-|60', 'PROBE=app|app.service|tcp|127.0.0.1:1|-|-']);
    expect(calls.filter((c) => c === 'restart app.service').length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c.includes('slow.service'))).toEqual([]);
  });

  it('probes healthy http, tcp and process targets without starting a program, and restarts a service that accepts but never answers', async () => {
    // Stand-ins for every program the probes used to start: each records that it ran.
    for (const program of ['curl', 'pgrep', 'date', 'wc', 'sleep', 'timeout']) {
      writeFileSync(path.join(dir, 'bin', program), `#!/bin/sh\necho ${program} >> '${dir}/programs.log'\nexit 0\n`);
      chmodSync(path.join(dir, 'bin', program), 0o755);
    }
    const http = createHttpServer((_req, res) => res.writeHead(204).end());
    const held: Socket[] = [];
    const hung = createTcpServer((socket) => held.push(socket)); // accepts, never answers
    const port = async (server: { listen: (port: number, host: string, cb: () => void) => void; address: () => unknown }) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    const [httpPort, hungPort] = [await port(http), await port(hung)];
    try {
      writeConf([
        `PROBE=web|web.service|http|http://127.0.0.1:${httpPort}/healthz|-|-`,
        `PROBE=raw|raw.service|tcp|127.0.0.1:${httpPort}|-|-`,
        'PROBE=shell|shell.service|process|bash|-|-',
        `PROBE=hung|hung.service|http|http://127.0.0.1:${hungPort}/healthz|-|-`,
      ]);
      const status = await new Promise<number | null>((resolve) => {
        const child = spawn('/usr/bin/timeout', ['6', 'bash', path.join(dir, 'watchdog'), path.join(dir, 'watchdog.conf')], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, stdio: 'ignore' });
        child.on('close', resolve);
      });
      expect(status).toBe(124);
    } finally {
      held.forEach((s) => s.destroy());
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => hung.close(r))]);
    }
    const calls = readFileSync(path.join(dir, 'systemctl.log'), 'utf8').trim().split('\n');
    expect(calls.filter((c) => c === 'restart hung.service').length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => /web|raw|shell/.test(c))).toEqual([]);
    expect(() => readFileSync(path.join(dir, 'programs.log'), 'utf8')).toThrow(/ENOENT/);
  });
});

/**
 * keepalived's ExecStopPost, the real script run by bash on rendered keepalived.conf files with a
 * stand-in `ip` that records what it is asked: it removes exactly the VIPs the node's instances
 * hold, read from the file a configuration bundle keeps current.
 */
describe('the stale VIP cleanup (remove-stale-vips)', () => {
  const asset = readAsset(REMOVE_STALE_VIPS_ASSET);
  const full = buildFabricModel(
    threeNodeSpec({
      appliances: FIVE_APPLIANCES,
      database: { members: ['db1', 'db2'], vip: '198.51.100.20' },
      monitoring: { members: ['db1', 'db2'], vip: '198.51.100.30' },
      deviceNetwork: { cidr: '203.0.113.0/24', firstAddress: '203.0.113.11', vip: '203.0.113.10', tcpPorts: [4334] },
      highAvailability: { vrrpMode: 'multicast' },
    }),
    TEST_PLATFORM,
    'stack/Fabric',
  );
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afvips-'));
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'ip'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${dir}/ip.log'\nexit 2\n`);
    chmodSync(path.join(dir, 'bin', 'ip'), 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** What the script asks ip to remove, given this keepalived.conf (undefined: no file). */
  const removed = (conf: string | undefined): string[] => {
    const file = path.join(dir, 'keepalived.conf');
    if (conf !== undefined) writeFileSync(file, conf);
    writeFileSync(path.join(dir, 'remove-stale-vips'), asset);
    const r = spawnSync('bash', [path.join(dir, 'remove-stale-vips'), file], { env: { PATH: `${dir}/bin:/usr/bin:/bin` }, encoding: 'utf8', timeout: 10000 });
    // Never fails keepalived's stop, even when ip does.
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    try {
      return readFileSync(path.join(dir, 'ip.log'), 'utf8').trim().split('\n');
    } catch {
      return [];
    }
  };
  const expected = (model: FabricModel, node: NodeModel) => vrrpInstancesOf(model, node).map((i) => `-4 address del ${i.vip}/${i.prefixLength} dev ${i.interfaceName}`);

  it('reads the file the renderer writes keepalived.conf to', () => {
    expect(asset).toContain(`\nconf=\${1:-${KEEPALIVED_CONFIG}}\n`);
  });

  it("removes each VIP of the node's instances, as the model has them (unicast and multicast, fabric, device, database and monitoring VIPs)", () => {
    const unicast = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
    const nodes = [...unicast.nodes.map((node) => ({ model: unicast, node })), ...full.nodes.map((node) => ({ model: full, node }))].filter((n) => vrrpInstancesOf(n.model, n.node).length > 0);
    expect(nodes.map((n) => n.node.name)).toEqual(['node1', 'node2', 'node1', 'node2', 'db1', 'db2']);
    for (const { model, node } of nodes) {
      expect(expected(model, node).length).toBeGreaterThan(0);
      expect(removed(renderKeepalivedConf(model, node))).toEqual(expected(model, node));
      rmSync(path.join(dir, 'ip.log'), { force: true });
    }
  });

  it("reads the same VIPs from the namespace harness's copy, whose process checks are scripts holding braces", () => {
    const node = full.nodes[0];
    const adapted = adaptForNamespaces({ path: KEEPALIVED_CONFIG, content: renderKeepalivedConf(full, node), permissions: '0640' }).file.content;
    expect(adapted).toMatch(/script ".*\{ sleep/);
    expect(removed(adapted)).toEqual(expected(full, node));
  });

  it("takes an address as keepalived does: no prefix is /32, no dev is the instance's interface wherever it is named; comments and excluded VIPs", () => {
    const conf = [
      'vrrp_script chk { # a comment with a VIP 192.0.2.99/24 dev eth9',
      '    script "/bin/true { 192.0.2.98 }"',
      '}',
      'vrrp_instance one { ! comment',
      '    virtual_ipaddress {',
      '        192.0.2.1',
      '        192.0.2.2/24 brd 192.0.2.255 dev eth2 label eth2:vip # comment',
      '    }',
      '    unicast_peer {',
      '        192.0.2.50',
      '    }',
      '    virtual_ipaddress_excluded {',
      '        192.0.2.3/28',
      '    }',
      '    interface eth1',
      '}',
      'vrrp_instance two {',
      '    interface eth4',
      '    virtual_ipaddress {',
      '        192.0.2.4/25',
      '    }',
      '}',
      '',
    ].join('\n');
    expect(removed(conf)).toEqual([
      '-4 address del 192.0.2.1/32 dev eth1',
      '-4 address del 192.0.2.2/24 dev eth2',
      '-4 address del 192.0.2.3/28 dev eth1',
      '-4 address del 192.0.2.4/25 dev eth4',
    ]);
  });

  it('does nothing, and succeeds, without a keepalived.conf', () => {
    expect(removed(undefined)).toEqual([]);
  });
});

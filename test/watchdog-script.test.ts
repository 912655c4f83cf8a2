import { spawn, spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readAsset } from '../cloud-init/assets';
import { HEALTH_REQUEST_FORMAT, HEALTHY_STATUS_REGEX } from '../cloud-init/http-check';
import { renderWatchdogConf, renderWatchdogScript, WATCHDOG_ASSET, WATCHDOG_CONF } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/** The script is a file (cloud-init/assets/fabric-watchdog); what it shares with the renderers must agree. */
describe('the fabric watchdog asset', () => {
  const asset = readAsset(WATCHDOG_ASSET);
  const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');

  it('speaks the same HTTP probe as keepalived checks and reads the conf file the renderer writes', () => {
    expect(asset).toContain(`printf '${HEALTH_REQUEST_FORMAT}' "\${path:-/}" "$authority" >&3`);
    expect(asset).toContain(`local healthy='${HEALTHY_STATUS_REGEX}'`);
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

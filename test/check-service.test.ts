import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readAsset } from '../cloud-init/assets';
import { bundleReloadOf } from '../cloud-init/bundle';
import { haproxyCheckCommand, KEEPALIVED_CONFIG, renderKeepalivedConf } from '../cloud-init/keepalived';
import { MONITORING_CHECK_CONF, monitoringFiles } from '../cloud-init/monitoring';
import { CHECK_SERVICE_ASSET, CHECK_SERVICE_SCRIPT, PROBES_ASSET, PROBES_LIBRARY } from '../cloud-init/node-paths';
import { buildFabricModel } from '../model/build-model';
import { FabricSpec } from '../model/fabric-spec';
import { FIVE_APPLIANCES, TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * keepalived's check of HAProxy and of the monitoring service, the real script (with the probe
 * library beside it, as on a node) run by bash against small servers on 127.0.0.1. Its PATH
 * holds nothing: an http or tcp check that started a program would fail.
 */
describe('check-service', () => {
  let dir: string;
  const servers: { close: (cb: () => void) => void }[] = [];
  const held: Socket[] = [];
  /** What the HTTP server was asked: request line and Host header. */
  const requests: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afcheck-'));
    mkdirSync(path.join(dir, 'empty'));
    writeFileSync(path.join(dir, CHECK_SERVICE_ASSET), readAsset(CHECK_SERVICE_ASSET));
    chmodSync(path.join(dir, CHECK_SERVICE_ASSET), 0o755);
    writeFileSync(path.join(dir, PROBES_ASSET), readAsset(PROBES_ASSET));
  });
  afterAll(async () => {
    held.forEach((s) => s.destroy());
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    rmSync(dir, { recursive: true, force: true });
  });

  const listen = async (server: Server | ReturnType<typeof createTcpServer>): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };
  /** An HTTP server answering every request with `status`. */
  const http = (status: number) =>
    listen(
      createHttpServer((req: IncomingMessage, res) => {
        requests.push(`${req.method} ${req.url} HTTP/${req.httpVersion} Host=${req.headers.host}`);
        res.writeHead(status).end();
      }),
    );
  /** Accepts connections and never answers. */
  const hung = () => listen(createTcpServer((socket) => held.push(socket)));
  /** A port nothing listens on: one that was just listened on, then closed. */
  const closedPort = async () => {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  };

  /** Runs the check with `args`; its exit status and how long it took. */
  const check = (args: string[], pathDirs = [path.join(dir, 'empty')]): Promise<{ status: number | null; seconds: number; stderr: string }> =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      let stderr = '';
      const child = spawn('/bin/bash', [path.join(dir, CHECK_SERVICE_ASSET), ...args], { env: { PATH: pathDirs.join(':') }, stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr.on('data', (d) => (stderr += d));
      const killer = setTimeout(() => child.kill('SIGKILL'), 20000);
      child.on('close', (status) => {
        clearTimeout(killer);
        resolve({ status, seconds: Number(process.hrtime.bigint() - started) / 1e9, stderr });
      });
    });

  it('lies beside its probe library on the node, which keepalived runs it from', () => {
    expect(path.posix.dirname(CHECK_SERVICE_SCRIPT)).toBe(path.posix.dirname(PROBES_LIBRARY));
  });

  it('http: healthy on 2xx and 3xx, with the path and Host header as given', async () => {
    const [ok, moved] = [await http(204), await http(302)];
    expect((await check(['http', '127.0.0.1', String(ok), '/healthz?deep=1&x=!'])).status).toBe(0);
    expect(requests).toContain(`GET /healthz?deep=1&x=! HTTP/1.0 Host=127.0.0.1:${ok}`);
    expect((await check(['http', '127.0.0.1', String(moved), '/'])).status).toBe(0);
  });

  it('http: unhealthy on 4xx and 5xx, a closed port and a server that never answers, within about a second', async () => {
    const ports = { notFound: await http(404), failing: await http(503), hung: await hung(), closed: await closedPort() };
    for (const [what, port] of Object.entries(ports)) {
      const r = await check(['http', '127.0.0.1', String(port), '/healthz']);
      expect({ what, failed: r.status !== 0 && r.status !== null, bounded: r.seconds < 3 }).toEqual({ what, failed: true, bounded: true });
    }
  });

  it('tcp: healthy while the port accepts, unhealthy on a closed one', async () => {
    const [open, closed] = [await hung(), await closedPort()];
    expect((await check(['tcp', '127.0.0.1', String(open)])).status).toBe(0);
    const r = await check(['tcp', '127.0.0.1', String(closed)]);
    expect(r.status).not.toBe(0);
    expect(r.seconds).toBeLessThan(3);
  });

  it("command: runs the settings file's COMMAND= line through bash, as given, within 5 s", async () => {
    const conf = (command: string) => {
      const file = path.join(dir, `check-${requests.length}-${Math.random().toString(36).slice(2)}.conf`);
      writeFileSync(file, `# header\nCOMMAND=${command}\n`);
      return file;
    };
    const system = ['/usr/bin', '/bin'];
    // Quotes, '$' and '#' reach bash as written (they would not survive keepalived's command line).
    expect((await check(['command', conf(`x="a b"; [ "$x" = 'a b' ] # comment`)], system)).status).toBe(0);
    expect((await check(['command', conf('exit 3')], system)).status).toBe(3);
    const slow = await check(['command', conf('sleep 30')], system);
    expect(slow.status).toBe(124);
    expect(slow.seconds).toBeLessThan(10);
    const none = await check(['command', conf('')], system);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('no COMMAND= line');
  }, 30000);

  it('refuses wrong usage with 64 (keepalived counts it as a failed check)', async () => {
    for (const args of [[], ['http', '127.0.0.1', '80'], ['tcp', '127.0.0.1'], ['ping', 'x'], ['command']]) {
      const r = await check(args);
      expect({ args, status: r.status }).toEqual({ args, status: 64 });
    }
  });

  it('fails without its probe library', async () => {
    const alone = mkdtempSync(path.join(dir, 'alone-'));
    writeFileSync(path.join(alone, CHECK_SERVICE_ASSET), readAsset(CHECK_SERVICE_ASSET));
    const port = await http(200);
    const r = await new Promise<number | null>((resolve) => spawn('/bin/bash', [path.join(alone, CHECK_SERVICE_ASSET), 'http', '127.0.0.1', String(port), '/'], { stdio: 'ignore' }).on('close', resolve));
    expect(r).not.toBe(0);
  });
});

/** The checks keepalived.conf names: check-service with the arguments the model gives. */
describe("keepalived's script lines for check-service", () => {
  const scriptOf = (conf: string, name: string) => /^\s+script "([^"]*)"$/m.exec(conf.slice(conf.indexOf(`vrrp_script ${name} {`)))![1];
  const pair = (service: NonNullable<FabricSpec['monitoring']>['service']) =>
    buildFabricModel(
      threeNodeSpec({
        appliances: FIVE_APPLIANCES,
        monitoring: { members: ['db1', 'db2'], vip: '198.51.100.30', service },
      }),
      TEST_PLATFORM,
      'stack/Fabric',
    );

  it('travels with keepalived.conf in the configuration bundle, with the library it sources, so that a node created earlier gets the check a new keepalived.conf names', () => {
    for (const file of [KEEPALIVED_CONFIG, CHECK_SERVICE_SCRIPT, PROBES_LIBRARY]) expect({ file, inBundle: bundleReloadOf(file) !== undefined }).toEqual({ file, inBundle: true });
  });

  it("checks HAProxy's health endpoint on loopback", () => {
    const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
    expect(scriptOf(renderKeepalivedConf(model, model.nodes[0]), 'chk_haproxy')).toBe(`${CHECK_SERVICE_SCRIPT} http 127.0.0.1 ${model.loadBalancer.healthPort} /healthz`);
    expect(haproxyCheckCommand(model).join(' ')).toBe(`${CHECK_SERVICE_SCRIPT} http 127.0.0.1 ${model.loadBalancer.healthPort} /healthz`);
  });

  it("checks the monitoring service on the node's own address, by its http, tcp or command health check", () => {
    const line = (service: Parameters<typeof pair>[0]) => {
      const model = pair(service);
      return scriptOf(renderKeepalivedConf(model, model.nodes[3]), 'chk_monitoring');
    };
    expect(line({ port: 9100, healthCheck: { type: 'http', path: '/ready?deep=1&x=!' } })).toBe(`${CHECK_SERVICE_SCRIPT} http 198.51.100.21 9100 /ready?deep=1&x=!`);
    expect(line({ port: 9100, healthCheck: { type: 'tcp' } })).toBe(`${CHECK_SERVICE_SCRIPT} tcp 198.51.100.21 9100`);
    expect(line({ port: 9100, healthCheck: { type: 'command', command: `curl -fs "http://$(hostname):9100/" # it's up` } })).toBe(`${CHECK_SERVICE_SCRIPT} command ${MONITORING_CHECK_CONF}`);
  });

  it('keeps a command check in a root-owned settings file of the bundle, only where keepalived.conf names it', () => {
    const command = `curl -fs "http://$(hostname):9100/" # it's up`;
    const model = pair({ port: 9100, healthCheck: { type: 'command', command } });
    const conf = monitoringFiles(model, model.nodes[3]).find((f) => f.path === MONITORING_CHECK_CONF)!;
    expect(conf.permissions).toBe('0644');
    expect(conf.owner).toBeUndefined();
    expect(conf.content.split('\n').filter((l) => l.startsWith('COMMAND='))).toEqual([`COMMAND=${command}`]);
    // Delivered with keepalived.conf: a day-2 change to a command check brings the file it names.
    expect(bundleReloadOf(MONITORING_CHECK_CONF)).toBe('none');
    const http = pair({ port: 9100, healthCheck: { type: 'http', path: '/' } });
    expect(monitoringFiles(http, http.nodes[3]).map((f) => f.path)).not.toContain(MONITORING_CHECK_CONF);
  });
});

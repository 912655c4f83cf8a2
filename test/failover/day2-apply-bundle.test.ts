import { DEFAULT_HEALTH_CHECK_PATH } from '../../model/defaults';
import { randomBytes } from 'node:crypto';
import { APPLIED_BUNDLE_FILE } from '../../cloud-init/apply-bundle-agent';
import { assembleBundle, NodeBundle } from '../../cloud-init/bundle';
import { DATABASE_CLIENT_ENV } from '../../cloud-init/database';
import { HAPROXY_CONFIG } from '../../cloud-init/haproxy';
import { KEEPALIVED_CONFIG } from '../../cloud-init/keepalived';
import { FabricSpec } from '../../model/fabric-spec';
import { formatFigures, StreamFigures, underStream } from '../harness/day2';
import { nowMs, sleep } from '../harness/exec';
import { FabricHarness } from '../harness/fabric-harness';
import { HARNESS_RUN_DIR } from '../harness/supervisor';
import { namespaceFabricSpec, renderFabric } from '../harness/render';
import { logNotes, runningFabric } from './fabric-fixture';

// Tier 3: the node agent (fabric-apply-bundle) applies configuration bundles to the
// nodes of a running fabric while a client streams requests through the VIP.
describe('day 2: fabric-apply-bundle on a running fabric', () => {
  const fabric = runningFabric();
  const figures: StreamFigures[] = [];
  const applies: string[] = [];

  const initial = namespaceFabricSpec();
  /** A fabric-wide change of HAProxy (sticky cookie), keepalived (check interval) and the watchdog (probe interval). */
  const settings: FabricSpec = { ...initial, loadBalancer: { stickyCookieName: 'FABRICDAY2' }, highAvailability: { checkIntervalSeconds: 2 }, watchdog: { probeIntervalSeconds: 2 } };
  /** The same without node3: the balancers' backend loses a server. */
  const withoutNode3: FabricSpec = { ...settings, appliances: settings.appliances!.filter((a) => a.name !== 'node3') };
  const bundlesOf = (spec: FabricSpec) => renderFabric(spec, fabric.rendered().secrets).bundles;

  let active = '';
  let standby = '';

  const apply = async (h: FabricHarness, node: string, bundle: NodeBundle, step: string) => {
    const r = await h.applyBundle(node, bundle);
    applies.push(`${step}, ${node}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
    if (r.code !== 0) throw new Error(`${node}: fabric-apply-bundle exited ${r.code}:\n${r.stderr}\n${await h.diagnostics()}`);
    return r;
  };
  /** What the client saw: no failed request, and the VIP stayed on the active balancer throughout. */
  const expectUndisturbed = (f: StreamFigures) => {
    expect(f.failed).toBe(0);
    expect(f.vipMoves).toBe(0);
    expect(f.holders).toEqual([active]);
  };
  const appliedRecord = (h: FabricHarness, node: string) => h.readNodeFile(node, APPLIED_BUNDLE_FILE);
  const workerPid = async (h: FabricHarness, node: string) => /^Pid: (\d+)$/m.exec(await h.haproxyCli(node, 'show info'))?.[1];
  const serversOf = (records: readonly { t0: number; ok: boolean; body?: string }[], after: number) => new Set(records.filter((r) => r.ok && r.t0 > after).map((r) => r.body));

  beforeAll(() => {
    const h = fabric.harness();
    [active] = h.vipHolders();
    standby = h.balancers.map((n) => n.name).find((n) => n !== active)!;
  });

  afterAll(() => {
    if (figures.length) console.log(`day 2 under a GET stream through the VIP (new TLS connection each, every 25 ms):\n${formatFigures(figures)}\n${applies.join('\n')}`);
    const h = fabric.harness();
    logNotes(h);
  });

  it('starts with no bundle applied: the nodes run their first-boot configuration', async () => {
    const h = fabric.harness();
    expect(active).not.toBe('');
    for (const n of h.nodes) {
      const r = await h.runBundleAgent(n, ['--status']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/no bundle applied yet/);
    }
  });

  it('applies a fabric-wide setting, the application node first, then the standby balancer, the active one last: no failed request, the VIP stays', async () => {
    const h = fabric.harness();
    const bundles = bundlesOf(settings);
    const vrrpBefore = h.balancers.map((n) => h.vrrpState(n));
    const { result, figures: f } = await underStream(h, 'fabric-wide setting (3 nodes)', async () => {
      const node3 = await apply(h, 'node3', bundles.node3, 'setting');
      const second = await apply(h, standby, bundles[standby], 'setting');
      // A server in maintenance stays there across the reload (server-state-file).
      await h.haproxyCli(active, 'disable server application_servers/node3');
      const pidBefore = await workerPid(h, active);
      const last = await apply(h, active, bundles[active], 'setting');
      const pidAfter = await workerPid(h, active);
      const node3State = (await h.haproxyStat(active)).find((r) => r.pxname === 'application_servers' && r.svname === 'node3')?.status;
      await h.haproxyCli(active, 'enable server application_servers/node3');
      return { node3, second, last, pidBefore, pidAfter, node3State };
    });
    figures.push(f);
    for (const [node, r] of [['node3', result.node3], [standby, result.second], [active, result.last]] as const) {
      expect(appliedRecord(h, node)).toContain(`\nbundle ${r.delivered.hash}\n`);
    }
    expect(appliedRecord(h, 'node3')).toMatch(/^reloaded fabric-watchdog$/m);
    expect(appliedRecord(h, active)).toMatch(/^reloaded haproxy keepalived fabric-watchdog$/m);
    expect(result.pidAfter).not.toBe(result.pidBefore);
    expect(result.node3State).toBe('MAINT');
    for (const n of h.balancers) expect(h.readNodeFile(n, KEEPALIVED_CONFIG)).toMatch(/vrrp_script chk_haproxy \{\n(?:.*\n)*?\s+interval 2\n/);
    // Every client now gets the new sticky cookie.
    const headers = h.curl(`https://${h.vip}/`, ['-D', '-', '-o', '/dev/null']);
    expect(headers.body).toMatch(/^set-cookie: FABRICDAY2=/im);
    expectUndisturbed(f);
    // Neither balancer's VRRP instance went through any transition.
    expect(h.balancers.map((n) => h.vrrpState(n))).toEqual(vrrpBefore);
  }, 120_000);

  it('a second apply of the same bundle changes nothing and says so', async () => {
    const h = fabric.harness();
    const record = appliedRecord(h, active);
    const pid = await workerPid(h, active);
    const r = await h.applyBundle(active, bundlesOf(settings)[active]);
    applies.push(`same bundle again, ${active}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/is already applied on .*; nothing to do/);
    expect(appliedRecord(h, active)).toBe(record);
    expect(await workerPid(h, active)).toBe(pid);
  }, 30_000);

  it('keeps the bundle back on the balancer that holds the VIP (--defer-while-holding) and applies it with --apply-pending after the other one, as the delivery chain does wherever the VIP is', async () => {
    const h = fabric.harness();
    const instance = fabric.rendered().model.loadBalancer.vrrp.name;
    const bundles = bundlesOf({ ...settings, loadBalancer: { ...settings.loadBalancer, stickyCookieName: 'FABRICDEFER' } });
    const defer = ['--defer-while-holding', instance];
    const before = { cfg: h.readNodeFile(active, HAPROXY_CONFIG), record: appliedRecord(h, active), worker: await workerPid(h, active) };
    const { result, figures: f } = await underStream(h, 'sticky cookie, the VIP holder configured first in the chain', async () => {
      // The active balancer is first in this chain: it checks and keeps its bundle, and changes nothing.
      const kept = await h.applyBundle(active, bundles[active], defer);
      const untouched = { cfg: h.readNodeFile(active, HAPROXY_CONFIG), record: appliedRecord(h, active), worker: await workerPid(h, active) };
      const status = await h.runBundleAgent(active, ['--status']);
      const standbyRun = await h.applyBundle(standby, bundles[standby], defer);
      const pending = await h.runBundleAgent(active, ['--apply-pending', kept.delivered.hash]);
      return { kept, untouched, status, standbyRun, pending };
    });
    figures.push(f);
    applies.push(`deferred on ${active}: exit ${result.kept.code}; ${standby}: exit ${result.standbyRun.code}; --apply-pending on ${active}: exit ${result.pending.code} in ${(result.pending.ms / 1000).toFixed(2)} s`);
    expect(result.kept.code).toBe(0);
    expect(result.kept.stderr).toMatch(new RegExp(`deferred bundle ${result.kept.delivered.hash} .*holds the VIP`));
    expect(result.untouched).toEqual(before);
    expect(result.status.stdout).toContain(`pending ${result.kept.delivered.hash}`);
    // The standby does not hold the VIP: the same option applies its bundle at once.
    expect(result.standbyRun.code).toBe(0);
    expect(appliedRecord(h, standby)).toContain(`\nbundle ${result.standbyRun.delivered.hash}\n`);
    expect(result.pending.code).toBe(0);
    expect(appliedRecord(h, active)).toContain(`\nbundle ${result.kept.delivered.hash}\n`);
    expect(h.readNodeFile(active, HAPROXY_CONFIG)).toMatch(/cookie FABRICDEFER /);
    expect((await h.runBundleAgent(active, ['--status'])).stdout).not.toMatch(/^pending /m);
    expectUndisturbed(f);
    // Run again (an apply that resumes), it finds the bundle applied; a hash neither applied nor kept is refused.
    const again = await h.runBundleAgent(active, ['--apply-pending', result.kept.delivered.hash]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/is already applied .*nothing was deferred/);
    const unknown = await h.runBundleAgent(active, ['--apply-pending', '0'.repeat(64)]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/neither applied nor pending/);
  }, 120_000);

  it('removes a backend server and adds it back, the standby balancer first: node3 leaves and rejoins rotation with no failed request; its --retire returns only once both balancers stopped using it', async () => {
    const h = fabric.harness();
    const shrink = bundlesOf(withoutNode3);
    const grow = bundlesOf(settings);
    // In rotation, node3 does not count as drained.
    const busy = await h.runBundleAgent('node3', ['--retire', '4']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/a balancer still uses this node/);
    const removal = await underStream(h, 'remove backend node3', async () => {
      const retiring = h.runBundleAgent('node3', ['--retire', '60'], 70_000).then((r) => ({ ...r, doneAt: nowMs() }));
      await apply(h, standby, shrink[standby], 'remove backend');
      await apply(h, active, shrink[active], 'remove backend');
      const appliedAt = nowMs();
      return { appliedAt, retire: await retiring };
    });
    figures.push(removal.figures);
    applies.push(`retire node3: exit ${removal.result.retire.code} in ${(removal.result.retire.ms / 1000).toFixed(2)} s, ${((removal.result.retire.doneAt - removal.result.appliedAt) / 1000).toFixed(2)} s after the active applied`);
    expect(removal.result.retire.code).toBe(0);
    expect(removal.result.retire.stderr).toMatch(/no balancer has used this node for 3 s/);
    // Not before both balancers had their new bundle, and its quiet time after that.
    expect(removal.result.retire.doneAt - removal.result.appliedAt).toBeGreaterThanOrEqual(2000);
    const removedAt = removal.result.appliedAt;
    expect(serversOf(removal.records, 0)).toContain('node3');
    expect([...serversOf(removal.records, removedAt)].sort()).toEqual(['node1', 'node2']);
    expect(h.readNodeFile(active, HAPROXY_CONFIG)).not.toMatch(/server node3 /);

    const addition = await underStream(h, 'add backend node3', async () => {
      await apply(h, standby, grow[standby], 'add backend');
      await apply(h, active, grow[active], 'add backend');
      return nowMs();
    }, { afterMs: 1500 });
    figures.push(addition.figures);
    expect([...serversOf(addition.records, addition.result)].sort()).toEqual(['node1', 'node2', 'node3']);
    for (const r of [removal.figures, addition.figures]) {
      expectUndisturbed(r);
    }
  }, 120_000);

  it('refuses a bundle that haproxy -c rejects: exit 2, and the running files, HAProxy and the VIP stay as they were', async () => {
    const h = fabric.harness();
    const good = bundlesOf(settings)[standby];
    const bad = assembleBundle(standby, good.files.map((f) => (f.path === HAPROXY_CONFIG ? { ...f, content: f.content.replace('balance roundrobin', 'balance sometimes') } : f)));
    const before = { cfg: h.readNodeFile(standby, HAPROXY_CONFIG), record: appliedRecord(h, standby), worker: await workerPid(h, standby), main: (await h.unit(standby, 'haproxy.service')).mainPid };
    const { result, figures: f } = await underStream(h, 'bad bundle on the standby', () => h.applyBundle(standby, bad));
    figures.push(f);
    applies.push(`bad bundle, ${standby}: exit ${result.code} in ${(result.ms / 1000).toFixed(2)} s`);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/haproxy -c rejects the new configuration/);
    expect(h.readNodeFile(standby, HAPROXY_CONFIG)).toBe(before.cfg);
    expect(appliedRecord(h, standby)).toBe(before.record);
    expect(await workerPid(h, standby)).toBe(before.worker);
    expect((await h.unit(standby, 'haproxy.service')).mainPid).toBe(before.main);
    expect(f.failed).toBe(0);
    expect(f.vipMoves).toBe(0);
  }, 60_000);

  /** A bundle whose haproxy.cfg passes haproxy -c but cannot be loaded: a bind on the application's own address and port, which only the reload finds taken. */
  const unloadable = (h: FabricHarness, node: string) => {
    const port = fabric.rendered().model.applicationServers.service.port;
    const clash = `\nfrontend clash\n    bind ${h.node(node).address}:${port}\n    default_backend application_servers\n`;
    return assembleBundle(node, bundlesOf(settings)[node].files.map((f) => (f.path === HAPROXY_CONFIG ? { ...f, content: f.content + clash } : f)));
  };

  const expectRestored = async (h: FabricHarness, node: string, run: () => Promise<{ code: number | null; stderr: string }>) => {
    const before = { cfg: h.readNodeFile(node, HAPROXY_CONFIG), record: appliedRecord(h, node), worker: await workerPid(h, node) };
    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/HAProxy did not start a new worker/);
    expect(result.stderr).toMatch(/runs its previous configuration again/);
    expect(h.readNodeFile(node, HAPROXY_CONFIG)).toBe(before.cfg);
    expect(appliedRecord(h, node)).toBe(before.record);
    // The restored file was reloaded: a new worker runs it.
    expect(await workerPid(h, node)).not.toBe(before.worker);
  };

  it('puts the previous files back when HAProxy cannot take the new ones up on the standby: exit 1 (which stops the chain before the active), no failed request', async () => {
    const h = fabric.harness();
    let ms = 0;
    const { figures: f } = await underStream(h, 'reload fails on the standby: files restored', () =>
      expectRestored(h, standby, async () => {
        const r = await h.applyBundle(standby, unloadable(h, standby));
        ms = r.ms;
        return r;
      }),
    );
    figures.push(f);
    applies.push(`reload fails, ${standby}: exit 1 in ${(ms / 1000).toFixed(2)} s`);
    expectUndisturbed(f);
  }, 90_000);

  it('on the active balancer the same failure is survived too, but HAProxy 2.6 refuses new connections while the failed reload holds its listeners', async () => {
    const h = fabric.harness();
    let done = 0;
    let ms = 0;
    const { records, figures: f } = await underStream(h, 'reload fails on the active: files restored', () =>
      expectRestored(h, active, async () => {
        const r = await h.applyBundle(active, unloadable(h, active));
        done = nowMs();
        ms = r.ms;
        return r;
      }),
    );
    figures.push(f);
    applies.push(`reload fails, ${active}: exit 1 in ${(ms / 1000).toFixed(2)} s`);
    // Measured, not wished away: when the new process cannot bind, HAProxy 2.6 has the old worker pause its
    // listeners while it retries (new connections are refused, queued ones reset) and resume them when it gives up.
    expect(Object.keys(f.failures).every((what) => /ECONNREFUSED|ECONNRESET/.test(what))).toBe(true);
    expect(f.failureSpanMs).toBeLessThan(5000);
    // Once the agent is done, every request is served again, and the VIP never moved.
    expect(records.filter((r) => r.t0 > done).every((r) => r.ok)).toBe(true);
    expect(f.vipMoves).toBe(0);
  }, 90_000);

  it('refuses a bundle whose file does not match its manifest (a damaged copy), touching nothing', async () => {
    const h = fabric.harness();
    const { nodePath } = h.deliverBundle(standby, bundlesOf(withoutNode3)[standby]);
    const copy = h.hostPath(standby, `${nodePath}/files${HAPROXY_CONFIG}`);
    require('node:fs').appendFileSync(copy, '# changed after the manifest was made\n');
    const cfg = h.readNodeFile(standby, HAPROXY_CONFIG);
    const r = await h.runBundleAgent(standby, [nodePath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not match its sha256 in the manifest/);
    expect(h.readNodeFile(standby, HAPROXY_CONFIG)).toBe(cfg);
  }, 30_000);
  // Last: it changes the advert interval for good.
  it('refuses a change VRRP peers must agree on (the advert interval) without a common reload time, and has both balancers take it up at one --keepalived-reload-at time, the VIP in place', async () => {
    const h = fabric.harness();
    const bundles = bundlesOf({ ...settings, highAvailability: { ...settings.highAvailability, advertIntervalSeconds: 0.5 } });
    const refused = await h.applyBundle(standby, bundles[standby]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/alters what VRRP peers must agree on/);
    const vrrpBefore = h.balancers.map((n) => h.vrrpState(n));
    // keepalived's reload_time_file form, in UTC: a few seconds ahead, as the delivery would give every balancer.
    const at = new Date(Date.now() + 5000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const { result, figures: f } = await underStream(h, 'advert interval at one common reload time (both balancers)', () =>
      Promise.all([standby, active].map((n) => h.applyBundle(n, bundles[n], ['--keepalived-reload-at', at]))),
    );
    figures.push(f);
    for (const [k, r] of result.entries()) {
      applies.push(`advert interval at ${at}, ${[standby, active][k]}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/keepalived reloads at/);
    }
    for (const n of h.balancers) expect(h.readNodeFile(n, KEEPALIVED_CONFIG)).toMatch(/^\s+advert_int 0\.5$/m);
    expect(f.failed).toBe(0);
    expect(f.vipMoves).toBe(0);
    expect(h.balancers.map((n) => h.vrrpState(n))).toEqual(vrrpBefore);
  }, 60_000);

  it('takes the form Terraform delivers: one text file with --wait-ready and --common-reload-at, the standby then the active, each returning at once, both reloading at the common time', async () => {
    const h = fabric.harness();
    const bundles = bundlesOf({ ...settings, highAvailability: { ...settings.highAvailability, advertIntervalSeconds: 0.4 } });
    const vrrpBefore = h.balancers.map((n) => h.vrrpState(n));
    const at = new Date(Date.now() + 8000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const atMs = Date.parse(at.replace(' ', 'T'));
    const { result, figures: f } = await underStream(
      h,
      'advert interval, as Terraform delivers it: standby, then active, one common time',
      async () => {
        const out = [];
        // One after the other, as the delivery chain runs them.
        for (const n of [standby, active]) out.push({ ...(await h.applyBundle(n, bundles[n], ['--wait-ready', '30', '--common-reload-at', at], 'text')), doneAt: Date.now() });
        // Past the common time, and the time a peer needs to notice a silent master.
        await sleep(Math.max(0, atMs - Date.now()) + 4000);
        return out;
      },
      { maxMs: 60_000 },
    );
    figures.push(f);
    for (const [k, r] of result.entries()) {
      applies.push(`advert interval, text bundle, common time ${at}, ${[standby, active][k]}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/node ready: cloud-init finished/);
      expect(r.stderr).toMatch(/not waiting for the common reload/);
      // Scheduled, not waited for: both were configured before the common time.
      expect(r.doneAt).toBeLessThan(atMs);
    }
    for (const n of h.balancers) {
      expect(h.readNodeFile(n, KEEPALIVED_CONFIG)).toMatch(/^\s+advert_int 0\.4$/m);
      // keepalived's own log: it scheduled the reload at the common time and completed it.
      const log = h.readNodeFile(n, `${HARNESS_RUN_DIR}/log/keepalived.service.log`);
      const scheduled = log.lastIndexOf(`Scheduling reload for ${at.replace(/Z$/, '')}`);
      if (scheduled < 0 || !log.slice(scheduled).includes('Reload complete')) throw new Error(`${n.name}: keepalived has not reloaded at ${at}:\n${await h.diagnostics()}`);
    }
    expect(f.failed).toBe(0);
    expect(f.vipMoves).toBe(0);
    expect(h.balancers.map((n) => h.vrrpState(n))).toEqual(vrrpBefore);
  }, 90_000);

  it('ignores a common reload time for a change the peers need not agree on: a text bundle is taken up at once', async () => {
    const h = fabric.harness();
    const bundle = bundlesOf({ ...settings, highAvailability: { ...settings.highAvailability, advertIntervalSeconds: 0.4 }, loadBalancer: { ...settings.loadBalancer, stickyCookieName: 'FABRICTEXT' } })[standby];
    const at = new Date(Date.now() + 600_000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    const r = await h.applyBundle(standby, bundle, ['--common-reload-at', at], 'text');
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/keepalived reloads at/);
    expect(h.readNodeFile(standby, HAPROXY_CONFIG)).toMatch(/cookie FABRICTEXT /);
    expect(appliedRecord(h, standby)).toContain(r.delivered.hash);
  }, 60_000);
});

// The application servers' database client env (the password a rotation changes) is a bundle file
// whose reload is a restart of the application service: on node3, an application server without a
// database of its own, so its bundle differs in that file alone.
// With the shipped HTTP health check the agent waits until the application answers it; with a TCP
// (or command) check it has no URL to ask, and requires the restarted process to keep running.
describe.each([
  { check: 'HTTP', options: { database: true } },
  { check: 'TCP', options: { database: true, applicationHealthCheck: { type: 'tcp' as const } } },
])('day 2: a changed database client env restarts the application service ($check health check)', ({ check, options }) => {
  const fabric = runningFabric(options);
  const figures: StreamFigures[] = [];
  const applies: string[] = [];
  const node = 'node3';
  const spec = namespaceFabricSpec(options);
  const http = check === 'HTTP';
  const appUnit = () => `${fabric.rendered().model.applicationServers.service.name}.service`;
  // The demo application serves the default health path whatever check the fabric is configured with.
  const healthUrl = () => `http://${fabric.harness().node(node).address}:${fabric.rendered().model.applicationServers.service.port}${DEFAULT_HEALTH_CHECK_PATH}`;
  /** The application answers its health check, asked on the node itself as the agent asks. */
  const answers = async (h: FabricHarness) => (await h.exec(node, ['curl', '-fsS', '--max-time', '2', '-o', '/dev/null', healthUrl()])).code === 0;
  /** The environment the application's main process runs with (read here, never printed). */
  const environOf = async (h: FabricHarness, pid: number) => (await h.exec(node, ['cat', `/proc/${pid}/environ`])).stdout.split('\0');
  const appliedRecord = (h: FabricHarness) => h.readNodeFile(node, APPLIED_BUNDLE_FILE);
  /** node3's bundle with a new application password: the rendering of a rotation. */
  const rotated = (password: string) => renderFabric(spec, { ...fabric.rendered().secrets, databaseApplicationPassword: password }).bundles[node];

  afterAll(() => {
    if (figures.length) console.log(`application restarts under a GET stream through the VIP (${check} health check):\n${formatFigures(figures)}\n${applies.join('\n')}`);
    logNotes(fabric.harness());
  });

  it('a bundle that changes only the client env restarts the application (a new process with the new password) and exits 0 once it answers', async () => {
    const h = fabric.harness();
    const password = randomBytes(12).toString('hex');
    const bundle = rotated(password);
    const current = fabric.rendered().bundles[node];
    // Only the client env differs from what the node runs.
    expect(bundle.files.filter((f) => f.content !== current.files.find((c) => c.path === f.path)?.content).map((f) => [f.path, f.reload])).toEqual([[DATABASE_CLIENT_ENV, 'application']]);
    const before = await h.unit(node, appUnit());
    expect(before.state).toBe('active');
    const { result: r, figures: f } = await underStream(h, `client env changed on ${node}: application restarted`, () => h.applyBundle(node, bundle), { afterMs: 1500 });
    figures.push(f);
    applies.push(`client env, ${node}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
    if (r.code !== 0) throw new Error(`${node}: fabric-apply-bundle exited ${r.code}:\n${r.stderr}\n${await h.diagnostics()}`);
    const restarted = `application service ${appUnit().replace('.', '\\.')} restarted with its new settings \\(main pid \\d+ -> \\d+\\)`;
    expect(r.stderr).toMatch(new RegExp(http ? `${restarted} and answers ${healthUrl()}` : `${restarted} \\[[0-9.]+ s\\]$`, 'm'));
    const after = await h.unit(node, appUnit());
    expect(after.state).toBe('active');
    expect(after.mainPid).toBeDefined();
    expect(after.mainPid).not.toBe(before.mainPid);
    expect(after.lastStart!).toBeGreaterThan(before.lastStart!);
    expect(await answers(h)).toBe(true);
    expect((await environOf(h, after.mainPid!)).includes(`DB_PASSWORD=${password}`)).toBe(true);
    expect(appliedRecord(h)).toContain(`\nbundle ${r.delivered.hash}\n`);
    expect(appliedRecord(h)).toMatch(/^changed \/etc\/appliance-fabric\/database-client\.env$/m);
    expect(appliedRecord(h)).toMatch(/^reloaded application$/m);
    // The balancers still send node3 requests.
    expect(f.requests).toBeGreaterThan(0);
  }, 120_000);

  it('a client env the application cannot start with is put back: exit 1, the previous env installed, the application answering again', async () => {
    const h = fabric.harness();
    const good = rotated(randomBytes(12).toString('hex'));
    // A Python the service cannot start: the demo application is /usr/bin/python3, which reads PYTHONHOME from its environment.
    const bad = assembleBundle(node, good.files.map((f) => (f.path === DATABASE_CLIENT_ENV ? { ...f, content: `${f.content}PYTHONHOME=/nonexistent\n` } : f)));
    const before = { env: h.readNodeFile(node, DATABASE_CLIENT_ENV), record: appliedRecord(h), unit: await h.unit(node, appUnit()), events: (await h.events(node)).length };
    const { result: r, figures: f } = await underStream(h, `client env the application cannot start with, on ${node}: restored`, () => h.applyBundle(node, bad), { maxMs: 150_000, afterMs: 1500 });
    figures.push(f);
    applies.push(`bad client env, ${node}: exit ${r.code} in ${(r.ms / 1000).toFixed(2)} s`);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(http ? /does not answer .* with HTTP 2xx within 30 s of its restart/ : /did not keep running after its restart \(main pid \S+ after the restart, \S+ 3 s later\)/);
    expect(r.stderr).toMatch(/applying bundle [0-9a-f]{64} failed at application; restoring the previous files/);
    expect(r.stderr).toMatch(/runs its previous configuration again/);
    // It did start with the bad env, and its Python exited with an error: the service was down in between, for real.
    const exits = (await h.events(node, before.events)).filter((e) => e.unit === appUnit() && e.kind === 'exit');
    expect(exits.filter((e) => /^code [1-9]/.test(e.detail ?? '')).length).toBeGreaterThan(0);
    expect(h.readNodeFile(node, DATABASE_CLIENT_ENV)).toBe(before.env);
    expect(appliedRecord(h)).toBe(before.record);
    const after = await h.unit(node, appUnit());
    expect(after.state).toBe('active');
    expect(after.mainPid).not.toBe(before.unit.mainPid);
    expect(await answers(h)).toBe(true);
    expect((await environOf(h, after.mainPid!)).some((v) => v.startsWith('PYTHONHOME='))).toBe(false);
  }, 180_000);
});

import { nowMs, pollUntil, run } from '../harness/exec';
import { NAMESPACE_DEVICE_NETWORK, NAMESPACE_MONITORING_VIP } from '../harness/render';
import { runningFabric } from './fabric-fixture';

// Tier 3: the monitoring pair's own VIP and the device network's VIP on the
// load-balancer pair, running in network namespaces (node4 and node5 are the
// monitoring pair; every node has eth3 on a second bridge).
describe('a running fabric with a monitoring pair and a device network', () => {
  const fabric = runningFabric({ monitoringPair: true, deviceNetwork: true });
  const deviceVip = NAMESPACE_DEVICE_NETWORK.vip;
  const monitoringPort = () => fabric.rendered().model.monitoring.service.port;
  const monitoringUnit = () => `${fabric.rendered().model.monitoring.service.name}.service`;
  /** One ping from the client's device-network interface; bounded by -W. */
  const pingDeviceVip = () => run('ip', ['netns', 'exec', fabric.harness().clientNs, 'ping', '-c', '1', '-W', '1', '-I', 'eth3', deviceVip], { timeoutMs: 5000 }).status === 0;

  it('holds the device VIP together with the fabric VIP, and the monitoring VIP on one monitoring node', () => {
    const h = fabric.harness();
    const model = fabric.rendered().model;
    const fabricHolders = h.vipHolders();
    expect(fabricHolders).toHaveLength(1);
    expect(h.vipHolders(deviceVip)).toEqual(fabricHolders);
    const monitoringHolders = h.vipHolders(NAMESPACE_MONITORING_VIP);
    expect(monitoringHolders).toHaveLength(1);
    expect(model.monitoring.members).toContain(monitoringHolders[0]);
    // The monitoring nodes are not application servers and take no part in the balancer pair.
    expect(model.applicationServers.members).not.toContain(monitoringHolders[0]);
    expect(h.balancers.map((n) => n.name)).toEqual(model.loadBalancer.members);
  });

  it('answers monitoring clients on the monitoring VIP from its holder, and devices reach the device VIP on eth3', () => {
    const h = fabric.harness();
    const holder = h.vipHolders(NAMESPACE_MONITORING_VIP)[0];
    const r = h.curl(`http://${NAMESPACE_MONITORING_VIP}:${monitoringPort()}/`);
    expect(r).toEqual(expect.objectContaining({ ok: true, body: holder }));
    expect(pingDeviceVip()).toBe(true);
  });

  it('passes device connections on the device VIP through to every application server', () => {
    const h = fabric.harness();
    const model = fabric.rendered().model;
    expect(model.deviceNetwork?.tcpPorts).toEqual([model.applicationServers.service.port]);
    const spread: Record<string, number> = {};
    // Bounded: 9 requests, 3 s each at most. Least connections with every server idle goes round robin.
    for (let i = 0; i < 9; i++) {
      const r = h.curl(`http://${deviceVip}:${model.applicationServers.service.port}/`);
      expect(r.ok).toBe(true);
      spread[r.body] = (spread[r.body] ?? 0) + 1;
    }
    expect(spread).toEqual({ node1: 3, node2: 3, node3: 3 });
  });

  it('moves the monitoring VIP to the other monitoring node when the service hangs on its holder, and the watchdog brings the service back', async () => {
    const h = fabric.harness();
    const from = h.vipHolders(NAMESPACE_MONITORING_VIP)[0];
    const to = fabric.rendered().model.monitoring.members.find((m) => m !== from)!;
    const url = `http://${NAMESPACE_MONITORING_VIP}:${monitoringPort()}/`;
    const since = (await h.events(from)).length;
    const t0 = (await h.signal(from, { unit: monitoringUnit(), whom: 'main' }, 'SIGSTOP')).t;
    // Bounded: one request (1 s timeout) every 100 ms for at most 15 s.
    const answered = await pollUntil(() => {
      const r = h.curl(url, ['--max-time', '1']);
      return r.ok && r.body === to ? nowMs() : undefined;
    }, 15_000, 100);
    expect(answered).toBeDefined();
    const seconds = (answered! - t0) / 1000;
    console.log(`monitoring service hung on ${from}: the monitoring VIP answered from ${to} after ${seconds.toFixed(2)} s`);
    // chk_monitoring: 2 failed checks at 1 s with a 1 s timeout, then adverts; well under 5 s.
    expect(seconds).toBeLessThan(5);
    expect(h.vipHolders(NAMESPACE_MONITORING_VIP)).toEqual([to]);

    // The fabric watchdog restarts the hung service on the old holder; with nopreempt the VIP stays where it is.
    const restarted = await pollUntil(async () => ((await h.events(from, since)).some((e) => e.kind === 'start' && e.unit === monitoringUnit()) ? true : undefined), 20_000, 200);
    expect(restarted).toBe(true);
    const instance = fabric.rendered().model.monitoring.vrrp!.name;
    const backHome = await pollUntil(() => (h.vrrpState(from, instance)?.state === 'BACKUP' ? true : undefined), 15_000, 200);
    expect(backHome).toBe(true);
    expect(h.vipHolders(NAMESPACE_MONITORING_VIP)).toEqual([to]);
  }, 60_000);

  it('moves the device VIP with the fabric VIP when the holder loses its management link (one sync group)', async () => {
    const h = fabric.harness();
    const { model, nodes: input } = fabric.rendered();
    const synced = [model.loadBalancer.vrrp.name, model.deviceNetwork!.vrrp!.name];
    const from = h.node(h.vipHolders()[0]);
    const to = h.balancers.find((n) => n !== from)!;
    const t0 = nowMs();
    h.linkDown(from);
    try {
      // Bounded: a check every 100 ms for at most 10 s.
      const moved = await pollUntil(() => (h.vipHolders().join() === to.name && h.vipHolders(deviceVip).join() === to.name ? nowMs() : undefined), 10_000, 100);
      expect({ fabric: h.vipHolders(), device: h.vipHolders(deviceVip) }).toEqual({ fabric: [to.name], device: [to.name] });
      console.log(`management link of ${from.name} down: fabric and device VIPs on ${to.name} after ${((moved! - t0) / 1000).toFixed(2)} s`);
      expect(pingDeviceVip()).toBe(true);
      const r = h.curl(`http://${deviceVip}:${fabric.rendered().model.applicationServers.service.port}/`);
      expect(r.ok).toBe(true);
    } finally {
      h.linkUp(from, input.find((n) => n.name === from.name));
    }
    // Back up, the old holder stands by for both VIPs (nopreempt) once its checks have risen.
    const settled = await pollUntil(
      () => (synced.every((i) => h.vrrpState(from, i)?.state === 'BACKUP') ? true : undefined),
      15_000,
      200,
    );
    expect({ settled, fabric: h.vipHolders(), device: h.vipHolders(deviceVip) }).toEqual({ settled: true, fabric: [to.name], device: [to.name] });
  }, 60_000);
});

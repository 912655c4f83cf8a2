import * as scenarios from '../scenarios/fabric-scenarios';
import { ScenarioResult } from '../scenarios/fabric-under-test';
import { NamespaceFabric } from '../harness/namespace-fabric';
import { logNotes, runningFabric } from './fabric-fixture';

/**
 * Tier 3: the scenarios the VM tier runs (e2e/run-e2e.ts), from the same
 * definitions (test/scenarios/fabric-scenarios.ts), on the rendered daemons
 * in network namespaces. Each scenario judges itself; here its problems
 * must be none, and the figures must meet what namespaces (no emulated CPU)
 * can be held to. The fabric has the device network, so that the device
 * VIP is timed along with the fabric VIP's power-off, as on kvm-fabric-full.
 */
describe('a running fabric: the scenarios shared with the VM tier', () => {
  const running = runningFabric({ deviceNetwork: true });
  const fabric = () => new NamespaceFabric(running.harness(), running.rendered().model);
  /** Prints the result as the VM tier records it, and gives its problems for the expectation. */
  const problemsOf = (r: ScenarioResult): readonly string[] => {
    console.log(`${r.id} (${r.title})${r.seconds !== undefined ? ` ${r.seconds.toFixed(2)} s` : ''}: ${r.detail}`);
    return r.problems;
  };

  it('balances over every application server', async () => {
    logNotes(running.harness());
    expect(problemsOf(await scenarios.balancing(fabric()))).toEqual([]);
  }, 120_000);

  it('drops what the client may not reach on every node', async () => {
    expect(problemsOf(await scenarios.firewall(fabric()))).toEqual([]);
  }, 60_000);

  it('restarts a killed application service (its unit\'s Restart=) within 5 s', async () => {
    const r = await scenarios.applicationKilled(fabric());
    expect(problemsOf(r)).toEqual([]);
    expect(r.seconds).toBeLessThan(5);
  }, 90_000);

  it('restarts a hung application service (the fabric watchdog) within 15 s', async () => {
    const r = await scenarios.applicationHung(fabric());
    expect(problemsOf(r)).toEqual([]);
    expect(r.seconds).toBeLessThan(15);
  }, 240_000);

  it('keeps the VIP where it is when its holder stalls for 0.3 s, and fails no sample', async () => {
    expect(problemsOf(await scenarios.holderPause(fabric(), 300))).toEqual([]);
  }, 180_000);

  it('holds every VIP on exactly one node', async () => {
    expect(problemsOf(await scenarios.oneHolderPerVip(fabric()))).toEqual([]);
  }, 60_000);

  it('answers through the standby when the VIP holder loses power, 3 times, the old holder back as standby in between; the device VIP moves with it', async () => {
    const f = fabric();
    const [powerOff, device] = await scenarios.vipHolderPowerOff(f, { runs: 3, goalMedianS: 1.5, timeDeviceVip: true });
    expect(problemsOf(powerOff)).toEqual([]);
    expect(device?.id).toBe('device-vip-poweroff');
    expect(problemsOf(device)).toEqual([]);
    // Not emulated CPU: each run is served again within the issue-11 goal.
    expect(powerOff.measured?.max_s).toBeLessThan(1.5);
    // The last holder powered off comes back as the standby, and every VIP has one holder again.
    const last = (powerOff.measured?.runs as scenarios.VipPowerOffRun[]).slice(-1)[0].holder;
    await scenarios.returnAsStandby(f, last, f.model.loadBalancer.vrrp);
    expect(problemsOf(await scenarios.oneHolderPerVip(f))).toEqual([]);
  }, 600_000);
});

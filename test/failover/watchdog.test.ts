import { balancerFailsRepeatedly, serviceRecovery } from '../harness/scenarios';
import { runningFabric } from './fabric-fixture';

// Tier 3: process-level self-healing. systemd's Restart= (emulated by the
// harness from the rendered drop-ins) brings back what exits; the fabric
// watchdog brings back what hangs, and takes a node whose HAProxy keeps
// failing out of the VIP election.
describe('a running fabric: the watchdog', () => {
  const fabric = runningFabric();
  const unit = () => `${fabric.rendered().model.applicationServers.service.name}.service`;

  it('brings a crashed application service (SIGKILL) back within 5 s', async () => {
    const r = await serviceRecovery(fabric.harness(), 'node3', 'crash', undefined, unit());
    console.log(`crash: back after ${r.backMs.toFixed(0)} ms, restarted by ${r.restartedBy}`);
    expect(r.backMs).toBeLessThan(5000);
    expect(r.restartedBy).toBe('Restart=');
  }, 60_000);

  it('brings a hung application service (SIGSTOP) back within 15 s', async () => {
    const r = await serviceRecovery(fabric.harness(), 'node3', 'hang', undefined, unit());
    console.log(`hang: back after ${r.backMs.toFixed(0)} ms, watchdog acted after ${r.actionMs.toFixed(0)} ms, restarted by ${r.restartedBy}`);
    expect(r.backMs).toBeLessThan(15_000);
    // Only the watchdog can notice a hang: the process never exits by itself.
    expect(r.restartedBy).toBe('systemctl restart');
  }, 60_000);

  it('moves the VIP off a node whose HAProxy hangs within seconds, and keeps the node out once the watchdog gave up restarting it', async () => {
    const h = fabric.harness();
    const r = await balancerFailsRepeatedly(h);
    console.log(`HAProxy hanging on ${r.from}: ${r.restarts} restarts, VIP on ${r.to} after ${r.vipMovedMs.toFixed(0)} ms, clients back after ${r.clientBackMs.toFixed(0)} ms, ${JSON.stringify(r.eligibility)}`);
    const model = fabric.rendered().model;
    // keepalived's own HAProxy health check (fall 2 at 1 s) moves the VIP; the watchdog need not act first.
    expect(r.vipMovedMs).toBeLessThan(5_000);
    expect(r.restarts).toBeGreaterThanOrEqual(model.watchdog.restartsBeforeFailover);
    expect(Object.values(r.eligibility)).toContain('1');
    expect(r.holdersAfter).toEqual([r.to]);
    expect(r.clientBackMs).toBeLessThan(60_000);
  }, 150_000);
});

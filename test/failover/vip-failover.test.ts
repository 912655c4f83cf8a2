import { median } from '../harness/exec';
import { FailoverRun, haproxyCrash, holderPause, vipFailover, VipFault } from '../harness/scenarios';
import { logNotes, runningFabric } from './fabric-fixture';

// Tier 3: the VIP holder fails; the standby must take the VIP over and the
// client must get answers again, with the shipped advert interval (0.2 s).
describe('a running fabric: VIP failover', () => {
  const fabric = runningFabric();
  const RUNS = 5;

  const runs = async (fault: VipFault, count = RUNS): Promise<FailoverRun[]> => {
    const h = fabric.harness();
    const out: FailoverRun[] = [];
    for (let i = 0; i < count; i++) out.push(await vipFailover(h, fault, fabric.rendered().nodes));
    console.log(
      `${fault}: client back after ${out.map((r) => r.clientMs.toFixed(0)).join(', ')} ms (median ${median(out.map((r) => r.clientMs)).toFixed(0)}); ` +
        `takeover ${out.map((r) => r.takeoverMs.toFixed(0)).join(', ')} ms; outage ${out.map((r) => r.outageMs.toFixed(0)).join(', ')} ms; ` +
        `both holding ${out.map((r) => r.twoHoldersMs.toFixed(0)).join(', ')} ms`,
    );
    return out;
  };

  const expectHealthy = (out: FailoverRun[]) => {
    for (const r of out) {
      expect(r.to).not.toBe(r.from);
      // The old holder came back (link up, or keepalived respawned its VRRP child) and did not take the VIP back (nopreempt).
      expect(r.holdersAfterReturn).toEqual([r.to]);
      // Two holders at once is a failure, not a figure (issue 11).
      expect(r.sawTwoHolders).toBe(false);
      // Moved once: to the standby, and not back when the old holder returned.
      expect(r.vipMoves).toBe(1);
    }
    // Issue 11's goal (median 1.0 s) is the bench's to measure over 10 runs; this bound only catches a regression.
    expect(median(out.map((r) => r.clientMs))).toBeLessThan(1500);
  };

  it('moves the VIP when the holder\'s keepalived VRRP process crashes (SIGKILL), 5 times', async () => {
    logNotes(fabric.harness());
    const out = await runs('vrrp-crash');
    expectHealthy(out);
  }, 180_000);

  it('moves the VIP when the holder\'s eth0 goes down, 5 times', async () => {
    const out = await runs('link-down');
    expectHealthy(out);
  }, 180_000);

  it('moves the VIP when the holder\'s keepalived main process is killed, and the restarted keepalived stands by', async () => {
    // The unit's processes are stopped with it (the VRRP child resigns), ExecStopPost removes any stale VIP, Restart= brings keepalived back.
    const out = await runs('keepalived-kill', 3);
    expectHealthy(out);
  }, 120_000);

  it('keeps the VIP where it is when its holder stalls for 0.3 s (keepalived and HAProxy stopped, as a hypervisor pause does), 3 times', async () => {
    const h = fabric.harness();
    for (let i = 0; i < 3; i++) {
      const r = await holderPause(h, 300, console.log);
      expect(r.vipMoved).toBe(false);
      expect(r.vipMoves).toBe(0);
      expect(r.twoHoldersMs).toBe(0);
      // A stall delays answers by its length but fails none: every sampler on every frontend, new and kept-alive connections.
      expect(r.disruption.map((d) => d.sampler).sort()).toEqual(['gui/new', 'gui/reused', 'nbi-8443/new', 'nbi-8443/reused']);
      expect(r.disruption.filter((d) => d.failed > 0)).toEqual([]);
    }
  }, 90_000);

  it('answers clients again when HAProxy crashes on the VIP holder (SIGKILL of every HAProxy process), twice', async () => {
    // In namespaces keepalived's vrrp_track_process is a pgrep check (adapt.ts); the VM tier has the real tracker.
    const h = fabric.harness();
    for (let i = 0; i < 2; i++) {
      const r = await haproxyCrash(h, console.log);
      expect(r.clientBackMs).toBeLessThan(5000);
      expect(r.twoHoldersMs).toBe(0);
    }
  }, 90_000);
});

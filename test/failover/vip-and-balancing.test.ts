import { checkBalancing } from '../harness/scenarios';
import { runningFabric } from './fabric-fixture';

// Tier 3 (DESIGN.md): the rendered keepalived, HAProxy, demo app and watchdog running in network namespaces.
describe('a running fabric: the VIP and the balancing behind it', () => {
  const fabric = runningFabric();

  it('holds the VIP on exactly one node of the load-balancer pair, the other one standing by', () => {
    const h = fabric.harness();
    const pair = fabric.rendered().model.loadBalancer.members;
    const holders = h.vipHolders();
    // Both start as BACKUP with nopreempt: whichever times out first becomes MASTER (usually the first node).
    expect(holders).toHaveLength(1);
    expect(pair).toContain(holders[0]);
    expect(h.vrrpState(holders[0])?.state).toBe('MASTER');
    expect(h.vrrpState(pair.find((n) => n !== holders[0])!)?.state).toBe('BACKUP');
  });

  it('answers through https://VIP/ from every application server, spread without a cookie and sticky with it', async () => {
    const h = fabric.harness();
    const r = await checkBalancing(h, 12);
    expect(r.failed).toBe(0);
    expect(Object.keys(r.spread).sort()).toEqual(['node1', 'node2', 'node3']);
    // Round robin over three servers: 12 new connections give each 4.
    for (const count of Object.values(r.spread)) expect(count).toBe(4);
    expect(r.stickyNodes).toHaveLength(1);
  }, 60_000);

  it('terminates TLS with the certificate it was given and keeps the stats page behind a password', () => {
    const h = fabric.harness();
    const tls = h.curl(`https://${h.vip}/`, ['-v']);
    expect(tls.ok).toBe(true);
    expect(tls.stderr).toMatch(/subject: CN=fabric\.test/);
    const lb = fabric.rendered().model.loadBalancer;
    const stats = h.curl(`http://198.51.100.11:${lb.statsPort}/stats`, ['-o', '/dev/null', '-w', '%{http_code}']);
    expect(stats.body).toBe('401');
  });
});

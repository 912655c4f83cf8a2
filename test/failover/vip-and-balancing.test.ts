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
    const code = (path: string, withPassword: boolean) =>
      // The password goes to curl on stdin (-K -), never on a command line.
      h.curl(`http://198.51.100.11:${lb.statsPort}${path}`, ['-o', '/dev/null', '-w', '%{http_code}', ...(withPassword ? ['-K', '-'] : [])], withPassword ? `user = "stats:${fabric.rendered().secrets.statsPassword}"\n` : undefined).body;
    expect(code('/stats', false)).toBe('401');
    expect(code('/metrics', false)).toBe('401');
    expect(code('/metrics', true)).toBe('200');
    expect(code('/stats', true)).toBe('200');
    // TLS 1.2 with a CBC suite is refused; TLS 1.2 with an AEAD suite and TLS 1.3 are served, with HSTS.
    expect(h.curl(`https://${h.vip}/`, ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-SHA']).ok).toBe(false);
    expect(h.curl(`https://${h.vip}/`, ['--tlsv1.2', '--tls-max', '1.2', '--ciphers', 'ECDHE-ECDSA-AES128-GCM-SHA256']).ok).toBe(true);
    expect(h.curl(`https://${h.vip}/`, ['-D', '-', '-o', '/dev/null']).body).toMatch(/^strict-transport-security: max-age=31536000\r?$/im);
  });
});

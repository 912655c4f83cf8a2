import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { FIREWALL_CONFIG, FIREWALL_TABLE } from '../../cloud-init/firewall';
import { CASSANDRA_STORAGE_PORT } from '../../cloud-init/cassandra';
import { CLIENT_ADDRESS, FabricHarness, HarnessNode } from '../harness/fabric-harness';
import { run, sleep } from '../harness/exec';
import { logNotes, runningFabric } from './fabric-fixture';

/**
 * Tier 3 (DESIGN.md): every node's rendered nftables ruleset, loaded in its
 * own namespace, against a host on the segment that is no member of the
 * fabric. The client namespace plays that host: the fabric is rendered with
 * operator networks that do not contain it and no extra database clients.
 */
const FORGER = path.join(__dirname, '..', 'harness', 'forge-vrrp-advert.py');
/** An operator network that is not the client's. */
const ADMIN_CIDR = '198.51.100.250/32';

type Reach = 'connected' | 'refused' | 'no answer';

/** A TCP connect from network namespace `ns`, bounded to 1.5 s: a dropped SYN gets no answer, a closed port a refusal. */
function tcpConnect(ns: string, host: string, port: number): Reach {
  const r = run('ip', ['netns', 'exec', ns, 'timeout', '1.5', 'bash', '-c', `exec 3<> /dev/tcp/${host}/${port}`], { timeoutMs: 5000 });
  return r.status === 0 ? 'connected' : r.status === 124 ? 'no answer' : 'refused';
}

/** What keepalived's notify hook recorded last on each balancer (it writes only on a transition). */
function vrrpRecords(h: FabricHarness): string {
  return h.balancers.map((n) => `${n.name}: ${JSON.stringify(h.vrrpState(n))}`).join('; ');
}

describe('the host firewall against a host on the segment that is not a member', () => {
  const fabric = runningFabric({ database: true, cassandra: true, firewall: { adminCidrs: [ADMIN_CIDR] } });

  it('is loaded on every node before its services, with input dropped by default', async () => {
    const h = fabric.harness();
    logNotes(h);
    for (const node of fabric.rendered().model.nodes) {
      const r = await h.exec(node.name, ['nft', 'list', 'table', ...FIREWALL_TABLE.split(' ')]);
      expect({ node: node.name, code: r.code }).toEqual({ node: node.name, code: 0 });
      expect(r.stdout).toMatch(/type filter hook input priority filter; policy drop;/);
    }
  });

  it('lets the client reach the GUI on the VIP, and nothing that only members or operators may reach', async () => {
    const h = fabric.harness();
    const model = fabric.rendered().model;
    const db = model.database!;
    const [dbNode, dbPeer] = db.members.map((n) => h.node(n));
    // A member that is no database node: an application server.
    const appServer = h.node(model.applicationServers.members.find((n) => !db.members.includes(n))!);

    expect(h.curl(`https://${h.vip}/`, ['-o', '/dev/null', '-w', '%{http_code}']).body).toBe('200');

    // MariaDB: the application servers and the peer get in, the client gets no answer at all.
    expect(tcpConnect(appServer.netns, dbNode.address, db.port)).toBe('connected');
    expect(tcpConnect(dbPeer.netns, dbNode.address, db.port)).toBe('connected');
    expect(tcpConnect(h.clientNs, dbNode.address, db.port)).toBe('no answer');
    expect(tcpConnect(h.clientNs, db.vrrp.vip, db.port)).toBe('no answer');

    // HAProxy's stats and metrics, and SSH: operator networks only (the client is in none).
    const balancer = h.balancers[0];
    expect(tcpConnect(h.clientNs, balancer.address, model.loadBalancer.statsPort)).toBe('no answer');
    expect(tcpConnect(h.clientNs, balancer.address, 22)).toBe('no answer');
    // The application service: the balancers only.
    expect(tcpConnect(h.clientNs, appServer.address, model.applicationServers.service.port)).toBe('no answer');
    expect(tcpConnect(balancer.netns, appServer.address, model.applicationServers.service.port)).toBe('connected');

    // Cassandra's internode port, with a listener standing in for Cassandra (not installed here).
    const member = h.node(model.cassandra!.members[0]);
    const otherMember = h.node(model.cassandra!.members[1]);
    // In the member's network namespace, bounded by timeout(1) and killed by its pid when done.
    const listener = spawn('ip', ['netns', 'exec', member.netns, 'timeout', '15', 'python3', '-c', listenerProgram(member.address, CASSANDRA_STORAGE_PORT)], { stdio: 'ignore' });
    try {
      let up: Reach = 'refused';
      for (let i = 0; i < 40 && up !== 'connected'; i++) {
        up = tcpConnect(otherMember.netns, member.address, CASSANDRA_STORAGE_PORT);
        if (up !== 'connected') await sleep(100);
      }
      expect(up).toBe('connected');
      expect(tcpConnect(h.clientNs, member.address, CASSANDRA_STORAGE_PORT)).toBe('no answer');
    } finally {
      listener.kill('SIGTERM');
    }
  }, 60_000);

  it('keeps the VIP where it is under forged VRRP adverts at priority 255, from the client or claiming the peer; without the firewall the latter take it', async () => {
    const h = fabric.harness();
    const vrrp = fabric.rendered().model.loadBalancer.vrrp;
    const [holderName] = h.vipHolders();
    expect(holderName).toBeDefined();
    const holder = h.node(holderName);
    const peer = h.balancers.find((n) => n.name !== holderName)!;
    const forge = (claim: string) => {
      const r = run('ip', [
        'netns', 'exec', h.clientNs, 'python3', FORGER, '--from-address', CLIENT_ADDRESS, '--source', claim, '--destination', holder.address,
        '--vrid', String(vrrp.virtualRouterId), '--priority', '255', '--interval-cs', String(Math.round(vrrp.advertIntervalSeconds * 100)), '--vip', vrrp.vip,
        '--count', '30', '--interval', '0.05',
      ], { timeoutMs: 15_000 });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    };
    const holdsThroughout = async (claim: string) => {
      const before = vrrpRecords(h);
      forge(claim);
      // A master that saw a higher priority would have gone BACKUP by now; the standby needs its master-down interval.
      await sleep(1500);
      return { claim, holders: h.vipHolders(), records: vrrpRecords(h) === before ? 'unchanged' : `${before} -> ${vrrpRecords(h)}` };
    };

    // From the client's own address (keepalived in unicast mode also ignores a source that is no peer).
    expect(await holdsThroughout(CLIENT_ADDRESS)).toEqual({ claim: CLIENT_ADDRESS, holders: [holderName], records: 'unchanged' });
    // Claiming the peer's address, from the client's MAC: only the ruleset's MAC pin stops these.
    expect(await holdsThroughout(peer.address)).toEqual({ claim: peer.address, holders: [holderName], records: 'unchanged' });

    // The control: the same adverts with the holder's table removed do take the VIP off it.
    await removeFirewall(h, holder);
    try {
      const before = vrrpRecords(h);
      forge(peer.address);
      expect(h.vipHolders()).not.toContain(holderName);
      expect(vrrpRecords(h)).not.toBe(before);
    } finally {
      const r = await h.exec(holder, ['nft', '-f', FIREWALL_CONFIG]);
      expect(r.code).toBe(0);
    }
  }, 60_000);
});

async function removeFirewall(h: FabricHarness, node: HarnessNode): Promise<void> {
  const r = await h.exec(node, ['nft', 'delete', 'table', ...FIREWALL_TABLE.split(' ')]);
  expect(r.code).toBe(0);
}

/** A TCP server that accepts and closes connections for at most 15 s. */
function listenerProgram(address: string, port: number): string {
  return [
    'import socket, time',
    's = socket.socket()',
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    `s.bind(("${address}", ${port}))`,
    's.listen(16)',
    's.settimeout(1)',
    'end = time.time() + 15',
    'while time.time() < end:',
    '    try:',
    '        c, _ = s.accept()',
    '        c.close()',
    '    except socket.timeout:',
    '        pass',
  ].join('\n');
}

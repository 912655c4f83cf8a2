import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { evaluateCloudInitDisks } from '../../e2e/lib/plan-evaluation';
import { describeWithTerraform } from './terraform-tier';
import { synthExamples } from '../synth-helpers';

/**
 * The real terraform binary evaluates what the KVM plan hands libvirt: the
 * escaping of shell `${...}` and the splicing of secrets must survive it.
 */
describeWithTerraform('test/tools/plan-evaluation.test.ts', 'terraform evaluates the kvm-fabric cloud-init disks', () => {
  // In beforeAll, not the describe body: jest runs the body of a skipped describe too.
  let dir: string;
  let evaluation: ReturnType<typeof evaluateCloudInitDisks>;
  let statsPassword: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'afplan-'));
    const planFile = path.join(dir, 'cdk.tf.json');
    writeFileSync(planFile, synthExamples().get('kvm-fabric')!);
    evaluation = evaluateCloudInitDisks(planFile);
    statsPassword = Object.entries(evaluation.variables).find(([k]) => k.includes('haproxy_stats_password'))![1];
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives one seed per node', () => {
    expect(evaluation.seeds.map((s) => s.node)).toEqual(['node1', 'node2', 'node3']);
  });

  it('yields valid YAML with the literal shell ${...} restored', () => {
    for (const seed of evaluation.seeds) {
      const doc = parse(seed.userData);
      expect(doc.hostname).toBe(seed.node);
      const watchdog = doc.write_files.find((f: { path: string }) => f.path === '/usr/local/lib/appliance-fabric/fabric-watchdog').content as string;
      expect(watchdog).toContain('conf="${1:-/etc/appliance-fabric/watchdog.conf}"');
      expect(watchdog).not.toContain('$${');
      expect(parse(seed.networkConfig).version).toBe(2);
      expect(parse(seed.metaData)['instance-id']).toBe(`spacefab-${seed.node}`);
    }
  });

  it('splices the generated secrets in where the plan referenced them', () => {
    const node1 = parse(evaluation.seeds[0].userData);
    const haproxy = node1.write_files.find((f: { path: string }) => f.path === '/etc/haproxy/haproxy.cfg').content as string;
    expect(haproxy).toContain(`user stats insecure-password ${statsPassword}\n`);
    const pem = Buffer.from(node1.write_files.find((f: { path: string }) => f.path === '/etc/haproxy/certs/fabric.pem').content, 'base64').toString();
    expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----/);
    expect(evaluation.seeds[0].userData).not.toMatch(/random_password|tls_private_key/);
  });

  it("gives both database members the database CA and a server certificate it signed, for each member's address and the database VIP, and its key", () => {
    const dir2 = mkdtempSync(path.join(tmpdir(), 'afplan-db-'));
    try {
      const fileOf = (node: string, file: string) => {
        const doc = parse(evaluation.seeds.find((s) => s.node === node)!.userData);
        return Buffer.from(doc.write_files.find((f: { path: string }) => f.path === file).content, 'base64').toString();
      };
      for (const node of ['node1', 'node2']) {
        writeFileSync(path.join(dir2, 'ca.pem'), fileOf(node, '/etc/appliance-fabric/database-ca.pem'));
        writeFileSync(path.join(dir2, 'server.pem'), fileOf(node, '/etc/appliance-fabric/database-server.pem'));
        expect(fileOf(node, '/etc/appliance-fabric/database-server.key')).toMatch(/^-----BEGIN (EC )?PRIVATE KEY-----/);
        for (const address of ['198.51.100.11', '198.51.100.12', '198.51.100.20']) {
          const r = spawnSync('openssl', ['verify', '-CAfile', path.join(dir2, 'ca.pem'), '-verify_ip', address, path.join(dir2, 'server.pem')], { encoding: 'utf8' });
          expect({ node, address, out: r.stdout.trim(), status: r.status }).toEqual({ node, address, out: `${path.join(dir2, 'server.pem')}: OK`, status: 0 });
        }
        // Not for the balancers' VIP: the certificate names the database only.
        expect(spawnSync('openssl', ['verify', '-CAfile', path.join(dir2, 'ca.pem'), '-verify_ip', '198.51.100.10', path.join(dir2, 'server.pem')]).status).not.toBe(0);
      }
      // The third node is an application server: the CA only.
      expect(fileOf('node3', '/etc/appliance-fabric/database-ca.pem')).toBe(fileOf('node1', '/etc/appliance-fabric/database-ca.pem'));
    } finally {
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});

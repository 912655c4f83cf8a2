import { copyFileSync, mkdtempSync, appendFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { ADMIN_USER, renderNodeCloudInit } from '../../cloud-init/cloud-config';
import { FIREWALL_CONFIG } from '../../cloud-init/firewall';
import { HAPROXY_CONFIG } from '../../cloud-init/haproxy';
import { RenderedFile } from '../../cloud-init/rendered-file';
import { SSHD_DROP_IN } from '../../cloud-init/ssh';
import { buildFabricModel } from '../../model/build-model';
import { FabricValidationError } from '../../model/errors';
import { corruptions, PLATFORMS, validFabricSpec } from '../arbitraries';
import { databaseTlsSecrets } from '../harness/render';
import { rawUserDataByNode, synthExamples, unescapeTerraform } from '../synth-helpers';
import { describeComplaints, NodeUnderTest, sshdCheck, sshdListensWithoutItsAddress, ToolBench } from './real-tools';

/**
 * Tier 2: the real tools accept what we render, for every node of every
 * example stack (taken from the synthesized plan) and for 200 random valid
 * fabrics.
 */
const RANDOM_FABRICS = 200;
let bench: ToolBench;
let certBase64: string;
/** A real database CA and server certificate (the tools read them as PEM). */
let databaseTls: ReturnType<typeof databaseTlsSecrets>;
/** A real ECDSA P-256 host key pair in the forms Terraform's tls_private_key gives (SEC1 PEM, OpenSSH public key). */
const hostKey = (() => {
  const { privateKey, publicKey } = require('node:crypto').generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
  const sshString = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  const blob = Buffer.concat([sshString(Buffer.from('ecdsa-sha2-nistp256')), sshString(Buffer.from('nistp256')), sshString(point)]);
  return { privateKeyPem: privateKey.export({ format: 'pem', type: 'sec1' }) as string, publicKeyOpenssh: `ecdsa-sha2-nistp256 ${blob.toString('base64')}` };
})();

beforeAll(() => {
  bench = new ToolBench();
  certBase64 = Buffer.from(require('node:fs').readFileSync(`${bench.dir}/fabric.pem`, 'utf8')).toString('base64');
  databaseTls = databaseTlsSecrets(['198.51.100.20']);
});
afterAll(() => bench?.dispose());

/** Stands in for Terraform: fills the secret references of a plan's (escaped) user-data with test values, then unescapes. */
function evaluateSecrets(userData: string): string {
  const out = userData
    .replace(/\$\{random_password\.[A-Za-z0-9_]+\.result\}/g, 'ToolCheckOnlyPassword000')
    .replace(/\$\{base64encode\(join\("", \[tls_self_signed_cert\.[A-Za-z0-9_]+\.cert_pem, tls_private_key\.[A-Za-z0-9_]+\.private_key_pem\]\)\)\}/g, certBase64)
    // The database cluster's CA, server certificate and key.
    .replace(/\$\{base64encode\(tls_self_signed_cert\.[A-Za-z0-9_]+_database_ca_certificate_[A-F0-9]{8}\.cert_pem\)\}/g, () => databaseTls.databaseCaCertificatePemBase64)
    .replace(/\$\{base64encode\(tls_locally_signed_cert\.[A-Za-z0-9_]+_database_server_certificate_[A-F0-9]{8}\.cert_pem\)\}/g, () => databaseTls.databaseServerCertificatePemBase64)
    .replace(/\$\{base64encode\(tls_private_key\.[A-Za-z0-9_]+_database_server_key_[A-F0-9]{8}\.private_key_pem\)\}/g, () => databaseTls.databaseServerKeyPemBase64)
    // Each node's SSH host key: jsonencode()d, so a JSON string (a valid YAML scalar).
    .replace(/\$\{jsonencode\(tls_private_key\.[A-Za-z0-9_]+\.private_key_pem\)\}/g, () => JSON.stringify(hostKey.privateKeyPem))
    .replace(/\$\{jsonencode\(trimspace\(tls_private_key\.[A-Za-z0-9_]+\.public_key_openssh\)\)\}/g, () => JSON.stringify(hostKey.publicKeyOpenssh));
  const leftover = /(?<!\$)\$\{[^}]*\}/.exec(out.replace(/\$\$\{/g, ''));
  if (leftover) throw new Error(`unexpected Terraform reference in user-data: ${leftover[0]}`);
  return unescapeTerraform(out);
}

/** The files exactly as a node's write_files would produce them. */
function filesOf(userData: string): RenderedFile[] {
  const doc = parse(userData) as { write_files: { path: string; content: string; permissions: string; encoding?: string }[] };
  return doc.write_files.map((f) => ({ path: f.path, content: f.content, permissions: f.permissions, base64: f.encoding === 'b64' }));
}

function exampleNodes(): NodeUnderTest[] {
  const nodes: NodeUnderTest[] = [];
  for (const [stack, text] of synthExamples()) {
    for (const [node, raw] of rawUserDataByNode(JSON.parse(text))) {
      const userData = evaluateSecrets(raw);
      nodes.push({ label: `${stack}/${node}`, userData, files: filesOf(userData) });
    }
  }
  return nodes;
}

function randomNodes(): NodeUnderTest[] {
  const specs = fc.sample(fc.tuple(validFabricSpec, fc.constantFrom(...PLATFORMS)), { numRuns: RANDOM_FABRICS, seed: 20261124 });
  return specs.flatMap(([spec, platform], i) => {
    const model = buildFabricModel(spec, platform, `random/${i}/Fabric`);
    return model.nodes.map((node) => {
      const ci = renderNodeCloudInit(model, node, {
        statsPassword: 'ToolCheckOnlyPassword000',
        tlsBundlePemBase64: certBase64,
        databaseReplicationPassword: 'ToolCheckOnlyReplication0',
        databaseApplicationPassword: 'ToolCheckOnlyApplication0',
        databaseReplicationPasswordPrevious: 'ToolCheckOnlyReplicationPrevious0',
        databaseReplicationPasswordNext: 'ToolCheckOnlyReplicationNext0',
        databaseApplicationPasswordPrevious: 'ToolCheckOnlyApplicationPrevious0',
        databaseApplicationPasswordNext: 'ToolCheckOnlyApplicationNext0',
        cassandraAdminPassword: 'ToolCheckOnlyCassandra0',
        ...databaseTls,
      });
      return { label: `random#${i}(${spec.name})/${node.name}`, userData: ci.userData, files: ci.files };
    });
  });
}

describe('tier 2: the real tools accept every example stack node', () => {
  let nodes: NodeUnderTest[];
  beforeAll(() => {
    nodes = exampleNodes();
  });

  it('has nodes to check', () => expect(nodes.length).toBeGreaterThanOrEqual(3));
  it('cloud-init schema -c', () => expect(describeComplaints(bench.cloudInitSchemaCli(nodes))).toBe(''));
  it('keepalived -t', () => expect(describeComplaints(bench.keepalived(nodes))).toBe(''));
  it('haproxy -c', () => expect(describeComplaints(bench.haproxy(nodes))).toBe(''));
  it('nft -c, on a ruleset on every node', () => {
    expect(nodes.filter((n) => !n.files.some((f) => f.path === FIREWALL_CONFIG)).map((n) => n.label)).toEqual([]);
    expect(describeComplaints(bench.nftables(nodes))).toBe('');
  });
  it('mariadbd reads the database option file', () => {
    expect(nodes.filter((n) => n.files.some((f) => f.path.startsWith('/etc/mysql/'))).length).toBeGreaterThanOrEqual(2);
    expect(describeComplaints(bench.mariadb(nodes))).toBe('');
  });
  it('bash -n and shellcheck, py_compile', async () => expect(describeComplaints(await bench.scripts(nodes))).toBe(''));
  it('systemd-analyze verify', () => expect(describeComplaints(bench.systemdUnits(nodes))).toBe(''));
});

/** Scripts shipped to nodes as real files (the bundle agent); also checked inside every node's user-data above. */
const ASSET_DIR = path.resolve(__dirname, '../../cloud-init/assets');
/** Scripts Terraform runs on its own machine (fetch-verified-image). */
const LIBVIRT_ASSET_DIR = path.resolve(__dirname, '../../constructs/platforms/libvirt/assets');
/** The namespace harness's stand-ins for what a test node lacks (systemctl, logger). */
const HARNESS_STAND_IN_DIR = path.resolve(__dirname, '../harness/stand-ins');

describe('tier 2: the scripts shipped as files (cloud-init/assets/, constructs/platforms/libvirt/assets/)', () => {
  it('bash -n and shellcheck, each file at its own path', async () => expect(describeComplaints(await bench.assetScripts(ASSET_DIR))).toBe(''));
  it('bash -n and shellcheck of the scripts Terraform runs', async () => expect(describeComplaints(await bench.assetScripts(LIBVIRT_ASSET_DIR))).toBe(''));
  it("bash -n and shellcheck of the namespace harness's stand-ins", async () => expect(describeComplaints(await bench.assetScripts(HARNESS_STAND_IN_DIR))).toBe(''));
});

describe(`tier 2: the real tools accept ${RANDOM_FABRICS} random valid fabrics`, () => {
  let nodes: NodeUnderTest[];
  beforeAll(() => {
    nodes = randomNodes();
  });

  it('cloud-init schema (cloud-init\'s validator, one process)', () => expect(describeComplaints(bench.cloudInitSchema(nodes))).toBe(''));
  it('keepalived -t', () => expect(describeComplaints(bench.keepalived(nodes))).toBe(''), 120000);
  it('haproxy -c', () => expect(describeComplaints(bench.haproxy(nodes))).toBe(''), 120000);
  it('nft -c', () => expect(describeComplaints(bench.nftables(nodes))).toBe(''), 120000);
  it('mariadbd reads the database option file', () => expect(describeComplaints(bench.mariadb(nodes))).toBe(''), 120000);
  it('bash -n and shellcheck, py_compile', async () => expect(describeComplaints(await bench.scripts(nodes))).toBe(''), 120000);
  // Units differ between nodes of one fabric only in names and addresses: one node per distinct role set.
  it('systemd-analyze verify (one node per role set of each fabric)', () => {
    const seen = new Set<string>();
    const sample = nodes.filter((n) => {
      const key = `${n.label.split('/')[0]}|${n.files.map((f) => f.path).join(',')}`;
      return !seen.has(key) && seen.add(key) !== undefined;
    });
    expect(describeComplaints(bench.systemdUnits(sample))).toBe('');
  }, 300000);
});

describe("tier 2: sshd accepts the nodes' drop-in and applies it", () => {
  const dropIns = () => exampleNodes().map((n) => ({ label: n.label, file: n.files.find((f) => f.path === SSHD_DROP_IN) }));

  it('is on every node of every example stack, and sshd -t accepts it', () => {
    const all = dropIns();
    expect(all.filter((d) => !d.file).map((d) => d.label)).toEqual([]);
    // Each node's own: they differ in the ListenAddress (sshd -t parses it, and binds nothing).
    expect(all.map((d) => `${d.label}: ${sshdCheck(bench.dir, d.file!, ADMIN_USER).complaint ?? 'ok'}`)).toEqual(all.map((d) => `${d.label}: ok`));
  });

  it('listens on the management address only, and binds it before that address is up (the rendered sysctl), not without', () => {
    // A node that is no balancer: before sshd had a ListenAddress, only balancers set the sysctl.
    const node = exampleNodes().find((n) => !n.files.some((f) => f.path === HAPROXY_CONFIG))!;
    const dropIn = node.files.find((f) => f.path === SSHD_DROP_IN)!;
    const address = /^ListenAddress (\S+)$/m.exec(dropIn.content)![1];
    expect(sshdCheck(bench.dir, dropIn, ADMIN_USER).effective.get('listenaddress')).toBe(address);
    const booted = sshdListensWithoutItsAddress(bench.dir, dropIn, node.files.filter((f) => f.path.startsWith('/etc/sysctl.d/')));
    expect({ listening: booted.listening, log: booted.listening.length === 1 ? '' : booted.log }).toEqual({ listening: [address], log: '' });
    // The control: without the sysctl, sshd cannot bind an address the node does not hold, and exits.
    const bare = sshdListensWithoutItsAddress(bench.dir, dropIn, []);
    expect(bare.listening).toEqual([]);
    expect(bare.log).toMatch(/Cannot bind any address/);
  });

  it('lets only the admin in, with keys only, Ed25519/ECDSA/RSA-SHA2 of at least 3072 bits, and no forwarding', () => {
    const { effective } = sshdCheck(bench.dir, dropIns()[0].file!, ADMIN_USER);
    expect({
      allowusers: effective.get('allowusers'),
      permitrootlogin: effective.get('permitrootlogin'),
      passwordauthentication: effective.get('passwordauthentication'),
      kbdinteractiveauthentication: effective.get('kbdinteractiveauthentication'),
      authenticationmethods: effective.get('authenticationmethods'),
      requiredrsasize: effective.get('requiredrsasize'),
      allowtcpforwarding: effective.get('allowtcpforwarding'),
      allowagentforwarding: effective.get('allowagentforwarding'),
      x11forwarding: effective.get('x11forwarding'),
    }).toEqual({
      allowusers: ADMIN_USER,
      permitrootlogin: 'no',
      passwordauthentication: 'no',
      kbdinteractiveauthentication: 'no',
      authenticationmethods: 'publickey',
      requiredrsasize: '3072',
      allowtcpforwarding: 'no',
      allowagentforwarding: 'no',
      x11forwarding: 'no',
    });
    const algorithms = effective.get('pubkeyacceptedalgorithms')!.split(',');
    expect(algorithms).toEqual(expect.arrayContaining(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'rsa-sha2-512', 'rsa-sha2-256']));
    expect(algorithms.filter((a) => a === 'ssh-rsa' || a.startsWith('ssh-dss'))).toEqual([]);
  });
});

describe('tier 2: the tools do reject broken output (the checks can fail)', () => {
  it('flags an sshd drop-in with an unknown keyword', () => {
    const file = exampleNodes()[0].files.find((f) => f.path === SSHD_DROP_IN)!;
    expect(sshdCheck(bench.dir, { ...file, content: `${file.content}PermitEverything yes\n` }, ADMIN_USER).complaint).toMatch(/Bad configuration option: PermitEverything/);
  });
  it('flags a keepalived.conf with an unknown keyword', () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path === '/etc/keepalived/keepalived.conf' ? { ...f, content: f.content.replace('nopreempt', 'no_preempt_please') } : f));
    expect(bench.keepalived([{ ...node, files: broken }])).not.toEqual([]);
  });
  it('flags a ruleset that names a protocol by name, which a minimal image cannot resolve', () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path === FIREWALL_CONFIG ? { ...f, content: f.content.replace('ip protocol 112 drop', 'ip protocol vrrp drop') } : f));
    expect(broken.find((f) => f.path === FIREWALL_CONFIG)!.content).toContain('ip protocol vrrp drop');
    expect(describeComplaints(bench.nftables([{ ...node, files: broken }]))).toMatch(/Could not resolve protocol name/);
  });
  it('flags a ruleset that nft cannot load', () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path === FIREWALL_CONFIG ? { ...f, content: f.content.replace('tcp dport 22', 'tcp dport ssh-please') } : f));
    expect(broken.find((f) => f.path === FIREWALL_CONFIG)!.content).toContain('ssh-please');
    expect(describeComplaints(bench.nftables([{ ...node, files: broken }]))).toMatch(/nft -c/);
  });
  it('flags a haproxy.cfg with a bad directive', () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path === '/etc/haproxy/haproxy.cfg' ? { ...f, content: f.content.replace('balance roundrobin', 'balance sometimes') } : f));
    expect(bench.haproxy([{ ...node, files: broken }])).not.toEqual([]);
  });
  it('flags a unit with an unknown key', () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path.endsWith('fabric-app.service') ? { ...f, content: f.content.replace('Restart=always', 'Restart=always\nRestartHarder=yes') } : f));
    expect(bench.systemdUnits([{ ...node, files: broken }])).not.toEqual([]);
  });
  it('flags a MariaDB option file with an unknown option', () => {
    const node = exampleNodes().find((n) => n.files.some((f) => f.path.startsWith('/etc/mysql/')))!;
    const broken = node.files.map((f) => (f.path.startsWith('/etc/mysql/') ? { ...f, content: f.content.replace('gtid_strict_mode = ON', 'gtid_strictest_mode = ON') } : f));
    expect(bench.mariadb([{ ...node, files: broken }])).not.toEqual([]);
  });
  it('flags a shell script that shellcheck warns about', async () => {
    const [node] = exampleNodes();
    const broken = node.files.map((f) => (f.path.endsWith('/check-service') ? { ...f, content: `${f.content}\nfor f in $(ls /tmp); do echo $f; done\n` } : f));
    expect(broken.some((f) => f.content.includes('for f in $(ls'))).toBe(true);
    expect((await bench.scripts([{ ...node, files: broken }])).map((c) => c.tool)).toContain('shellcheck');
  });
  it('flags an asset script that shellcheck warns about', async () => {
    const copy = mkdtempSync(path.join(bench.dir, 'assets-'));
    copyFileSync(path.join(ASSET_DIR, 'fabric-apply-bundle'), path.join(copy, 'fabric-apply-bundle'));
    appendFileSync(path.join(copy, 'fabric-apply-bundle'), '\nfor f in $(ls /tmp); do echo $f; done\n');
    const complaints = await bench.assetScripts(copy);
    // Named by the file, so that the complaint says what to fix.
    expect(complaints.some((c) => c.tool === 'shellcheck' && c.label.endsWith('fabric-apply-bundle') && /SC2045|SC2086/.test(c.message))).toBe(true);
  });
  it('flags a cloud-config with a wrong type', () => {
    const [node] = exampleNodes();
    expect(bench.cloudInitSchema([{ ...node, userData: node.userData.replace('ssh_pwauth: false', 'ssh_pwauth: [1]') }])).not.toEqual([]);
  });
});

describe('tier 2: random invalid props fail at synth time', () => {
  it.each(corruptions)('%s gives a FabricValidationError', (_name, corrupt) => {
    fc.assert(
      fc.property(validFabricSpec, fc.constantFrom(...PLATFORMS), (spec, platform) => {
        let error: unknown;
        try {
          buildFabricModel(corrupt(spec), platform, 'random/Fabric');
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(FabricValidationError);
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

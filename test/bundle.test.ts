import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { APPLIED_BUNDLE_FILE, APPLY_BUNDLE_ASSET, APPLY_BUNDLE_CONF, APPLY_BUNDLE_SCRIPT, readyUrlsOf, renderApplyBundleConf } from '../cloud-init/apply-bundle-agent';
import { assetPath, readAsset } from '../cloud-init/assets';
import { BUNDLE_RELOADS, bundleDirectoryEntries, bundleReloadOf, nodeBundle, sha256Hex, splitNodeFiles } from '../cloud-init/bundle';
import { NodeCloudInit, renderNodeCloudInit } from '../cloud-init/cloud-config';
import { FIREWALL_CONFIG } from '../cloud-init/firewall';
import { HAPROXY_CONFIG, HAPROXY_SERVER_STATE_FILE, TLS_BUNDLE_PATH } from '../cloud-init/haproxy';
import { KEEPALIVED_CONFIG, KEEPALIVED_RELOAD_FILE, KEEPALIVED_RELOAD_TIME_FILE } from '../cloud-init/keepalived';
import { DATABASE_CA_FILE, DATABASE_CLIENT_ENV, DATABASE_ENV } from '../cloud-init/database';
import { CHECK_SERVICE_SCRIPT, PROBES_LIBRARY } from '../cloud-init/node-paths';
import { WATCHDOG_CONF } from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { FabricSpec } from '../model/fabric-spec';
import { TEST_PLATFORM, TEST_DATABASE_SECRETS, TEST_SECRETS, threeNodeSpec } from './fixtures';

const DB_SECRETS = TEST_DATABASE_SECRETS;

/** Every node's cloud-init, by name. */
function render(spec: FabricSpec, secrets = DB_SECRETS): Map<string, NodeCloudInit> {
  const model = buildFabricModel(spec, TEST_PLATFORM, 'stack/Fabric');
  return new Map(model.nodes.map((n) => [n.name, renderNodeCloudInit(model, n, secrets)]));
}

const withFourth = (spec: FabricSpec): FabricSpec => ({ ...spec, appliances: [...spec.appliances!, { name: 'node4', managementAddress: '198.51.100.14' }] });

describe('the configuration bundle: what a running node takes up again', () => {
  const before = render(threeNodeSpec());

  it('holds the daemons\' configurations, the agent\'s settings and the checks keepalived.conf names; units, the other scripts and the agent stay first-boot files', () => {
    const node1 = before.get('node1')!;
    expect(node1.bundle.files.map((f) => [f.path, f.reload])).toEqual([
      [APPLY_BUNDLE_CONF, 'none'],
      [WATCHDOG_CONF, 'fabric-watchdog'],
      [TLS_BUNDLE_PATH, 'haproxy'],
      [HAPROXY_CONFIG, 'haproxy'],
      [KEEPALIVED_CONFIG, 'keepalived'],
      [FIREWALL_CONFIG, 'nftables'],
      [CHECK_SERVICE_SCRIPT, 'none'],
      [PROBES_LIBRARY, 'none'],
    ]);
    const { firstBoot } = splitNodeFiles(node1.files);
    expect(firstBoot.map((f) => f.path)).toEqual(expect.arrayContaining([APPLY_BUNDLE_SCRIPT, '/etc/systemd/system/fabric-watchdog.service', '/usr/local/lib/appliance-fabric/fabric-watchdog']));
    expect(firstBoot.some((f) => bundleReloadOf(f.path))).toBe(false);
    // An application server has no HAProxy or keepalived of its own.
    expect(before.get('node3')!.bundle.files.map((f) => f.path)).toEqual([APPLY_BUNDLE_CONF, WATCHDOG_CONF, FIREWALL_CONFIG, PROBES_LIBRARY]);
  });

  it('is written at first boot too: every bundle file is among the node\'s write_files, byte for byte', () => {
    for (const ci of before.values()) {
      for (const f of ci.bundle.files) expect(ci.files.find((x) => x.path === f.path)?.content).toBe(f.content);
    }
  });

  it('adding a fourth appliance changes the balancers\' bundles (a new backend) and nothing of any node\'s identity', () => {
    const after = render(withFourth(threeNodeSpec()));
    for (const name of ['node1', 'node2']) {
      expect(after.get(name)!.bundle.hash).not.toBe(before.get(name)!.bundle.hash);
      const changed = after.get(name)!.bundle.files.filter((f) => f.content !== before.get(name)!.bundle.files.find((b) => b.path === f.path)?.content).map((f) => f.path);
      expect(changed).toEqual([HAPROXY_CONFIG]);
      expect(after.get(name)!.identityHash).toBe(before.get(name)!.identityHash);
    }
    // node3's HAProxy-free bundle does not depend on the membership.
    expect(after.get('node3')!.bundle.hash).toBe(before.get('node3')!.bundle.hash);
    expect(after.get('node3')!.identityHash).toBe(before.get('node3')!.identityHash);
  });

  it('with a database, the new node also changes the database pair\'s witnesses, inside the bundle', () => {
    const spec = threeNodeSpec({ database: { vip: '198.51.100.20' } });
    const [b, a] = [render(spec), render(withFourth(spec))];
    for (const name of ['node1', 'node2']) {
      const changed = a.get(name)!.bundle.files.filter((f) => f.content !== b.get(name)!.bundle.files.find((x) => x.path === f.path)?.content).map((f) => f.path);
      // The firewall lets the new application server reach the database.
      expect(changed.sort()).toEqual(['/etc/appliance-fabric/database.env', HAPROXY_CONFIG, FIREWALL_CONFIG]);
      expect(a.get(name)!.identityHash).toBe(b.get(name)!.identityHash);
    }
  });

  it('carries the application servers\' database client settings (the password a rotation changes), taken up by restarting the application; the database CA stays a first-boot file', () => {
    const spec = threeNodeSpec({ database: { vip: '198.51.100.20' } });
    const cis = render(spec);
    expect([...cis.keys()]).toEqual(['node1', 'node2', 'node3']);
    for (const ci of cis.values()) {
      expect(ci.bundle.files.filter((f) => f.path === DATABASE_CLIENT_ENV).map((f) => [f.reload, f.permissions])).toEqual([['application', '0600']]);
      expect(ci.bundle.manifest).toMatch(new RegExp(`^file [0-9a-f]{64} 0600 root:root application ${DATABASE_CLIENT_ENV}$`, 'm'));
      const { firstBoot } = splitNodeFiles(ci.files);
      expect(firstBoot.map((f) => f.path)).toContain(DATABASE_CA_FILE);
      expect(firstBoot.map((f) => f.path)).not.toContain(DATABASE_CLIENT_ENV);
      expect(ci.bundle.files.map((f) => f.path)).not.toContain(DATABASE_CA_FILE);
      // The client env still holds the application's password, as before.
      expect(ci.bundle.files.find((f) => f.path === DATABASE_CLIENT_ENV)!.content).toContain(`\nDB_PASSWORD=${DB_SECRETS.databaseApplicationPassword}\n`);
    }
    // A new application password changes exactly the client env on node3 (no database there), and database.env beside it on the members.
    const rotated = render(spec, { ...DB_SECRETS, databaseApplicationPassword: 'TestOnlyApplication1' });
    for (const [name, ci] of rotated) {
      const changed = ci.bundle.files.filter((f) => f.content !== cis.get(name)!.bundle.files.find((b) => b.path === f.path)?.content).map((f) => f.path);
      expect(changed.sort()).toEqual(name === 'node3' ? [DATABASE_CLIENT_ENV] : [DATABASE_CLIENT_ENV, DATABASE_ENV].sort());
      expect(ci.bundle.hash).not.toBe(cis.get(name)!.bundle.hash);
    }
  });

  it('a fabric-wide setting changes the bundles of the nodes that use it and no identity', () => {
    const after = render(threeNodeSpec({ loadBalancer: { serverTimeoutSeconds: 21 }, watchdog: { probeIntervalSeconds: 3 } }));
    for (const [name, ci] of after) {
      expect(ci.bundle.hash).not.toBe(before.get(name)!.bundle.hash);
      expect(ci.identityHash).toBe(before.get(name)!.identityHash);
    }
  });

  it('an identity change (a node\'s address) changes that node\'s identity', () => {
    const spec = threeNodeSpec();
    const moved = render({ ...spec, appliances: spec.appliances!.map((a) => (a.name === 'node3' ? { ...a, managementAddress: '198.51.100.33' } : a)) });
    expect(moved.get('node3')!.identityHash).not.toBe(before.get('node3')!.identityHash);
    expect(moved.get('node1')!.identityHash).toBe(before.get('node1')!.identityHash);
  });

  it('is deterministic, and its hash changes exactly when a bundle file\'s content, mode or owner changes', () => {
    const again = render(threeNodeSpec());
    for (const [name, ci] of again) expect(ci.bundle.hash).toBe(before.get(name)!.bundle.hash);
    const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
    const node1 = model.nodes[0];
    const files = before.get('node1')!.files;
    const hashOf = (fs: typeof files) => nodeBundle(model, node1, fs).hash;
    const base = hashOf(files);
    expect(hashOf([...files].reverse())).toBe(base);
    const edit = (p: string, change: object) => files.map((f) => (f.path === p ? { ...f, ...change } : f));
    expect(hashOf(edit(HAPROXY_CONFIG, { content: `${files.find((f) => f.path === HAPROXY_CONFIG)!.content}# x\n` }))).not.toBe(base);
    expect(hashOf(edit(HAPROXY_CONFIG, { permissions: '0644' }))).not.toBe(base);
    expect(hashOf(edit(HAPROXY_CONFIG, { owner: 'root:root' }))).not.toBe(base);
    // A first-boot file is not in the bundle.
    expect(hashOf(edit(APPLY_BUNDLE_SCRIPT, { content: '#!/bin/bash\n' }))).toBe(base);
  });

  it('writes a manifest the agent can verify: each file\'s sha256 of its bytes on the node, the hash over those lines', () => {
    const bundle = before.get('node1')!.bundle;
    const fileLines = bundle.manifest.split('\n').filter((l) => l.startsWith('file '));
    expect(sha256Hex(fileLines.map((l) => `${l}\n`).join(''))).toBe(bundle.hash);
    expect(bundle.manifest).toMatch(new RegExp(`^format 1\nnode node1\nbundle ${bundle.hash}\n`, 'm'));
    const entries = bundleDirectoryEntries(bundle);
    expect(entries[0].relativePath).toBe('manifest');
    // The certificate is base64 in the user-data and its decoded bytes on the node.
    const cert = entries.find((e) => e.relativePath === `files${TLS_BUNDLE_PATH}`)!;
    expect(cert.data.toString('utf8')).toBe('TEST');
    expect(fileLines.find((l) => l.endsWith(TLS_BUNDLE_PATH))).toContain(`${sha256Hex('TEST')} 0640 root:haproxy haproxy `);
  });

  it('keeps secrets out of the manifest (a file\'s hash only)', () => {
    const manifest = before.get('node1')!.bundle.manifest;
    expect(manifest).not.toContain(TEST_SECRETS.statsPassword);
  });
});

describe('the bundle agent and the renderers agree', () => {
  const model = buildFabricModel(threeNodeSpec(), TEST_PLATFORM, 'stack/Fabric');
  const script = readAsset(APPLY_BUNDLE_ASSET);

  it('ships the agent from cloud-init/assets/ as an executable file, on every node', () => {
    expect(assetPath(APPLY_BUNDLE_ASSET)).toBe(path.resolve(__dirname, '../cloud-init/assets/fabric-apply-bundle'));
    expect(script).toBe(readFileSync(path.resolve(__dirname, '../cloud-init/assets/fabric-apply-bundle'), 'utf8'));
    for (const node of model.nodes) {
      const agent = renderNodeCloudInit(model, node, TEST_SECRETS).files.find((f) => f.path === APPLY_BUNDLE_SCRIPT);
      expect(agent).toMatchObject({ content: script, permissions: '0755' });
    }
  });

  it('reads the settings file the renderer writes, and knows every setting in it', () => {
    expect(script).toContain(`readonly CONF=${APPLY_BUNDLE_CONF}\n`);
    const known = /readonly SETTINGS=\(([^)]*)\)/.exec(script)![1].split(/\s+/).filter(Boolean);
    const conf = renderApplyBundleConf(model, model.nodes[0]);
    const keys = conf.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    expect([...new Set(keys.filter((k) => k !== 'VRRP_INSTANCE'))].sort()).toEqual([...known].sort());
    expect(conf).toContain(`STATE_DIR=${path.dirname(APPLIED_BUNDLE_FILE)}\n`);
    expect(script).toContain('applied_file=$STATE_DIR/applied-bundle');
    expect(conf).toContain(`HAPROXY_STATE_FILE=${HAPROXY_SERVER_STATE_FILE}\n`);
    expect(conf).toContain(`KEEPALIVED_RELOAD_FILE=${KEEPALIVED_RELOAD_FILE}\n`);
    expect(conf).toContain(`KEEPALIVED_RELOAD_TIME_FILE=${KEEPALIVED_RELOAD_TIME_FILE}\n`);
    expect(conf).toContain('VRRP_INSTANCE=fabric_vip 198.51.100.10 /run/appliance-fabric/vrrp-fabric_vip.state\n');
    // 3 x 0.2 s advert + 2 x 1 s checks, rounded up.
    expect(conf).toContain('VRRP_SETTLE_SECONDS=3\n');
    expect(renderApplyBundleConf(model, model.nodes[2])).toMatch(/^HAPROXY_HEALTH_URL=$/m);
  });

  it('knows exactly the reload kinds the renderers give, and reloads them in their order', () => {
    // The manifest's format line, the check of each manifest line, and the order of step 6.
    const documented = /^#   file <sha256> <mode> <owner:group> <([a-z|-]+)> <path>$/m.exec(script)?.[1].split('|');
    const accepted = /\[\[ \$reload =~ \^\(([a-z|-]+)\)\$ \]\]/.exec(script)?.[1].split('|');
    const order = /^order=\(([a-z -]+)\)$/m.exec(script)?.[1].split(' ');
    expect({ documented, accepted, order }).toEqual({ documented: [...BUNDLE_RELOADS], accepted: [...BUNDLE_RELOADS], order: BUNDLE_RELOADS.filter((r) => r !== 'none') });
    // take_up has an arm for each kind it is given.
    const takeUp = /^take_up\(\) \{\n  case \$1 in\n([\s\S]*?)\n  esac\n\}$/m.exec(script)?.[1] ?? '';
    expect(takeUp.split('\n').map((l) => /^ {4}([a-z-]+)\) /.exec(l)?.[1])).toEqual(order);
  });

  it('names the application service and its health URL on an application server, and leaves both empty elsewhere', () => {
    const app = model.applicationServers.service;
    for (const node of model.nodes) {
      const conf = renderApplyBundleConf(model, node);
      expect(conf).toContain(`\nAPPLICATION_UNIT=${app.name}.service\n`);
      expect(conf).toContain(`\nAPPLICATION_READY_URL=http://${node.managementAddress}:${app.port}${app.healthCheck.path}\n`);
      // The same URL --wait-ready waits for.
      expect(readyUrlsOf(model, node)).toContain(`http://${node.managementAddress}:${app.port}${app.healthCheck.path}`);
    }
    const onlyNode3 = buildFabricModel(threeNodeSpec({ applicationServers: { members: ['node3'] } }), TEST_PLATFORM, 'stack/Fabric');
    const node1 = onlyNode3.nodes.find((n) => n.name === 'node1')!;
    expect(node1.roles).not.toContain('application-server');
    const conf = renderApplyBundleConf(onlyNode3, node1);
    expect(conf).toMatch(/^APPLICATION_UNIT=$/m);
    expect(conf).toMatch(/^APPLICATION_READY_URL=$/m);
    expect(renderApplyBundleConf(onlyNode3, onlyNode3.nodes.find((n) => n.name === 'node3')!)).toMatch(/^APPLICATION_UNIT=\S+\.service$/m);
  });

  it('accepts the reload \'application\' in a manifest and restarts the application after the database accounts and before HAProxy, keepalived and the watchdog', () => {
    expect(script).toMatch(/\[\[ \$reload =~ \^\(nftables\|database-accounts\|application\|haproxy\|keepalived\|fabric-watchdog\|none\)\$ \]\]/);
    expect(script).toContain('\norder=(nftables database-accounts application haproxy keepalived fabric-watchdog)\n');
    expect(script).toContain('    application) restart_application ;;\n');
  });

  it('has HAProxy keep its server states across a reload and keepalived announce and schedule its reloads', () => {
    const files = renderNodeCloudInit(model, model.nodes[0], TEST_SECRETS).files;
    const cfg = files.find((f) => f.path === HAPROXY_CONFIG)!.content;
    expect(cfg).toMatch(new RegExp(`^global\\n(?:.*\\n)*?    server-state-file ${HAPROXY_SERVER_STATE_FILE}\\n`, 'm'));
    expect(cfg).toMatch(/^defaults http\n(?:.*\n)*?    load-server-state-from-file global\n/m);
    const conf = files.find((f) => f.path === KEEPALIVED_CONFIG)!.content;
    expect(conf).toMatch(new RegExp(`^global_defs \\{\\n(?:.*\\n)*?    reload_file ${KEEPALIVED_RELOAD_FILE}\\n    reload_time_file ${KEEPALIVED_RELOAD_TIME_FILE}\\n\\}`, 'm'));
    // HAProxy reads an empty state at its first start instead of warning about a missing file.
    expect(files.find((f) => f.path === '/etc/tmpfiles.d/appliance-fabric.conf')!.content).toContain(`f ${HAPROXY_SERVER_STATE_FILE} 0644 root root - 1\\n\n`);
  });
});

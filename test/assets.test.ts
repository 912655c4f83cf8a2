import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CASSANDRA_AUTH_ASSET } from '../cloud-init/cassandra-auth';
import { packageFile, readAsset } from '../cloud-init/assets';
import { FETCH_IMAGE_SCRIPT } from '../constructs/platforms/libvirt/verified-images';
import { renderDemoServiceScript } from '../cloud-init/application-service';
import { CASSANDRA_INSTALL_ASSET, CASSANDRA_INSTALL_ENV, renderCassandraInstall } from '../cloud-init/cassandra';
import { DATABASE_ENV, renderDatabaseAccounts, renderDatabaseCheck, renderDatabaseNotify } from '../cloud-init/database';
import { renderCheckServiceScript, renderNotifyScript, vrrpStateFile } from '../cloud-init/keepalived';
import {
  CASSANDRA_SYSLOG_TAG,
  CHECK_SERVICE_ASSET,
  DATABASE_ACCOUNTS_ASSET,
  DATABASE_CHECK_ASSET,
  DATABASE_CHECK_SCRIPT,
  DATABASE_NOTIFY_ASSET,
  DATABASE_SYSLOG_TAG,
  DEMO_SERVICE_ASSET,
  NOTIFY_ASSET,
  NOTIFY_SCRIPT,
  NOTIFY_SYSLOG_TAG,
  PROBES_ASSET,
  WATCHDOG_SYSLOG_TAG,
} from '../cloud-init/node-paths';
import { generatedHeader, RUN_DIR } from '../cloud-init/rendered-file';
import {
  probesOf,
  REMOVE_STALE_VIPS_ASSET,
  renderProbeLibrary,
  renderRemoveStaleVipsScript,
  renderWatchdogDriverScript,
  renderWatchdogScript,
  WATCHDOG_ASSET,
  WATCHDOG_DRIVER_ASSET,
} from '../cloud-init/watchdog';
import { buildFabricModel } from '../model/build-model';
import { TEST_PLATFORM, threeNodeSpec } from './fixtures';

/**
 * The scripts nodes run are files in cloud-init/assets/, the same on every
 * node; what they share with the renderers (paths, names) is written in
 * both places, so it is checked here.
 */
const ASSET_DIR = path.resolve(__dirname, '../cloud-init/assets');

describe('the script assets', () => {
  const names = readdirSync(ASSET_DIR).sort();

  it('are the scripts the renderers ship, each naming itself under its #! line', () => {
    expect(names).toEqual(['cassandra-auth', 'check-database', 'check-service', 'database-accounts', 'database-notify', 'demo-app-server.py', 'fabric-apply-bundle', 'fabric-probes', 'fabric-watchdog', 'install-cassandra', 'keepalived-notify', 'load-watchdog-driver', 'remove-stale-vips']);
    for (const name of names) {
      const [shebang, second] = readAsset(name).split('\n');
      expect(shebang).toMatch(/^#!\/(bin\/bash|usr\/bin\/python3)$/);
      expect(second).toMatch(new RegExp(`^# ${name.replace('.', '\\.')}: `));
    }
    expect([CASSANDRA_AUTH_ASSET, CASSANDRA_INSTALL_ASSET, CHECK_SERVICE_ASSET, DATABASE_ACCOUNTS_ASSET, DATABASE_CHECK_ASSET, DATABASE_NOTIFY_ASSET, DEMO_SERVICE_ASSET, NOTIFY_ASSET, PROBES_ASSET, REMOVE_STALE_VIPS_ASSET, WATCHDOG_ASSET, WATCHDOG_DRIVER_ASSET].every((n) => names.includes(n))).toBe(true);
  });

  it('log under the syslog tags the renderers and the e2e read the journal for', () => {
    const tags = (name: string) => [...readAsset(name).matchAll(/\blogger -t (\S+)/g)].map((m) => m[1]);
    const expected: Record<string, string> = {
      [DATABASE_ACCOUNTS_ASSET]: DATABASE_SYSLOG_TAG,
      [DATABASE_NOTIFY_ASSET]: DATABASE_SYSLOG_TAG,
      [NOTIFY_ASSET]: NOTIFY_SYSLOG_TAG,
      [WATCHDOG_ASSET]: WATCHDOG_SYSLOG_TAG,
      [CASSANDRA_AUTH_ASSET]: CASSANDRA_SYSLOG_TAG,
    };
    for (const [name, tag] of Object.entries(expected)) {
      expect({ name, tags: [...new Set(tags(name))] }).toEqual({ name, tags: [tag] });
    }
  });

  // Fast-tier syntax checks on the files themselves (shellcheck, a Debian package, runs in the real-tools tier).
  it('parse: bash -n for the shell scripts, the Python compiler for the Python one', () => {
    const complaints = names.flatMap((name) => {
      const file = path.join(ASSET_DIR, name);
      const python = readAsset(name).startsWith('#!/usr/bin/python3');
      const r = python
        ? spawnSync('python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")', file], { encoding: 'utf8' })
        : spawnSync('bash', ['-n', file], { encoding: 'utf8' });
      return r.status === 0 ? [] : [`${name}: ${r.error?.message ?? r.stderr.trim()}`];
    });
    expect(complaints).toEqual([]);
  });

  it('are rendered as the file is, with the whole node header after the #! line', () => {
    const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' }, cassandra: { members: ['node1', 'node2'] } }), TEST_PLATFORM, 'stack/Fabric');
    const node = model.nodes[0];
    const rendered: [string, string, string][] = [
      [WATCHDOG_ASSET, renderWatchdogScript(model, node), 'Health-probing watchdog'],
      [NOTIFY_ASSET, renderNotifyScript(model, node), 'keepalived notify hook'],
      [DATABASE_NOTIFY_ASSET, renderDatabaseNotify(model, node), 'Database VIP hook: promote, demote, rejoin'],
      [DATABASE_ACCOUNTS_ASSET, renderDatabaseAccounts(model, node), 'Database and accounts (first boot and every change of database.env)'],
      [DATABASE_CHECK_ASSET, renderDatabaseCheck(model, node), 'keepalived check of the local database'],
      [DEMO_SERVICE_ASSET, renderDemoServiceScript(model, node), 'Demo application service'],
      [WATCHDOG_DRIVER_ASSET, renderWatchdogDriverScript(model, node), 'Watchdog driver loader'],
      [REMOVE_STALE_VIPS_ASSET, renderRemoveStaleVipsScript(model, node), 'Stale VIP cleanup'],
      [PROBES_ASSET, renderProbeLibrary(model, node), 'HTTP and TCP probes (a library, sourced)'],
      [CHECK_SERVICE_ASSET, renderCheckServiceScript(model, node), "keepalived's check of a service a VIP follows"],
      [CASSANDRA_INSTALL_ASSET, renderCassandraInstall(model, node), 'Cassandra installation'],
    ];
    for (const [name, text, what] of rendered) {
      const [shebang, ...rest] = readAsset(name).split('\n');
      expect(text).toBe([shebang, generatedHeader(model, node, what), ...rest].join('\n'));
    }
    expect(rendered[0][1].split('\n').slice(0, 3)).toEqual(['#!/bin/bash', "# Health-probing watchdog for node1 (fabric 'testfab').", '# Generated by appliance-fabric from construct stack/Fabric.']);
  });

  it("the VRRP hooks and checks agree with the renderers on the state files, the settings file, the database VIP's instance and the database ping", () => {
    const model = buildFabricModel(threeNodeSpec({ database: { vip: '198.51.100.20' } }), TEST_PLATFORM, 'stack/Fabric');
    const notify = readAsset(NOTIFY_ASSET);
    expect(notify).toContain(`\nmkdir -p ${RUN_DIR}\n`);
    expect(notify).toContain(`\nfile="${vrrpStateFile('${name}')}"\n`);
    const database = readAsset(DATABASE_NOTIFY_ASSET);
    expect(database).toContain(`\n. ${DATABASE_ENV}\n`);
    expect(database).toContain(`\nFABRIC_NOTIFY_PID=$$ ${NOTIFY_SCRIPT} "$@"\n`);
    expect(database).toContain(`\ninstance="\${2:-${model.database!.vrrp.name}}"\n`);
    expect(database).toContain(`current_state() { cut -d' ' -f2 "${vrrpStateFile('${instance}')}" 2> /dev/null; }`);
    expect(readAsset(DATABASE_ACCOUNTS_ASSET)).toContain(`\n. ${DATABASE_ENV}\n`);
    // keepalived's check and the watchdog's probe ask the server the same question: the probe runs the check.
    const db1 = model.nodes.find((n) => n.roles.includes('database'))!;
    const probe = probesOf(model, db1).find((p) => p.name === 'mariadb')!;
    expect(probe).toMatchObject({ type: 'command', target: DATABASE_CHECK_SCRIPT });
    expect(readAsset(DATABASE_CHECK_ASSET)).toContain('\nexec mariadb-admin --protocol=socket --skip-ssl --connect-timeout=1 ping > /dev/null 2>&1\n');
    // The Cassandra installer reads the env file the renderer writes, unless a test names another.
    expect(readAsset(CASSANDRA_INSTALL_ASSET)).toContain(`\nenv_file=\${1:-${CASSANDRA_INSTALL_ENV}}\n`);
    // Every runtime file the hooks name is in the runtime directory the tmpfiles rule makes root's alone.
    for (const text of [notify, database]) for (const p of text.match(/\/run\/[\w./${}-]+/g) ?? []) expect(p.startsWith(`${RUN_DIR}/`) || p === RUN_DIR).toBe(true);
  });
});

describe('the scripts Terraform runs on its own machine', () => {
  it('are found in the package as a consumer finds them, name themselves under their #! line and parse (bash -n)', () => {
    const file = packageFile(FETCH_IMAGE_SCRIPT);
    expect(file).toBe(path.resolve(__dirname, '..', FETCH_IMAGE_SCRIPT));
    const [shebang, second] = readFileSync(file, 'utf8').split('\n');
    expect([shebang, second]).toEqual(['#!/bin/bash', expect.stringMatching(/^# fetch-verified-image: /)]);
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

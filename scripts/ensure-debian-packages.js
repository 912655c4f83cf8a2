#!/usr/bin/env node
// Makes sure the Debian packages a test group needs are installed, before
// any test of that group runs:
//
//   node scripts/ensure-debian-packages.js [--needs-root] GROUP...
//
// --needs-root: the group's tests also need root (network namespaces, VMs);
// without it this stops at once, saying so.
//
// The list is scripts/debian-packages.txt. Run as root on a machine with
// apt-get, the missing packages are installed (said once, which ones);
// otherwise this stops at once with one line naming them and the command
// that installs them. It never lets a tier skip quietly.
'use strict';

const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

// ENSURE_PACKAGES_LIST: another list, for this script's own test.
const LIST = process.env.ENSURE_PACKAGES_LIST || path.join(__dirname, 'debian-packages.txt');
// Debian's maintainer scripts start a daemon they install (mariadb, haproxy...)
// unless policy-rc.d says no: tests start their own, in namespaces.
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/** Packages of the given groups, in the list's order. */
function packagesOf(groups) {
  const known = new Set();
  const wanted = [];
  for (const raw of readFileSync(LIST, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, ...lineGroups] = line.split(/\s+/);
    lineGroups.forEach((g) => known.add(g));
    if (lineGroups.some((g) => groups.includes(g))) wanted.push(name);
  }
  const unknown = groups.filter((g) => !known.has(g));
  if (unknown.length > 0) fail(`unknown package group ${unknown.join(', ')} (${LIST} has ${[...known].join(', ')})`);
  return wanted;
}

/** The packages dpkg does not have fully installed. */
function missingOf(packages) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...packages], { encoding: 'utf8' });
  if (r.error) return packages; // no dpkg at all: nothing is installed the way the tests expect
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name),
  );
  return packages.filter((p) => !installed.has(p));
}

function fail(message) {
  console.error(`ensure-debian-packages: ${message}`);
  process.exit(1);
}

function apt(args) {
  const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.error || r.status !== 0) fail(`apt-get ${args.join(' ')} failed (${r.error ? r.error.message : `exit ${r.status}`})`);
}

function main() {
  const args = process.argv.slice(2);
  const needsRoot = args.includes('--needs-root');
  const groups = args.filter((a) => a !== '--needs-root');
  if (groups.length === 0) fail('name the package groups to check, e.g. test or e2e');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (needsRoot && !isRoot) {
    fail(`the ${groups.join('+')} tier runs real daemons in network namespaces and needs root: run it as root (\`npm run test:unit\` runs the pure tiers as any user)`);
  }
  const missing = missingOf(packagesOf(groups));
  if (missing.length === 0) return;

  const installCommand = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    fail(`missing Debian packages for the ${groups.join('+')} tier: ${missing.join(' ')}; install them with: ${isRoot ? '' : 'sudo '}${installCommand}${hasApt ? '' : ' (this machine has no apt-get)'}`);
  }

  console.log(`ensure-debian-packages: installing ${missing.length} missing Debian package(s) for the ${groups.join('+')} tier: ${missing.join(' ')}`);
  const ownPolicy = !existsSync(POLICY_RC_D);
  if (ownPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# written by appliance-fabric ensure-debian-packages: start no daemon on install\nexit 101\n', { mode: 0o755 });
  try {
    apt(['update', '-q']);
    apt(['install', '-y', '-q', '--no-install-recommends', ...missing]);
  } finally {
    if (ownPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  const still = missingOf(missing);
  if (still.length > 0) fail(`apt-get installed, but these are still not installed: ${still.join(' ')}`);
}

main();

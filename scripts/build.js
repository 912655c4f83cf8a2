#!/usr/bin/env node
// Builds what the library, the example stacks and the tests run from:
// the generated libvirt bindings (.gen/), `tsc` into dist/, and one bundle
// of the synth entry point (dist/stacks/main.bundle.js).
//
//   node scripts/build.js          (what `npm run build` runs)
//
// Every step is skipped when its output is current, so a synth or test run
// with nothing changed pays a few milliseconds instead of a full `tsc` start
// (about 2 s): the sources named by tsconfig.json's "include" (and
// tsconfig.json and package-lock.json) are compared with dist/.build-stamp,
// which only this script writes, after a tsc that succeeded. (Not with tsc's
// own dist/.tsbuildinfo: a `tsc --noEmit -p tsconfig.json` run by hand
// writes that too, without emitting, and a later build then skipped a
// changed source.)
//
// Why a bundle: loading cdktf, the providers and the library is about 510
// modules, and resolving and reading them one by one was 40% of a synth.
// The bundle is for `npm run synth` only; the package ships dist/ as tsc
// wrote it.
'use strict';

const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { ensureLibvirtBindings } = require('./generate-libvirt-bindings');

const ROOT = path.resolve(__dirname, '..');
const TSCONFIG = path.join(ROOT, 'tsconfig.json');
const SYNTH_ENTRY = path.join(ROOT, 'dist', 'stacks', 'main.js');
/** Beside main.js, so that its own way of finding the project root holds. */
const SYNTH_BUNDLE = path.join(ROOT, 'dist', 'stacks', 'main.bundle.js');
/**
 * Directories outside tsconfig.json's "include" that tsc compiles anyway
 * because included code imports them: the bench runs the namespace harness,
 * and the e2e and the harness tests share the scenarios. A change there must
 * rebuild too.
 */
const IMPORTED_FROM_OUTSIDE_INCLUDE = ['test/harness', 'test/scenarios'];

/** Newest mtime (ms) among the files the compilation reads. */
function newestInput() {
  const { include, compilerOptions } = JSON.parse(readFileSync(TSCONFIG, 'utf8'));
  let newest = Math.max(statSync(TSCONFIG).mtimeMs, statSync(path.join(ROOT, 'package-lock.json')).mtimeMs);
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
    }
  };
  for (const dir of IMPORTED_FROM_OUTSIDE_INCLUDE) walk(path.join(ROOT, dir));
  for (const pattern of include) {
    // tsconfig's patterns here are files ("index.ts") or "<dir>/**/*.ts".
    const dir = pattern.endsWith('/**/*.ts') ? path.join(ROOT, pattern.slice(0, -'/**/*.ts'.length)) : undefined;
    if (dir) {
      if (existsSync(dir)) walk(dir);
    } else if (existsSync(path.join(ROOT, pattern))) {
      newest = Math.max(newest, statSync(path.join(ROOT, pattern)).mtimeMs);
    }
  }
  return { newest, stamp: path.join(ROOT, compilerOptions.outDir, '.build-stamp') };
}

const mtimeOf = (file) => (existsSync(file) ? statSync(file).mtimeMs : -Infinity);

function bundleSynthEntry() {
  // Loaded only when a bundle is due: esbuild is a devDependency.
  require('esbuild').buildSync({ entryPoints: [SYNTH_ENTRY], outfile: SYNTH_BUNDLE, bundle: true, platform: 'node', target: 'node20', logLevel: 'warning' });
}

function compile(stamp) {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', TSCONFIG], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.json failed (exit ${r.status ?? r.signal})`);
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/** Resolves when dist/ matches the sources; throws with tsc's own messages otherwise. */
async function build() {
  await ensureLibvirtBindings({ quiet: true });
  const { newest, stamp } = newestInput();
  if (mtimeOf(stamp) <= newest) compile(stamp);
  if (mtimeOf(SYNTH_BUNDLE) <= mtimeOf(stamp)) bundleSynthEntry();
}

module.exports = { build, SYNTH_BUNDLE };

if (require.main === module) {
  build().catch((err) => {
    console.error(`build: ${err.message}`);
    process.exit(1);
  });
}

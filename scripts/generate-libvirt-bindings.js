#!/usr/bin/env node
/*
 * Generate typed CDKTF bindings for the Terraform provider dmacvicar/libvirt
 * 0.8.3 from the committed provider schema, fully offline.
 *
 *   node scripts/generate-libvirt-bindings.js [--force]
 *
 * Input:  providers/libvirt/schema.json (committed)
 * Output: .gen/providers/libvirt/** (git-ignored TypeScript sources)
 *
 * How providers/libvirt/schema.json was produced
 * ----------------------------------------------
 * No machine here can download a Terraform provider, so the schema was
 * derived by hand from the provider's own source at tag v0.8.3
 * (github.com/dmacvicar/terraform-provider-libvirt: libvirt/provider.go,
 * libvirt/resource_libvirt_*.go, libvirt/data_source_libvirt_*.go), applying
 * the terraform-plugin-sdk/v2 (v2.34.0) rules that `terraform providers
 * schema -json` reflects: every resource and data source gets an implicit
 * optional+computed `id`; Optional+Computed fields are both optional and
 * computed; Default makes a field optional (not computed); TypeList/TypeSet
 * of *schema.Resource become block_types (MaxItems -> max_items, Required ->
 * min_items 1) unless computed-only, in which case they are attributes of
 * list/set of object; TypeMap without Elem is a map of string; `Timeouts`
 * adds a `timeouts` block (nesting "single"); a Required provider field whose
 * DefaultFunc yields nil (LIBVIRT_DEFAULT_URI unset) stays required.
 *
 * Regenerating the schema with a real terraform (when one is at hand)
 * ---------------------------------------------------------------------
 *   mkdir /tmp/libvirt-schema && cd /tmp/libvirt-schema
 *   cat > main.tf <<'EOF'
 *   terraform {
 *     required_providers {
 *       libvirt = {
 *         source  = "dmacvicar/libvirt"
 *         version = "0.8.3"
 *       }
 *     }
 *   }
 *   EOF
 *   terraform init
 *   env -u LIBVIRT_DEFAULT_URI terraform providers schema -json \
 *     | jq . > <repo>/providers/libvirt/schema.json
 *
 * (`jq .` only pretty-prints; it keeps terraform's key order, which is the
 * layout of the committed file. Unset LIBVIRT_DEFAULT_URI, or the provider's
 * `uri` is reported as optional instead of required.) Then run this script:
 * the stamp changes with the schema's sha256, so the bindings are rebuilt.
 *
 * Behaviour
 * ---------
 * - Imports TerraformProviderGenerator from its submodule path; the package
 *   root of @cdktf/provider-generator pulls in jsii-pacmak.
 * - CHECKPOINT_DISABLE=1: no telemetry or version check traffic; and the
 *   `terraform version -json` probe that @cdktf/commons runs when loaded is
 *   replaced by an inert module, so no terraform binary is run or needed.
 * - Calls generate() with the explicit constraint dmacvicar/libvirt@0.8.3
 *   (also recorded as the providerVersion in the generated metadata).
 * - Idempotent: skips work when .gen/providers/libvirt/.schema-stamp.json
 *   records the current schema sha256 and generator version; otherwise it
 *   generates into a staging directory and swaps it into place.
 */
'use strict';

process.env.CHECKPOINT_DISABLE = '1';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

let started = process.hrtime.bigint();

const REPO_ROOT = path.resolve(__dirname, '..');
const SCHEMA_PATH = path.join(REPO_ROOT, 'providers', 'libvirt', 'schema.json');
const GEN_ROOT = path.join(REPO_ROOT, '.gen');
const OUT_DIR = path.join(GEN_ROOT, 'providers', 'libvirt');
const STAMP_PATH = path.join(OUT_DIR, '.schema-stamp.json');

const PROVIDER_FQPN = 'registry.terraform.io/dmacvicar/libvirt';
const PROVIDER_CONSTRAINT = 'dmacvicar/libvirt@0.8.3';
const PROVIDER_VERSION = '0.8.3';

function elapsedMs() {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function generatorVersion() {
  const pkg = readJson(require.resolve('@cdktf/provider-generator/package.json'));
  return `${pkg.name}@${pkg.version}`;
}

function desiredStamp(schemaText) {
  return {
    schemaSha256: crypto.createHash('sha256').update(schemaText).digest('hex'),
    generator: generatorVersion(),
    provider: PROVIDER_CONSTRAINT,
  };
}

function stampMatches(want) {
  if (!fs.existsSync(OUT_DIR) || !fs.existsSync(STAMP_PATH)) return false;
  try {
    const have = readJson(STAMP_PATH);
    return (
      have.schemaSha256 === want.schemaSha256 &&
      have.generator === want.generator &&
      have.provider === want.provider
    );
  } catch {
    return false;
  }
}

// @cdktf/commons runs `terraform version -json` as a side effect of being
// loaded (src/terraform.js; only its debug-report helper reads the result).
// Code generation needs no terraform at all, so pre-seed the module cache with
// an inert stand-in: no child process, no dependency on a terraform binary,
// no stray terraform CLI warnings on stderr.
function neutraliseTerraformProbe(genPkgDir) {
  const commonsMain = require.resolve('@cdktf/commons', { paths: [genPkgDir] });
  const probePath = path.join(path.dirname(commonsMain), 'terraform.js');
  if (!fs.existsSync(probePath) || require.cache[probePath]) return;
  const Module = require('module');
  const stub = new Module(probePath, module);
  stub.filename = probePath;
  stub.loaded = true;
  stub.exports = {
    terraformBinaryName: process.env.TERRAFORM_BINARY_NAME || 'terraform',
    terraformVersion: Promise.resolve(undefined),
  };
  require.cache[probePath] = stub;
}

function loadGenerator() {
  // Resolve codemaker and @cdktf/commons next to the generator so that the
  // very same module instances it uses are handed to it.
  const genPkgDir = path.dirname(require.resolve('@cdktf/provider-generator/package.json'));
  const fromGen = (id) => require(require.resolve(id, { paths: [genPkgDir] }));
  neutraliseTerraformProbe(genPkgDir);
  const { TerraformProviderGenerator } = require('@cdktf/provider-generator/lib/get/generator/provider-generator');
  const { CodeMaker } = fromGen('codemaker');
  const commons = fromGen('@cdktf/commons');
  return { TerraformProviderGenerator, CodeMaker, commons };
}

// Replace OUT_DIR by `produced` with two renames. Tolerates a concurrent run
// (e.g. parallel test workers) that put its own, identical, output in place.
function swapIntoPlace(produced, stamp) {
  fs.mkdirSync(path.dirname(OUT_DIR), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    const old = `${OUT_DIR}.old-${process.pid}-${attempt}`;
    try {
      fs.renameSync(OUT_DIR, old);
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    try {
      fs.renameSync(produced, OUT_DIR);
      return;
    } catch (err) {
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      if (stampMatches(stamp)) return;
    } finally {
      fs.rmSync(old, { recursive: true, force: true });
    }
  }
  throw new Error(`could not move the generated bindings into ${OUT_DIR}`);
}

async function generate(schemaText, stamp) {
  const schema = JSON.parse(schemaText);
  if (!schema.provider_schemas || !schema.provider_schemas[PROVIDER_FQPN]) {
    throw new Error(`${path.relative(REPO_ROOT, SCHEMA_PATH)} has no provider_schemas["${PROVIDER_FQPN}"]`);
  }
  // `cdktf get` adds the selected versions (from `terraform version -json`)
  // to the schema; the generator writes them into the file headers.
  schema.provider_versions = { [PROVIDER_FQPN]: PROVIDER_VERSION };

  const { TerraformProviderGenerator, CodeMaker, commons } = loadGenerator();
  const target = new commons.ConstructsMakerProviderTarget(
    new commons.TerraformProviderConstraint(PROVIDER_CONSTRAINT),
    commons.Language.TYPESCRIPT,
  );
  const code = new CodeMaker();
  const generator = new TerraformProviderGenerator(code, schema);
  generator.generate(target);

  // Save into a private staging dir, then swap it into place so a reader
  // never sees a half-written .gen/providers/libvirt.
  fs.mkdirSync(GEN_ROOT, { recursive: true });
  const staging = fs.mkdtempSync(path.join(GEN_ROOT, '.libvirt-staging-'));
  try {
    await generator.save(staging);
    const produced = path.join(staging, 'providers', 'libvirt');
    if (!fs.existsSync(path.join(produced, 'index.ts'))) {
      throw new Error(`generator wrote no providers/libvirt/index.ts under ${staging}`);
    }
    fs.writeFileSync(path.join(produced, '.schema-stamp.json'), JSON.stringify(stamp, null, 2) + '\n');
    swapIntoPlace(produced, stamp);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Generates the bindings unless the stamp says they are current. Used by
 * scripts/build.js in-process (no extra node start) and from the command line.
 */
async function ensureLibvirtBindings({ force = false, quiet = false } = {}) {
  started = process.hrtime.bigint();
  const schemaText = fs.readFileSync(SCHEMA_PATH, 'utf8');
  const stamp = desiredStamp(schemaText);
  const rel = path.relative(REPO_ROOT, OUT_DIR);

  if (!force && stampMatches(stamp)) {
    if (!quiet) console.log(`libvirt bindings up to date in ${rel} (schema sha256 ${stamp.schemaSha256.slice(0, 12)}, ${stamp.generator}); skipped in ${elapsedMs().toFixed(0)} ms`);
    return false;
  }
  await generate(schemaText, stamp);
  console.log(`generated ${PROVIDER_CONSTRAINT} bindings into ${rel} with ${stamp.generator} in ${elapsedMs().toFixed(0)} ms`);
  return true;
}

module.exports = { ensureLibvirtBindings, OUT_DIR };

if (require.main === module) {
  ensureLibvirtBindings({ force: process.argv.includes('--force') }).catch((err) => {
    console.error(`generate-libvirt-bindings: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}

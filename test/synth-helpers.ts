import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Testing } from 'cdktf';
import { FabricValidationError } from '../model/errors';
import { buildExampleStacks } from '../stacks/main';

export type Plan = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Synthesizes every example stack into a fresh directory, with a lock file
 * of its own there (starting from none, unless `lockFile` names one);
 * returns each stack's cdk.tf.json text.
 */
export function synthExamples(lockFile?: string): Map<string, string> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'afsynth-'));
  try {
    const app = new App({ outdir });
    buildExampleStacks(app, undefined, { lockFile: lockFile ?? path.join(outdir, 'appliance-fabric.lock.json') });
    app.synth();
    const stacksDir = path.join(outdir, 'stacks');
    return new Map(readdirSync(stacksDir).sort().map((s) => [s, readFileSync(path.join(stacksDir, s, 'cdk.tf.json'), 'utf8')]));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Undoes the `$${` / `%%{` escaping, giving the text a node receives (references stay references). */
export function unescapeTerraform(text: string): string {
  return text.replace(/([$%])\1\{/g, '$1{');
}

/** Each node's user-data as the plan holds it (Terraform-escaped, with references), keyed by node name. */
export function rawUserDataByNode(plan: Plan): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(plan.locals ?? {})) {
    const m = /_(\w+?)_user_data_[0-9A-F]{8}$/.exec(key);
    if (m) out.set(m[1], value as string);
  }
  return out;
}

/** Each node's user-data with the escaping undone (references stay references). */
export function userDataByNode(plan: Plan): Map<string, string> {
  return new Map([...rawUserDataByNode(plan)].map(([node, text]) => [node, unescapeTerraform(text)]));
}

const testOutdirs: string[] = [];

/**
 * A cdktf test App whose output directory is removed after the test file
 * (Testing.app() alone leaves a directory in /tmp behind every call).
 */
export function testApp(): App {
  const outdir = mkdtempSync(path.join(tmpdir(), 'aftest-'));
  testOutdirs.push(outdir);
  return Testing.app({ outdir });
}

afterAll(() => {
  for (const dir of testOutdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The FabricValidationError that `run` throws (a synth, a build, a read of a fabric's model). */
export function refusal(run: () => unknown): FabricValidationError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FabricValidationError);
    return err as FabricValidationError;
  }
  throw new Error('expected a FabricValidationError');
}

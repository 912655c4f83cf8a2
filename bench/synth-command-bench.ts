/**
 * How long the main job takes as a user runs it: `npm run synth` with
 * nothing changed, the whole process (npm, node, build check, module load,
 * synthesis of the three example stacks), beside `cdktf synth` of cdktf-cli
 * 0.21.0 on the same app. Also splits one synth process in-process: the
 * build check, loading the modules (bundled, and as tsc wrote them) and the
 * synthesis itself.
 *
 *   npm run bench:synth-command
 *
 * cdktf-cli is installed into a temporary directory for the comparison
 * (reused between runs, never a dependency of the project). Prints a table
 * and writes test-results/synth-command.json.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const RUNS = 5;
const CDKTF_CLI_VERSION = '0.21.0';
const CDKTF_CLI_DIR = path.join(tmpdir(), `appliance-fabric-bench-cdktf-cli-${CDKTF_CLI_VERSION}`);
const GOAL_SECONDS = 1;
const GOAL_RATIO = 0.5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

function timeCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const took = seconds(start);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
  return took;
}

/** Runs in a child process: one synth split into its phases. */
async function phases(entry: 'bundle' | 'tsc-output'): Promise<Record<string, number>> {
  let t = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { build, SYNTH_BUNDLE } = require(path.join(ROOT, 'scripts', 'build.js'));
  await build();
  const buildCheckSeconds = seconds(t);
  t = process.hrtime.bigint();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const main = require(entry === 'bundle' ? SYNTH_BUNDLE : path.join(ROOT, 'dist', 'stacks', 'main.js'));
  const moduleLoadSeconds = seconds(t);
  t = process.hrtime.bigint();
  main.synthesizeExamples();
  return { buildCheckSeconds, moduleLoadSeconds, synthesisSeconds: seconds(t) };
}

function measurePhases(entry: 'bundle' | 'tsc-output', outdir: string): Record<string, number> {
  const runs = [...Array(RUNS)].map(() => {
    const r = spawnSync(process.execPath, [__filename, '--phases', entry], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDKTF_OUTDIR: outdir } });
    if (r.status !== 0) throw new Error(`phase run failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  });
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}

function cdktfCli(): string {
  const bin = path.join(CDKTF_CLI_DIR, 'node_modules', '.bin', 'cdktf');
  if (!existsSync(bin)) {
    mkdirSync(CDKTF_CLI_DIR, { recursive: true });
    console.log(`installing cdktf-cli@${CDKTF_CLI_VERSION} into ${CDKTF_CLI_DIR} (for the comparison only)`);
    const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', CDKTF_CLI_DIR, `cdktf-cli@${CDKTF_CLI_VERSION}`], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`could not install cdktf-cli@${CDKTF_CLI_VERSION}`);
  }
  return bin;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--phases') {
    process.stdout.write(JSON.stringify(await phases(process.argv[3] as 'bundle' | 'tsc-output')) + '\n');
    return;
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'afsynthbench-'));
  try {
    // Warm-up: brings dist/ and the bundle up to date, so every timed run has nothing to rebuild.
    timeCommand('npm', ['run', '--silent', 'synth']);
    const npmSynth = [...Array(RUNS)].map(() => timeCommand('npm', ['run', '--silent', 'synth']));
    const bundled = measurePhases('bundle', path.join(scratch, 'bundle'));
    const unbundled = measurePhases('tsc-output', path.join(scratch, 'tsc-output'));
    const cli = cdktfCli();
    const cliEnv = { ...process.env, CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: 'true', CI: 'true' };
    timeCommand(cli, ['synth'], cliEnv); // warm-up
    const cliSynth = [...Array(RUNS)].map(() => timeCommand(cli, ['synth'], cliEnv));
    const ratio = median(npmSynth) / median(cliSynth);
    const result = {
      runs: RUNS,
      npmRunSynthSeconds: { median: median(npmSynth), all: npmSynth },
      cdktfCliSynthSeconds: { version: CDKTF_CLI_VERSION, median: median(cliSynth), all: cliSynth },
      ratio,
      inProcessBundled: bundled,
      inProcessUnbundled: unbundled,
      goals: { npmRunSynthUnderSeconds: GOAL_SECONDS, ratioAtMost: GOAL_RATIO, met: median(npmSynth) < GOAL_SECONDS && ratio <= GOAL_RATIO },
    };
    const f = (s: number) => `${s.toFixed(2)} s`;
    console.log(`main job: the three example stacks, nothing changed, ${RUNS} runs each (median)`);
    console.log(`  npm run synth (whole process)            ${f(median(npmSynth))}   [${npmSynth.map((s) => s.toFixed(2)).join(', ')}]`);
    console.log(`  cdktf synth, cdktf-cli ${CDKTF_CLI_VERSION} (same app)    ${f(median(cliSynth))}   [${cliSynth.map((s) => s.toFixed(2)).join(', ')}]`);
    console.log(`  ratio npm run synth / cdktf synth        ${ratio.toFixed(2)}`);
    console.log('  in-process          build check  module load  synthesis');
    for (const [name, p] of [['bundled (used)', bundled], ['tsc output', unbundled]] as const) {
      console.log(`  ${name.padEnd(18)}  ${f(p.buildCheckSeconds).padStart(11)}  ${f(p.moduleLoadSeconds).padStart(11)}  ${f(p.synthesisSeconds).padStart(9)}`);
    }
    console.log(`goals: npm run synth < ${GOAL_SECONDS} s and at most ${GOAL_RATIO} of cdktf synth: ${result.goals.met ? 'met' : 'NOT met'}`);
    mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'test-results', 'synth-command.json'), JSON.stringify(result, null, 2) + '\n');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

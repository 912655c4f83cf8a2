/**
 * Synthesis benchmark: for fabrics of 3, 16 and 64 appliances on each
 * platform, the wall time of building and synthesizing the stack in-process
 * (after module load) and the peak memory of the process that did it. Each
 * measurement runs in a fresh child process so one size does not warm up or
 * inflate the next. Also times the libvirt binding generation. The whole
 * `npm run synth` command is measured by bench/synth-command-bench.ts.
 *
 *   npm run bench       (prints a table, writes test-results/synth.json)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const SIZES = [3, 16, 64];
const PLATFORMS = ['vsphere', 'kvm'] as const;
const GOAL_64_SECONDS = 1.5;
const GOAL_64_MB = 300;
/** Past the examples' VIPs (.10, .20, ...), so that 64 appliances fit in the /24 without taking one. */
const FIRST_BENCH_ADDRESS = '198.51.100.101';

interface Measurement {
  platform: string;
  appliances: number;
  seconds: number;
  peakRssMB: number;
  rssAfterLoadMB: number;
  planKB: number;
}

/** Runs in the child: loads the modules, then measures one synthesis. */
function measureOne(platform: 'vsphere' | 'kvm', count: number): Measurement {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { App } = require('cdktf') as typeof import('cdktf');
  const { VsphereFabricStack } = require('../stacks/vsphere-fabric-stack') as typeof import('../stacks/vsphere-fabric-stack');
  const { KvmFabricStack } = require('../stacks/kvm-fabric-stack') as typeof import('../stacks/kvm-fabric-stack');
  const { readStackConfig } = require('../stacks/stack-config') as typeof import('../stacks/stack-config');
  const { CONFIG_DIR } = require('../stacks/main') as typeof import('../stacks/main');
  const { statSync } = require('node:fs') as typeof import('node:fs');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const outdir = mkdtempSync(path.join(tmpdir(), 'afbench-'));
  try {
    const file = path.join(CONFIG_DIR, platform === 'vsphere' ? 'vsphere-fabric.yaml' : 'kvm-fabric.yaml');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const config = readStackConfig<any>(file, platform === 'vsphere' ? 'vsphere' : 'libvirt');
    const fabric = { ...config.fabric, appliances: undefined, addressPlan: { count, firstAddress: FIRST_BENCH_ADDRESS } };
    const rssAfterLoad = process.memoryUsage().rss;
    const start = process.hrtime.bigint();
    const app = new App({ outdir });
    // A lock of its own: each count is another fabric under the same construct path.
    const lockFile = path.join(outdir, 'appliance-fabric.lock.json');
    if (platform === 'vsphere') new VsphereFabricStack(app, 'bench', { ...config, fabric }, { lockFile });
    else new KvmFabricStack(app, 'bench', { ...config, fabric }, { lockFile });
    app.synth();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return {
      platform,
      appliances: count,
      seconds,
      peakRssMB: process.resourceUsage().maxRSS / 1024,
      rssAfterLoadMB: rssAfterLoad / 1024 / 1024,
      planKB: statSync(path.join(outdir, 'stacks', 'bench', 'cdk.tf.json')).size / 1024,
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function timeCommand(cmd: string, args: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function main(): void {
  if (process.argv[2] === '--one') {
    process.stdout.write(JSON.stringify(measureOne(process.argv[3] as 'vsphere' | 'kvm', Number(process.argv[4]))));
    return;
  }
  const root = path.resolve(__dirname, '../..');
  const rows: Measurement[] = [];
  for (const platform of PLATFORMS) {
    for (const count of SIZES) {
      rows.push(JSON.parse(execFileSync(process.execPath, [__filename, '--one', platform, String(count)], { encoding: 'utf8' })));
    }
  }
  console.log('Synthesis, in-process after module load (fresh process per row)');
  console.log('platform  appliances  wall s  peak RSS MB  RSS after load MB  plan KB');
  for (const r of rows) {
    console.log(
      `${r.platform.padEnd(8)}  ${String(r.appliances).padStart(10)}  ${r.seconds.toFixed(3).padStart(6)}  ${r.peakRssMB.toFixed(0).padStart(11)}  ${r.rssAfterLoadMB.toFixed(0).padStart(17)}  ${r.planKB.toFixed(0).padStart(7)}`,
    );
  }
  const genRuns = [0, 1, 2].map(() => timeCommand(process.execPath, ['scripts/generate-libvirt-bindings.js', '--force'], root));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log('');
  console.log(`libvirt binding generation (forced): median ${median(genRuns).toFixed(2)} s`);
  const worst = rows.filter((r) => r.appliances === 64);
  const met = worst.every((r) => r.seconds < GOAL_64_SECONDS && r.peakRssMB < GOAL_64_MB);
  console.log(`goals: 64 appliances < ${GOAL_64_SECONDS} s and < ${GOAL_64_MB} MB: ${met ? 'met' : 'NOT met'}`);
  mkdirSync(path.join(root, 'test-results'), { recursive: true });
  writeFileSync(
    path.join(root, 'test-results', 'synth.json'),
    JSON.stringify({ rows, bindingGenerationSeconds: median(genRuns), goals: { appliances64UnderSeconds: GOAL_64_SECONDS, appliances64UnderMB: GOAL_64_MB, met } }, null, 2) + '\n',
  );
}

main();

/**
 * End-to-end tier: boots the synthesized KVM fabric as real Debian
 * appliances under QEMU and breaks it.
 *
 *   npm run e2e                    (kvm-fabric, then kvm-fabric-full; builds or reuses the appliance image)
 *   npm run e2e -- kvm-fabric      (one stack)
 *
 * What `cdktf deploy` would hand to libvirt is taken from the plan: each
 * node's libvirt_cloudinit_disk documents, evaluated by terraform (see
 * lib/plan-evaluation.ts), and each domain's MAC. Differences from a real
 * KVM host, all deliberate and recorded in the results: memory is 1 GiB
 * per VM (the plan asks 32 GiB), QEMU runs with TCG, the kernel is booted
 * directly, the bridge lives in a network namespace of the run's own with
 * the client on it, there is no package mirror (cloud-init's apt-get update
 * fails; the image carries the packages), and health checks and probes run
 * every 5 s instead of every second (see EMULATED_GUEST_TUNING).
 *
 * On kvm-fabric, day 2 comes first (day2.ts): the fabric is booted through
 * the real terraform binary (each libvirt domain a local-exec stand-in that
 * boots its VM, see lib/day2-terraform.ts), then grown, shrunk,
 * reconfigured, refused a bad bundle and has two nodes replaced, each under
 * GUI and NBI request streams; the failover scenarios then run on the
 * fabric day 2 leaves, as an operator's fabric is after its changes (and no
 * second boot is paid for). E2E_DAY2=0 skips day 2 (a developer's
 * shortcut, refused under CI), E2E_DAY2_ONLY=1 runs only day 2 (every other
 * expected id is then recorded as failed).
 *
 * The scenarios the namespace tier runs too (balancing, firewall, app-kill,
 * app-hang, holder-pause, one-vip-holder, vip-holder-poweroff) come from one
 * definition, test/scenarios/fabric-scenarios.ts, through lib/vm-fabric.ts;
 * the rest here need what only VMs have.
 *
 * Every result has a stable id (lib/results.ts). Nothing counts as a pass
 * without positive evidence: an answer is an HTTP 200 from a named
 * application server, a VIP holder is a node that has the address (asked
 * inside the guest; a guest that cannot be asked fails the check), and an
 * expected result that was never recorded is recorded as failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { parse } from 'yaml';
import { DATABASE_UNIT } from '../cloud-init/database';
import { HAPROXY_UNIT } from '../cloud-init/haproxy';
import { haproxyCheckCommand, KEEPALIVED_UNIT } from '../cloud-init/keepalived';
import { DATABASE_INELIGIBLE_FILE, DATABASE_SYSLOG_TAG, NOTIFY_SYSLOG_TAG } from '../cloud-init/node-paths';
import { WATCHDOG_UNIT } from '../cloud-init/watchdog';
import { KvmFabricConfig, KvmFabricStack } from '../stacks/kvm-fabric-stack';
import { DEFAULT_APPLICATION_SERVICE_NAME } from '../model/defaults';
import { FabricModel } from '../model/fabric-model';
import { FabricSpec } from '../model/fabric-spec';
import { CONFIG_DIR, PROJECT_ROOT } from '../stacks/main';
import { readStackConfig } from '../stacks/stack-config';
import { DAY2_IDS, runDay2 } from './day2';
import { judgeCloudInit } from './lib/cloud-init-result';
import { firstSuccess, sleep, trySh, waitFor } from './lib/host-commands';
import { measuredCommit } from './lib/measured-commit';
import { evaluateCloudInitDisks, terraformAvailable } from './lib/plan-evaluation';
import { describeDisruption, frontendTargets, SamplerSummary } from './lib/disruption-sampler';
import { applianceVm, KERNEL_COMMAND_LINE, QEMU_CPU, QemuVm, VM_MEMORY_MIB, VmImage } from './lib/qemu-vm';
import { streamRequests } from './lib/request-stream';
import { Result, StackResults, differingSettings } from './lib/results';
import { TestNetwork } from './lib/test-network';
import { VipMoveWatch } from './lib/vip-watch';
import { VmFabric } from './lib/vm-fabric';
import { ScenarioResult } from '../test/scenarios/fabric-under-test';
import * as shared from '../test/scenarios/fabric-scenarios';

const CLIENT = '198.51.100.100';
/** The client's address on the device network (kvm-fabric-full's eth3 bridge). */
const DEVICE_CLIENT = '198.51.100.200';
const BOOT_TIMEOUT_MS = 20 * 60 * 1000;
/**
 * Under TCG on two shared cores every program a guest starts costs 0.3-1 s
 * of CPU (measured: /bin/true 0.34 s, bash 0.47 s, curl 0.97 s, where a
 * real host needs about a millisecond). keepalived's checks and the
 * watchdog's database probe start programs; at the default 1 s they kept
 * both balancers' guests at load 8 and every check timed out, so neither
 * took the VIP. The scenarios here (power-off, kill -9) are noticed by
 * missed adverts and systemd, not by these checks, so slower checks change
 * no measured figure; the namespace tier measures the checks at 1 s. The
 * results record every setting in which the booted fabric differs from
 * what the stack ships.
 */
const EMULATED_GUEST_TUNING = { checkIntervalSeconds: 5, probeIntervalSeconds: 5 };

/** Issue 11: no request slower than this across an application node's power-off. */
const APP_POWEROFF_GOAL_S = 2;
/** The request stream's connections across the application node's power-off (see app-poweroff). */
const APP_POWEROFF_CONNECTIONS = 16;
/** Issue 11: the fabric VIP answers again this soon after its holder's power-off, as a median over runs under TCG. */
const VIP_POWEROFF_GOAL_S = 1.5;
/** Power-offs of the fabric VIP holder at the shipped advert interval (vip-holder-poweroff); each new boot of the returning balancer costs about 2 min. */
const VIP_POWEROFF_RUNS = 3;
/** Each request of the probes that time a recovery after a fault, as the disruption samplers' deadline. */
const AFTER_FAULT_DEADLINE_S = shared.AFTER_FAULT_DEADLINE_S;
/** The hypervisor stall of holder-pause: QEMU's default live-migration downtime. */
const HOLDER_PAUSE_MS = 300;
/** What /sys/class/watchdog/watchdog0/identity says when the i6300esb driver drives the device. */
const WATCHDOG_IDENTITY = 'i6300ESB timer';
/** The device fires at most this late after hardwareTimeoutSeconds (the daemon fed it up to its 5 s interval before the hang). */
const WATCHDOG_SLACK_S = 5;
/**
 * The disruption sampler on the VMs: the GUI (new and reused connections)
 * and each device TCP port, every 200 ms rather than the namespace tier's
 * 50 ms. Under TCG a TLS handshake costs the balancer's emulated CPU tens of
 * milliseconds, and 20 new connections a second per frontend would starve
 * the very keepalived whose timing is measured.
 */
const E2E_SAMPLER = {
  intervalMs: 200,
  targets: (model: FabricModel) => frontendTargets(model).filter((t) => t.name === 'gui' || t.tcp !== undefined),
};

/** A developer's shortcut to the day-2 steps alone (see runStack); never set in CI. Declared
 * before REQUIRED_IDS, which reads it through withDay2(). */
const DAY2_ONLY = process.env.E2E_DAY2_ONLY === '1';
/** The ids every example stack must record (besides every node's boot), as issues 9 and 11 list them. */
const FABRIC_IDS = ['vip-after-boot', 'balancing', 'firewall', 'app-kill', 'app-hang', 'holder-pause', 'haproxy-crash', 'kernel-hang', 'db-write', 'app-poweroff', 'db-primary-poweroff', 'vip-holder-poweroff', 'db-old-primary-returns', 'one-vip-holder'];
/**
 * Per stack, fixed rather than derived from the model: a model that lost a
 * role shows as a failed id, not as a scenario that quietly did not run.
 */
const REQUIRED_IDS: Record<string, string[]> = {
  // Day 2 (issue 10) on the three-node fabric: grow, shrink, a setting, a refused bundle, replaced nodes.
  'kvm-fabric': [...FABRIC_IDS, ...(withDay2() ? DAY2_IDS : [])],
  'kvm-fabric-full': [...FABRIC_IDS, 'monitoring-vip', 'device-vip', 'monitoring-vip-poweroff', 'device-vip-poweroff'],
};
/** The example KVM stacks, each booted on a network of its own, one after the other. */
const STACKS = Object.keys(REQUIRED_IDS);

/** CI=true (or any value but false/0): a skip would hide a tier that did not run, so it fails instead. */
const IN_CI = !!process.env.CI && !['false', '0'].includes(process.env.CI.toLowerCase());

/**
 * Day 2 runs on kvm-fabric unless E2E_DAY2=0, a developer's shortcut that
 * saves about 7 min (1145 s against 759 s for kvm-fabric, measured); main()
 * refuses it under CI, where it would hide a tier that did not run.
 */
function withDay2(): boolean {
  return process.env.E2E_DAY2 !== '0' || DAY2_ONLY;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const RESULTS_DIR = path.join(PROJECT_ROOT, 'test-results');

function buildImage(): VmImage {
  const out = execFileSync('bash', [path.join(PROJECT_ROOT, 'e2e', 'image', 'build-appliance-image.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60 * 1000 });
  const last = out.trim().split('\n').pop()!;
  return JSON.parse(last) as VmImage;
}

/**
 * The advert interval of the stack that runs day 2 (kvm-fabric). With the
 * shipped 0.2 s the fabric VIP moved during day 2 in some runs (in one: 3
 * times in day2-grow (186 s into the 415 s apply, while node4 booted) and 2
 * times in day2-shrink), with 4 TCG guests on the host's 2 cores. The likely
 * cause, not isolated yet, is a balancer's guest going without CPU longer than
 * the standby's 0.61 s master-down interval; the namespace tier's day-2 tests
 * move nothing at 0.2 s. kvm-fabric-full keeps the shipped interval and
 * measures the failover goals of issue 11 with it.
 */
const DAY2_EMULATED_ADVERT_INTERVAL_SECONDS = 1;

function tuned(fabric: FabricSpec, stack: string): FabricSpec {
  const day2 = REQUIRED_IDS[stack].includes(DAY2_IDS[0]);
  return {
    ...fabric,
    highAvailability: {
      ...fabric.highAvailability,
      checkIntervalSeconds: EMULATED_GUEST_TUNING.checkIntervalSeconds,
      ...(day2 ? { advertIntervalSeconds: DAY2_EMULATED_ADVERT_INTERVAL_SECONDS } : {}),
    },
    watchdog: { ...fabric.watchdog, probeIntervalSeconds: EMULATED_GUEST_TUNING.probeIntervalSeconds },
    // The client writes through the database VIP (db-write), standing for a reporting tool: the
    // firewall lets only the application servers and the peer in otherwise.
    ...(fabric.database ? { firewall: { ...fabric.firewall, databaseClientCidrs: [`${CLIENT}/32`] } } : {}),
  };
}

/** Synthesizes the stack as the e2e boots it, and says in which settings that differs from the stack as shipped. */
function synthesize(stack: string, dir: string, edit: (fabric: FabricSpec) => FabricSpec = (f) => f, lockFile?: string): { planFile: string; plan: Json; model: FabricModel; differences: Json } {
  const config = readStackConfig<KvmFabricConfig>(path.join(CONFIG_DIR, `${stack}.yaml`), 'libvirt');
  mkdirSync(path.join(dir, 'shipped'), { recursive: true });
  const shipped = new KvmFabricStack(new App({ outdir: path.join(dir, 'shipped') }), stack, config);
  const app = new App({ outdir: dir });
  // The e2e's own lock: its fabric is not the project's example as deployed (day 2 keeps one lock across its steps).
  const booted = new KvmFabricStack(app, stack, { ...config, fabric: edit(tuned(config.fabric, stack)) }, { lockFile: lockFile ?? path.join(dir, 'appliance-fabric.lock.json') });
  app.synth();
  const planFile = path.join(dir, 'stacks', stack, 'cdk.tf.json');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Json;
  const sizing = booted.fabric.model.nodes[0].sizing;
  return {
    planFile,
    plan,
    model: booted.fabric.model,
    differences: {
      // The fabric's own settings: the e2e's model against the shipped stack's model.
      fabric: differingSettings(shipped.fabric.model, booted.fabric.model),
      // What the VMs get instead of what the plan asks of libvirt.
      vm: [
        { setting: 'memoryMiB', shipped: sizing.memoryMiB, e2e: VM_MEMORY_MIB },
        { setting: 'vcpus', shipped: sizing.vcpus, e2e: 1 },
        { setting: 'accelerator', shipped: 'kvm', e2e: `tcg (cpu ${QEMU_CPU})` },
        { setting: 'boot', shipped: 'the base image through its boot loader', e2e: `direct kernel boot: ${KERNEL_COMMAND_LINE}` },
        { setting: 'packages', shipped: 'installed by cloud-init from the Debian mirror', e2e: 'carried by the image (no mirror on the test network)' },
      ],
    },
  };
}

/** Runs every example KVM stack in turn (or the ones named on the command line), each on a network of its own. */
async function main(): Promise<number> {
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((a) => !STACKS.includes(a));
  if (unknown.length) {
    console.error(`[e2e] unknown stack(s) ${unknown.join(', ')}: name one or more of ${STACKS.join(', ')}, or none for all`);
    return 2;
  }
  const stacks = asked.length ? asked : STACKS;
  const stale = TestNetwork.removeStale();
  if (stale.length) console.log(`[e2e] removed network namespaces left by killed runs: ${stale.join(', ')}`);
  if (!withDay2()) {
    if (IN_CI) {
      console.error('[e2e] E2E_DAY2=0 under CI: day 2 is part of the VM tier and may not be skipped there; unset E2E_DAY2');
      return 2;
    }
    console.log('[e2e] E2E_DAY2=0: day 2 (grow, shrink, setting, refused bundle, replaced nodes through terraform apply) is NOT part of this run');
  }
  if (!terraformAvailable()) {
    const why = 'no terraform binary on PATH: the e2e evaluates each plan with it (install terraform >= 1.5)';
    if (IN_CI) {
      for (const stack of stacks) {
        const r = new StackResults(stack);
        r.fail('terraform', 'terraform available', why);
        r.write(RESULTS_DIR, { ci: true });
      }
      console.log(`e2e: 0 passed, ${stacks.length} failed`);
      return 1;
    }
    const banner = '#'.repeat(78);
    console.error(`${banner}\n# [e2e] SKIPPED: ${why}.\n# Nothing was booted and nothing was tested. Under CI=true this is a failure.\n${banner}`);
    return 0;
  }
  const started = Date.now();
  const image = buildImage();
  const imageSeconds = (Date.now() - started) / 1000;
  const all: StackResults[] = [];
  for (const stack of stacks) {
    const results = new StackResults(stack);
    all.push(results);
    await runStack(stack, image, results);
  }
  console.log(`[e2e] total ${((Date.now() - started) / 1000).toFixed(0)} s (image ${imageSeconds.toFixed(0)} s)`);
  for (const r of all) r.printTable();
  const passed = all.reduce((n, r) => n + r.passed, 0);
  const failed = all.reduce((n, r) => n + r.failed, 0);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function runStack(stack: string, image: VmImage, results: StackResults): Promise<void> {
  const record = (r: Result) => results.record(r);
  const work = mkdtempSync(path.join(tmpdir(), 'afe2e-'));
  const namespace = `afe2e-${process.pid}-${STACKS.indexOf(stack)}`;
  let network = new TestNetwork(namespace, `${CLIENT}/24`);
  /** Every VM this run started (day 2's too), destroyed by the teardown by its own id. */
  const started: QemuVm[] = [];
  /** The fabric's VMs the scenarios act on, one per node (after day 2, the ones it left running). */
  let vms: QemuVm[] = [];
  const teardown = () => {
    for (const vm of started) vm.destroy();
    network.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    teardown();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stackStarted = Date.now();
  let differences: Json = {};
  let why = 'an earlier step failed';
  try {
    const synthesized = synthesize(stack, path.join(work, 'cdktf.out'));
    const { planFile, plan, model } = synthesized;
    differences = synthesized.differences;
    const evaluation = evaluateCloudInitDisks(planFile);
    const fabricName = Object.values(plan.resource.libvirt_domain as Json)[0].name.split('-')[0] as string;
    const outputs = Object.fromEntries(Object.entries(plan.output as Json).map(([k, v]) => [k.replace(/_[0-9A-F]{8}$/, ''), (v as Json).value]));
    const vip: string = outputs.Fabric_vip;
    const dbVip: string | undefined = outputs.Fabric_database_vip;
    const monitoringAddress: string = outputs.Fabric_monitoring_address;
    const deviceVip: string | undefined = outputs.Fabric_device_vip;
    const passwordIn = (variables: Record<string, string>) => Object.entries(variables).find(([k]) => k.includes('database_application_password'))?.[1];
    let appPassword = passwordIn(evaluation.variables);
    // The database CA the nodes got: the client verifies the server with it, as an application server does.
    const databaseCaIn = (variables: Record<string, string>) => Object.entries(variables).find(([k]) => k.includes('database_ca_certificate') && k.endsWith('__cert_pem'))?.[1];
    let databaseCa = databaseCaIn(evaluation.variables);
    // Roles come from the fabric's model (not guessed from the user-data's text).
    // Dedicated monitoring nodes (not the balancers) answer on a VIP of their own.
    const dedicatedMonitoring = model.monitoring.dedicated && model.monitoring.vrrp !== undefined;
    const monitoringNodes = dedicatedMonitoring ? [...model.monitoring.members] : [];
    const monitoringPort = model.monitoring.service.port;
    results.expect([...evaluation.seeds.map((s) => `boot-${s.node}`), ...REQUIRED_IDS[stack]]);

    // The bridge also answers as the management network's gateway, as a router would: the
    // database promotion hook pings it to tell a dead peer from its own isolation. It also holds
    // the DNS and NTP servers' addresses with nothing listening: a lookup (apt, mariadb's reverse
    // lookup of a client) is refused at once instead of waiting for a timeout.
    const firstNet = parse(evaluation.seeds[0].networkConfig) as Json;
    const eth0 = firstNet.ethernets.eth0 as Json;
    const gateway = eth0.routes[0].via as string;
    const servers = [...new Set<string>([...((eth0.nameservers?.addresses as string[]) ?? []), ...(((config(evaluation.seeds[0].userData).ntp as Json)?.servers as string[]) ?? [])])].filter((a) => a !== gateway && a !== CLIENT);
    const deviceNet = firstNet.ethernets.eth3 as Json | undefined;
    network = new TestNetwork(namespace, `${CLIENT}/24`, [gateway, ...servers], deviceNet ? `${DEVICE_CLIENT}/${String(deviceNet.addresses[0]).split('/')[1]}` : undefined);
    network.create();
    // Every request of the client must come from CLIENT, the address the firewall settings above name.
    for (const to of [vip, dbVip].filter((a): a is string => a !== undefined)) network.assertSource(to, CLIENT);
    const domainOf = (node: string) => Object.values(plan.resource.libvirt_domain as Json).find((d) => d.name === `${fabricName}-${node}`) as Json;
    let bootStart = Date.now();
    let booted: Result[] = [];
    // Day 2 runs on the stacks whose required ids list it (kvm-fabric), and only there.
    const day2Here = REQUIRED_IDS[stack].includes(DAY2_IDS[0]);
    if (day2Here) {
      // Day 2 first: Terraform boots the fabric and changes it; the scenarios below run on the fabric it leaves.
      const day2 = await runDay2({ stack, image, network, work, results, vms: started, deviceNic: deviceNet !== undefined, synthesize: (dir, edit, lockFile) => synthesize(stack, dir, edit, lockFile) });
      vms = day2.vms;
      appPassword = passwordIn(day2.variables);
      databaseCa = databaseCaIn(day2.variables);
      booted = evaluation.seeds.map((seed) => {
        const boot = day2.boots.find((b) => b.node === seed.node);
        if (!boot) return record({ id: `boot-${seed.node}`, scenario: `boot ${seed.node}`, outcome: 'fail', detail: "day 2's terraform apply did not boot it (see day2-boot)" });
        return record({
          id: `boot-${seed.node}`,
          scenario: `boot ${seed.node}`,
          outcome: 'pass',
          seconds: boot.seconds,
          detail: `booted by day 2's terraform apply (its domain stand-in); cloud-init finished (serial console); result.json: no error${boot.allowed.length ? `; allowed: ${boot.allowed.join('; ')}` : ''}`,
          measured: { booted_by: 'terraform', allowedErrors: boot.allowed },
        });
      });
      // The VIP's first answer is measured from the end of day 2.
      bootStart = Date.now();
    }
    // E2E_DAY2_ONLY=1 (a developer's shortcut): only the day-2 steps run; every other expected id is then recorded as failed.
    if (!DAY2_ONLY) {
      if (!day2Here) {
        evaluation.seeds.forEach((seed, i) => {
          const dir = path.join(work, seed.node);
          mkdirSync(dir, { recursive: true });
          const vm = applianceVm(seed, domainOf(seed.node), network, String(i), deviceNet !== undefined, dir, image);
          vms.push(vm);
          started.push(vm);
        });
        // Boot: cloud-init finished (console), then its own verdict (result.json) and where the time went.
        vms.forEach((vm) => vm.start());
        booted = await Promise.all(
          vms.map(async (vm) => {
            const seconds = await vm.waitForCloudInit(BOOT_TIMEOUT_MS);
            if (seconds === undefined) return record({ id: `boot-${vm.spec.name}`, scenario: `boot ${vm.spec.name}`, outcome: 'fail', detail: `cloud-init did not finish in ${BOOT_TIMEOUT_MS / 1000} s` });
            const { verdict, phases } = await cloudInitReport(vm);
            return record({
              id: `boot-${vm.spec.name}`,
              scenario: `boot ${vm.spec.name}`,
              outcome: verdict.unexpected.length === 0 ? 'pass' : 'fail',
              seconds,
              detail: `cloud-init finished (serial console); result.json: ${verdict.unexpected.length ? `errors ${JSON.stringify(verdict.unexpected)}` : 'no error'}${verdict.allowed.length ? `; allowed: ${verdict.allowed.map((a) => a.because).join('; ')}` : ''}`,
              measured: { phases, allowedErrors: verdict.allowed },
            });
          }),
        );
      }
      const vmNamed = (name: string) => vms.find((v) => v.spec.name === name);
      if (booted.some((r) => r.outcome !== 'pass')) {
        why = 'not every VM booted cleanly';
        throw new Error(why);
      }

      // --- The probes. Each asks for positive evidence.
      // The fabric as the shared scenarios (test/scenarios) see it: the same definitions run in the namespace tier.
      const fabric = new VmFabric(model, () => vms, network, { targets: E2E_SAMPLER.targets(model), intervalMs: E2E_SAMPLER.intervalMs }, deviceNet !== undefined);
      /** GET with -f: an HTTP error is a failure; the body names the node that answered. */
      const get = (url: string, timeoutS = 1) => shared.clientGet(fabric, url, timeoutS);
      /** The fabric VIP answers with the name of an application server that is running. */
      const vipAnswer = (timeoutS = 1) => shared.fabricAnswer(fabric, timeoutS);
      const vipAnswers = async () => (await vipAnswer()).node !== undefined;
      /**
       * After a fault, a new request starts every 100 ms with its own deadline
       * (firstSuccess), as the disruption samplers do: the first answer is when a
       * client could have been served again, not when one attempt's timeout ran out.
       */
      const vipServes = () => shared.fabricServes(fabric);
      /** Who holds `address`, asked inside every running guest. */
      const holdersOf = async (address: string): Promise<QemuVm[]> => (await fabric.holders(address)).map((name) => vmNamed(name)!);
      const soleHolder = async (address: string, what: string): Promise<QemuVm> => {
        const holders = await holdersOf(address);
        if (holders.length !== 1) throw new Error(`${what} ${address} held by [${holders.map((h) => h.spec.name).join(', ')}], not by exactly one node`);
        return holders[0];
      };
      /** Records a failure of `id` instead of stopping the stack when one scenario throws. */
      const scenario = async (id: string, title: string, body: () => Promise<void>) => {
        try {
          await body();
        } catch (err) {
          if (!results.has(id)) record({ id, scenario: title, outcome: 'fail', detail: (err as Error).message });
          else console.log(`[e2e] ${stack}: after ${id}: ${(err as Error).message}`);
        }
      };

      /** A shared scenario's result as this tier's result: it passes when it found no problem. */
      const recordShared = (r: ScenarioResult) =>
        record({
          id: r.id,
          scenario: r.title,
          outcome: r.problems.length === 0 ? 'pass' : 'fail',
          seconds: r.seconds,
          detail: r.problems.length ? `${r.problems.join('; ')}; ${r.detail}` : r.detail,
          ...(r.total !== undefined ? { total: r.total, failed: r.failed, max_latency_s: r.max_latency_s } : r.failed !== undefined ? { failed: r.failed } : {}),
          ...(r.measured ? { measured: r.measured } : {}),
        });
      /** Runs a shared scenario (test/scenarios/fabric-scenarios.ts) and records what it found. */
      const sharedScenario = (id: string, title: string, run: () => Promise<ScenarioResult | ScenarioResult[]>) =>
        scenario(id, title, async () => {
          for (const r of [await run()].flat()) recordShared(r);
        });

      const vipUp = await waitFor(vipAnswers, 180000, 500);
      const firstAnswer = await vipAnswer();
      record({ id: 'vip-after-boot', scenario: 'fabric VIP answers after boot', outcome: vipUp !== undefined && firstAnswer.node ? 'pass' : 'fail', seconds: (Date.now() - bootStart) / 1000, detail: `https://${vip}/ from the client: HTTP 200 from ${firstAnswer.node ?? `nobody (${firstAnswer.body.slice(0, 80) || 'no answer'})`}` });
      if (vipUp === undefined) await printGuestState(vms, model);

      // 1. Balancing over every application server (no cookie: round robin): shared with the namespace tier.
      await sharedScenario('balancing', 'balancing over every application server', () => shared.balancing(fabric));

      // 2. The host firewall, loaded on every node: shared with the namespace tier.
      await sharedScenario('firewall', 'every node drops what the client may not reach', () => shared.firewall(fabric));

      // Dedicated monitoring nodes answer on their own VIP; devices reach the device VIP on eth3.
      const monitoringAnswer = async () => {
        const r = await get(`http://${monitoringAddress}:${monitoringPort}/`, 1);
        return r.ok && monitoringNodes.includes(r.body) && vmNamed(r.body)?.running ? r.body : undefined;
      };
      const monitoringUp = async () => (await monitoringAnswer()) !== undefined;
      const monitoringServes = async () => {
        const r = await get(`http://${monitoringAddress}:${monitoringPort}/`, AFTER_FAULT_DEADLINE_S);
        return r.ok && monitoringNodes.includes(r.body) && vmNamed(r.body)?.running === true;
      };
      if (dedicatedMonitoring) {
        await scenario('monitoring-vip', 'monitoring VIP answers from a monitoring node', async () => {
          const up = await waitFor(monitoringUp, 60000, 500);
          const by = await monitoringAnswer();
          record({ id: 'monitoring-vip', scenario: 'monitoring VIP answers from a monitoring node', outcome: up !== undefined && by ? 'pass' : 'fail', seconds: up, detail: `http://${monitoringAddress}:${monitoringPort}/ answered by ${by ?? 'nobody'}` });
        });
      }
      const pingDevice = (deadlineS = 1) => shared.deviceAnswers(fabric, deadlineS);
      const deviceServes = () => pingDevice(AFTER_FAULT_DEADLINE_S);
      if (deviceVip) {
        await scenario('device-vip', 'device VIP answers on the device network', async () => {
          const up = await waitFor(pingDevice, 30000, 500);
          const holder = await soleHolder(deviceVip, 'device VIP');
          record({ id: 'device-vip', scenario: 'device VIP answers on the device network', outcome: up !== undefined ? 'pass' : 'fail', seconds: up, detail: `ping ${deviceVip} from ${DEVICE_CLIENT} on the eth3 bridge; held by ${holder.spec.name}` });
        });
      }

      // 4. Kill the application service inside a VM: systemd brings it back, with a new main PID.
      // 4b. Hang it instead (SIGSTOP): the process stays, so systemd sees nothing; only the fabric watchdog's probes can tell.
      // Both shared with the namespace tier; the same node also loses power under load below (app-poweroff).
      const victim = vmNamed(shared.serviceFaultNode(fabric))!;
      await sharedScenario('app-kill', `killed application service on ${victim.spec.name} restarted`, () => shared.applicationKilled(fabric, victim.spec.name));
      await sharedScenario('app-hang', `hung application service on ${victim.spec.name} restarted by the watchdog`, () => shared.applicationHung(fabric, victim.spec.name));

      // --- Faults of the VIP holder itself, each timed from the client with the shared disruption
      // sampler and the VIP's moves (each new MAC the client learns for it is a move).
      const sampleFrontends = () => fabric.sampler(120000);
      /** The longest outage any sampler saw (its disruption), in seconds: what a client lived through. */
      const longestDisruption = (d: readonly SamplerSummary[]) => (d.length ? Math.max(...d.map((x) => x.disruptionS)) : undefined);
      /** The units that make `vm` a working member of the fabric again after it returns. */
      const unitsOf = (vm: QemuVm) => shared.memberUnits(fabric, vm.spec.name);

      // 6. A 0.3 s hypervisor stall of the VIP holder (its QEMU stopped): shorter than the master-down
      // interval, so the VIP must stay where it is and no sample may fail. Shared with the namespace tier.
      await sharedScenario('holder-pause', 'VIP holder stalled for 0.3 s', () => shared.holderPause(fabric, HOLDER_PAUSE_MS));

      // 7. HAProxy SIGKILLed on the VIP holder: keepalived's vrrp_track_process (the real one, which the
      // namespace tier cannot run) moves the VIP to the other balancer, and systemd restarts HAProxy.
      await scenario('haproxy-crash', 'HAProxy killed on the VIP holder', async () => {
        const holder = await soleHolder(vip, 'fabric VIP');
        const haproxyPid = async () => {
          const r = await holder.exec(`systemctl show --property=MainPID --value ${HAPROXY_UNIT}; systemctl is-active ${HAPROXY_UNIT}`);
          const [pid, state] = r.stdout.trim().split('\n');
          return state === 'active' ? Number(pid) : 0;
        };
        const before = await haproxyPid();
        if (!(before > 0)) throw new Error(`HAProxy on ${holder.spec.name} is not active before the kill`);
        const watch = new VipMoveWatch(network.namespace, vip);
        watch.start();
        const sampler = sampleFrontends();
        let disruption: SamplerSummary[];
        let moves: ReturnType<VipMoveWatch['stop']>;
        let killedAt = 0;
        let answered: number | undefined;
        let restarted: number | undefined;
        try {
          await sleep(2000);
          killedAt = Date.now();
          const killed = await holder.exec(`kill -KILL ${before}`);
          if (killed.exitcode !== 0) throw new Error(`kill -KILL ${before} on ${holder.spec.name} exited ${killed.exitcode}: ${killed.stdout.trim()}`);
          [answered, restarted] = await Promise.all([
            firstSuccess(async () => watch.movedAt.length > 0 && (await vipServes()), 30000, 100, killedAt),
            waitFor(async () => {
              const now = await haproxyPid().catch(() => 0);
              return now > 0 && now !== before;
            }, 60000, 250, killedAt),
          ]);
          await sleep(3000);
        } finally {
          disruption = await sampler.stop();
          moves = watch.stop();
        }
        const after = await holdersOf(vip);
        const movedS = moves.movedAt.length ? (moves.movedAt[0] - killedAt) / 1000 : undefined;
        const ok = moves.moves === 1 && answered !== undefined && restarted !== undefined && after.length === 1 && after[0] !== holder;
        record({
          id: 'haproxy-crash',
          scenario: `HAProxy (main PID ${before}) SIGKILLed on VIP holder ${holder.spec.name}`,
          outcome: ok && disruption.length > 0 ? 'pass' : 'fail',
          seconds: longestDisruption(disruption),
          detail: `longest disruption ${longestDisruption(disruption)?.toFixed(2) ?? '-'} s (samplers below); VIP moved ${moves.moves} time(s)${movedS !== undefined ? `, first after ${movedS.toFixed(2)} s` : ''} (vrrp_track_process, nopreempt: it stays); the first client request through the new holder answered ${answered?.toFixed(2) ?? '-'} s after the kill (a new one every 100 ms); HAProxy restarted by systemd after ${restarted?.toFixed(2) ?? '-'} s; held by [${after.map((h) => h.spec.name).join(', ')}] after; ${describeDisruption(disruption)}`,
          measured: { vip_moved_s: movedS, haproxy_restarted_s: restarted, vip_moves: moves.moves, disruption },
        });
      });

      // 8. The VIP holder's kernel hangs (a panic that does not reboot): the watchdog daemon stops
      // feeding the hypervisor's i6300esb device, which resets the VM within hardwareTimeoutSeconds;
      // meanwhile the standby holds the VIP, and the node rejoins without taking it back.
      await scenario('kernel-hang', "VIP holder's kernel hangs", async () => {
        const holder = await soleHolder(vip, 'fabric VIP');
        const timeoutS = model.watchdog.hardwareTimeoutSeconds;
        const device = await holder.exec('cat /sys/class/watchdog/watchdog0/identity; systemctl is-active watchdog.service');
        const [identity, daemon] = device.stdout.trim().split('\n');
        if (identity !== WATCHDOG_IDENTITY || daemon !== 'active') throw new Error(`${holder.spec.name}: /dev/watchdog0 is '${identity ?? ''}' (want ${WATCHDOG_IDENTITY}, the hypervisor's device) and the watchdog daemon is ${daemon ?? 'unknown'}: a hung kernel would not be reset. The image's kernel needs the i6300esb driver (Debian: linux-image-amd64, not the cloud kernel)`);
        const bootBefore = await holder.bootId();
        const units = unitsOf(holder);
        const watch = new VipMoveWatch(network.namespace, vip);
        watch.start();
        const sampler = sampleFrontends();
        let disruption: SamplerSummary[] = [];
        let moves: ReturnType<VipMoveWatch['stop']>;
        let hungAt: number | undefined;
        let vipBack: number | undefined;
        let resetS: number | undefined;
        let bootedS: number | undefined;
        let rejoinedS: number | undefined;
        let database = '';
        try {
          await sleep(2000);
          const serialBefore = holder.serial().length;
          const watchdogFired = holder.nextEvent('WATCHDOG', (timeoutS + 60) * 1000);
          // Panic with reboot off: the kernel stops dead, as a hard hang does; only the device can help.
          // The agent's answer may be lost in the panic; the console is the evidence.
          await holder.exec('sysctl -q -w kernel.panic=0 kernel.sysrq=1 && { sleep 2; echo c > /proc/sysrq-trigger; } > /dev/null 2>&1 &', 10000).catch(() => undefined);
          await waitFor(() => {
            if (holder.serial().indexOf('Kernel panic - not syncing', serialBefore) >= 0) hungAt ??= Date.now();
            return hungAt !== undefined;
          }, 20000, 50);
          if (hungAt === undefined) {
            watchdogFired.stop();
            throw new Error(`${holder.spec.name}: no kernel panic on the serial console within 20 s of the sysrq trigger`);
          }
          const since = hungAt;
          vipBack = await firstSuccess(vipServes, 30000, 100, since);
          disruption = await sampler.stop();
          // QEMU's WATCHDOG event: the device fired and (-action watchdog=reset, as the plan's domain asks) reset the VM.
          const firedAt = await watchdogFired.at;
          if (firedAt !== undefined) resetS = (firedAt - since) / 1000;
          bootedS = await waitFor(async () => (await holder.bootId(5000).catch(() => bootBefore)) !== bootBefore, 600000, 3000, since);
          rejoinedS = await waitFor(async () => (await holder.exec(`systemctl is-active --quiet ${units.join(' ')}`, 10000).catch(() => ({ exitcode: -1 }))).exitcode === 0, 300000, 2000, since);
          if (model.database?.members.includes(holder.spec.name)) {
            // A database node that hung rejoins as a standby, or stays out as stale (see the database hooks).
            await waitFor(async () => {
              const slave = (await holder.exec('mariadb -e "SHOW SLAVE STATUS\\G"').catch(() => ({ exitcode: -1, stdout: '' }))).stdout;
              const stale = (await holder.exec(`cat ${DATABASE_INELIGIBLE_FILE}`).catch(() => ({ exitcode: -1, stdout: '' }))).stdout.trim() === '1';
              database = /Slave_IO_Running: Yes/.test(slave) && /Slave_SQL_Running: Yes/.test(slave) ? 'replicates as standby' : stale ? 'stays out as stale' : '';
              return database !== '';
            }, 300000, 3000);
          }
          await sleep(3000);
        } finally {
          if (sampler.running) disruption = await sampler.stop();
          moves = watch.stop();
        }
        const vips = [['fabric', vip], ...(dbVip ? [['database', dbVip]] : []), ...(deviceVip ? [['device', deviceVip]] : []), ...(dedicatedMonitoring ? [['monitoring', monitoringAddress]] : [])] as [string, string][];
        const held = await Promise.all(vips.map(async ([what, address]) => [what, await fabric.holders(address)] as const));
        const fabricHolders = held[0][1];
        const databaseOk = !model.database?.members.includes(holder.spec.name) || database !== '';
        const ok =
          vipBack !== undefined && resetS !== undefined && resetS <= timeoutS + WATCHDOG_SLACK_S && bootedS !== undefined && rejoinedS !== undefined && databaseOk &&
          moves.moves === 1 && held.every(([, h]) => h.length === 1) && fabricHolders[0] !== holder.spec.name;
        record({
          id: 'kernel-hang',
          scenario: `kernel of VIP holder ${holder.spec.name} hung (sysrq panic, no reboot)`,
          outcome: ok && disruption.length > 0 ? 'pass' : 'fail',
          seconds: longestDisruption(disruption),
          detail:
            `longest disruption ${longestDisruption(disruption)?.toFixed(2) ?? '-'} s (samplers below; a sample that waits out its 2 s deadline counts 2 s); a client's curl answered through the standby ${vipBack?.toFixed(2) ?? '-'} s after the panic showed on the console; the i6300esb fired and reset the VM ${resetS?.toFixed(1) ?? '-'} s after the panic showed (QEMU's WATCHDOG event; device timeout ${timeoutS} s, counted from the daemon's last feed); new boot id after ${bootedS?.toFixed(0) ?? '-'} s; ` +
            `${units.join(', ')} active after ${rejoinedS?.toFixed(0) ?? '-'} s${database ? `; the database ${database}` : ''}; VIP moves ${moves.moves}; ${held.map(([what, h]) => `${what} [${h.join(', ')}]`).join('; ')}; ${describeDisruption(disruption)}`,
          measured: { vip_back_s: vipBack, reset_s: resetS, booted_s: bootedS, rejoined_s: rejoinedS, vip_moves: moves.moves, disruption },
        });
      });

      // Database write through its VIP before any failure, over TLS with the server verified against
      // the fabric's database CA. The password goes in a client option file (mode 0600 in the run's
      // own directory), never on a command line.
      const clientOptions = path.join(work, 'database-client.cnf');
      const clientCa = path.join(work, 'database-ca.pem');
      const dbModel = model.database;
      if (appPassword && dbModel && databaseCa) {
        writeFileSync(clientCa, databaseCa);
        writeFileSync(clientOptions, `[client]\nuser=${dbModel.applicationUser}\npassword=${appPassword}\nport=${dbModel.port}\nssl-ca=${clientCa}\nssl-verify-server-cert\n`, { mode: 0o600 });
      }
      let lastWriteError = '';
      const dbWrite = async (marker: string) => {
        if (!dbVip || !appPassword || !dbModel || !databaseCa) return { ok: false, out: 'no database in the plan (or no database CA among its stand-ins)' };
        const r = await network.tryNsAsync(8000, 'mariadb', `--defaults-extra-file=${clientOptions}`, '-h', dbVip, '--connect-timeout=2', dbModel.databaseName, '-e', `CREATE TABLE IF NOT EXISTS e2e (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64)); INSERT INTO e2e (marker) VALUES ('${marker}')`);
        if (!r.ok) lastWriteError = r.out.trim().split('\n').pop() || 'no output (timed out after 8 s)';
        return r;
      };
      const writes = async (marker: string) => (await dbWrite(marker)).ok;
      /** What a database node says when writes or its rejoin fail: units, read_only, replication, eligibility, the hooks' and VRRP's log. */
      const databaseDiagnosis = async (vm: QemuVm): Promise<string> => {
        const r = await vm
          .exec(
            `{ systemctl is-active ${DATABASE_UNIT} keepalived; mariadb --batch --skip-column-names -e "SELECT CONCAT('read_only=', @@global.read_only)"; ` +
              `mariadb -e "SHOW SLAVE STATUS\\G" | grep -E 'Master_Host|Slave_(IO|SQL)_Running:|Last_(IO|SQL)_Error:'; cat ${DATABASE_INELIGIBLE_FILE}; ` +
              `journalctl --no-pager -t ${DATABASE_SYSLOG_TAG} -t ${NOTIFY_SYSLOG_TAG} -t Keepalived_vrrp | tail -n 20; journalctl --no-pager -u ${DATABASE_UNIT} | tail -n 10; } 2>&1`,
            60000,
          )
          .catch((e) => ({ exitcode: -1, stdout: String(e) }));
        return `--- ${vm.spec.name}\n${r.stdout.trim()}`;
      };
      if (dbVip) {
        await scenario('db-write', 'database write through the database VIP', async () => {
          const firstWrite = await waitFor(() => writes('before-failover'), 120000, 1000);
          const holder = await soleHolder(dbVip, 'database VIP');
          if (firstWrite === undefined) console.log(`[e2e] ${stack}: no write through ${dbVip} within 120 s; the database nodes say:\n${(await Promise.all(vms.filter((v) => v.running && model.database?.members.includes(v.spec.name)).map(databaseDiagnosis))).join('\n')}`);
          const refused = firstWrite === undefined ? `; every write refused for 120 s, the last with: ${lastWriteError}` : '';
          record({ id: 'db-write', scenario: 'database write through the database VIP', outcome: firstWrite === undefined ? 'fail' : 'pass', seconds: firstWrite, detail: `${dbVip}:${dbModel?.port} as ${dbModel?.applicationUser}, on ${holder.spec.name}${refused}` });
        });
      }

      // 3. Power off an application server under a steady stream of idempotent requests.
      await scenario('app-poweroff', `power off ${victim.spec.name} under a request stream`, async () => {
        const perSecond = 20;
        const durationMs = 15000;
        const expected = Math.round((perSecond * durationMs) / 1000);
        // Enough connections that the requests held by the dying node (a third of those sent before
        // its checks mark it DOWN, each for up to the read timeout) do not queue the others in this
        // client; the slowest request's queue time is recorded to show it.
        const stream = streamRequests(network.namespace, `https://${vip}/`, perSecond, durationMs, APP_POWEROFF_CONNECTIONS);
        await sleep(5000);
        const offAt = Date.now();
        await victim.powerOff();
        const s = await stream;
        // The goal is about the requests the power-off could touch: those still waiting at that moment
        // or sent after it. The stream's first requests each open a TLS connection on the emulated
        // balancer and may be slow for that alone, seconds before the fault; they are reported apart.
        const offAtMs = offAt - s.startedAt;
        const across = s.answered.filter(([sentAtMs, latencyMs]) => sentAtMs + latencyMs >= offAtMs);
        const acrossSlowestS = Math.max(0, ...across.map(([, latencyMs]) => latencyMs)) / 1000;
        const goalMet = acrossSlowestS <= APP_POWEROFF_GOAL_S;
        const overall = s.slowest
          ? `; the slowest of the whole stream took ${(s.slowest.latencyMs / 1000).toFixed(2)} s, sent ${((s.slowest.sentAtMs - offAtMs) / 1000).toFixed(2)} s from the power-off, queued ${(s.slowest.queuedMs / 1000).toFixed(2)} s in the client, on a ${s.slowest.reusedConnection ? 'reused' : 'new'} connection`
          : '';
        record({
          id: 'app-poweroff',
          scenario: `power off ${victim.spec.name} under a request stream`,
          outcome: s.failed === 0 && s.sent === expected ? 'pass' : 'fail',
          // Issue 11's goal (none slower than 2 s) is recorded, not yet required: under TCG the retry's answer adds to the 1.5 s read timeout.
          detail: `${s.failed} failed of ${s.sent} GETs at ${perSecond}/s over ${APP_POWEROFF_CONNECTIONS} kept-alive connections ${JSON.stringify(s.failures)}${s.failed ? ` ${JSON.stringify(s.failureDetails)}` : ''}; of the ${across.length} waiting at the power-off or sent after it, the slowest answered in ${acrossSlowestS.toFixed(2)} s (goal <= ${APP_POWEROFF_GOAL_S} s: ${goalMet ? 'met' : 'missed'}; read timeout ${model.loadBalancer.readTimeoutSeconds} s)${overall}`,
          total: s.sent,
          failed: s.failed,
          max_latency_s: acrossSlowestS,
          measured: { across_power_off: across.length, stream_slowest_s: s.slowestMs / 1000, stream_max_latency_s: s.maxLatencyMs / 1000, goal_s: APP_POWEROFF_GOAL_S, goal_met: goalMet },
        });
      });

      // Which node holds which VIP before the power-offs, asked inside the guests.
      let fabricHolder: QemuVm | undefined;
      let monitoringHolder: QemuVm | undefined;
      let deviceHolder: QemuVm | undefined;
      await scenario('vip-holder-poweroff', 'fabric VIP holder found', async () => {
        fabricHolder = await soleHolder(vip, 'fabric VIP');
      });
      if (dedicatedMonitoring) {
        await scenario('monitoring-vip-poweroff', 'monitoring VIP holder found', async () => {
          monitoringHolder = await soleHolder(monitoringAddress, 'monitoring VIP');
        });
      }
      if (deviceVip) {
        await scenario('device-vip-poweroff', 'device VIP holder found', async () => {
          deviceHolder = await soleHolder(deviceVip, 'device VIP');
          if (deviceHolder !== fabricHolder) throw new Error(`device VIP on ${deviceHolder.spec.name} but fabric VIP on ${fabricHolder?.spec.name ?? 'nobody'}: they move as one sync group`);
        });
      }

      /** The fabric VIP after `holder` lost power: answers from a running application server. */
      const recordVipBack = (holder: QemuVm, seconds: number | undefined, by: string | undefined, same: string) =>
        record({ id: 'vip-holder-poweroff', scenario: `power off fabric VIP holder ${holder.spec.name}${same}`, outcome: seconds !== undefined && by ? 'pass' : 'fail', seconds, detail: `HTTP 200 from ${by ?? 'nobody'}, measured from the client from the power-off, a new request every 100 ms (${AFTER_FAULT_DEADLINE_S} s each)` });
      const recordMonitoringBack = (holder: QemuVm, seconds: number | undefined, by: string | undefined, same: string) =>
        record({ id: 'monitoring-vip-poweroff', scenario: `power off monitoring VIP holder ${holder.spec.name}${same}`, outcome: seconds !== undefined && by !== undefined && by !== holder.spec.name ? 'pass' : 'fail', seconds, detail: `answered by ${by ?? 'nobody'}, a new request every 100 ms (${AFTER_FAULT_DEADLINE_S} s each) from the power-off` });
      const recordDeviceBack = (holder: QemuVm, seconds: number | undefined, same: string) => recordShared(shared.deviceVipBack(holder.spec.name, seconds, same));

      // 5. Power off the database primary: the standby is promoted and takes writes through the database VIP.
      if (dbVip) {
        let dbHolder: QemuVm | undefined;
        let newPrimary: QemuVm | undefined;
        await scenario('db-primary-poweroff', 'power off the database primary', async () => {
          dbHolder = await soleHolder(dbVip, 'database VIP');
          const old = dbHolder;
          // Every time below counts from the kill, and the probes run side by side. When the database
          // primary also holds the fabric VIP (the original's first node) or the monitoring VIP
          // (kvm-fabric-full's dedicated pair), those are timed from this same power-off.
          const withVip = old === fabricHolder;
          const withMonitoring = old === monitoringHolder;
          const withDevice = old === deviceHolder;
          const offAt = Date.now();
          await old.powerOff();
          const [dbBack, vipBack, monitoringBack, deviceBack] = await Promise.all([
            waitFor(() => writes('after-failover'), 180000, 500, offAt),
            withVip ? firstSuccess(vipServes, 60000, 100, offAt) : Promise.resolve(undefined),
            withMonitoring ? firstSuccess(monitoringServes, 60000, 100, offAt) : Promise.resolve(undefined),
            withDevice ? firstSuccess(deviceServes, 60000, 100, offAt) : Promise.resolve(undefined),
          ]);
          const holders = await holdersOf(dbVip);
          newPrimary = holders.length === 1 && holders[0] !== old ? holders[0] : undefined;
          record({
            id: 'db-primary-poweroff',
            scenario: `power off database primary ${old.spec.name}: write through the database VIP`,
            outcome: dbBack !== undefined && newPrimary !== undefined ? 'pass' : 'fail',
            seconds: dbBack,
            detail: `${dbBack !== undefined ? 'the write succeeded' : `no write for 180 s, the last refused with: ${lastWriteError}`}; database VIP held by [${holders.map((h) => h.spec.name).join(', ')}]`,
          });
          const same = ' (the same power-off as the database primary)';
          if (withVip) recordVipBack(old, vipBack, (await vipAnswer()).node, same);
          if (withMonitoring) recordMonitoringBack(old, monitoringBack, await monitoringAnswer(), same);
          if (withDevice) recordDeviceBack(old, deviceBack, same);
        });

        // 5b. The old primary returns: it must not take the database VIP back.
        await scenario('db-old-primary-returns', 'the old database primary returns', async () => {
          const old = dbHolder;
          if (!old || !newPrimary) throw new Error('no database failover to return from');
          old.powerOn();
          const returned = await waitFor(async () => (await old.exec('systemctl is-active --quiet keepalived', 5000).catch(() => ({ exitcode: -1 }))).exitcode === 0, 300000, 2000);
          // It rejoins as a standby, or stays out as stale: wait (bounded) for either. After a power-off,
          // InnoDB recovery inside a starved guest can take minutes before the hooks run.
          let replicating = false;
          let stale = false;
          await waitFor(async () => {
            const slave = (await old.exec('mariadb -e "SHOW SLAVE STATUS\\G"').catch(() => ({ exitcode: -1, stdout: '' }))).stdout;
            replicating = /Slave_IO_Running: Yes/.test(slave) && /Slave_SQL_Running: Yes/.test(slave);
            stale = (await old.exec(`cat ${DATABASE_INELIGIBLE_FILE}`).catch(() => ({ exitcode: -1, stdout: '' }))).stdout.trim() === '1';
            return replicating || stale;
          }, 300000, 3000);
          const wrote = await waitFor(() => writes('after-return'), 60000, 1000);
          const holders = await holdersOf(dbVip);
          if (!replicating && !stale) console.log(`[e2e] ${old.spec.name} neither replicates nor stays out:\n${await databaseDiagnosis(old)}`);
          const stays = holders.length === 1 && holders[0] === newPrimary;
          record({
            id: 'db-old-primary-returns',
            scenario: `old primary ${old.spec.name} returns`,
            outcome: returned !== undefined && stays && wrote !== undefined && (replicating || stale) ? 'pass' : 'fail',
            seconds: returned,
            detail: `keepalived up after ${returned?.toFixed(0) ?? '-'} s; database VIP held by [${holders.map((h) => h.spec.name).join(', ')}] (was ${newPrimary.spec.name}); write ${wrote !== undefined ? 'succeeded' : 'failed'}; ${old.spec.name} ${replicating ? 'replicates as standby' : stale ? 'stays out as stale' : 'neither replicates nor stays out'}`,
          });
        });
      }

      // Every VIP held by exactly one node, the returned one included: shared with the namespace tier.
      await sharedScenario('one-vip-holder', 'every VIP held by exactly one node', () => shared.oneHolderPerVip(fabric));

      // 2. Power off the fabric VIP holder (unless that already happened with the database primary).
      // At the shipped advert interval this is done VIP_POWEROFF_RUNS times, the powered-off balancer
      // returning as the standby between runs: one power-off is one sample, and issue 11's goal is a
      // median. Each run also times the move itself (the new holder's gratuitous ARP reaching the
      // client), so that keepalived's part and HAProxy's part of the outage are told apart.
      if (!results.has('vip-holder-poweroff')) {
        const shippedAdvert = !(differences.fabric as { setting: string }[]).some((d) => d.setting === 'advertIntervalSeconds');
        await sharedScenario('vip-holder-poweroff', 'power off the fabric VIP holder', () =>
          shared.vipHolderPowerOff(fabric, { runs: shippedAdvert ? VIP_POWEROFF_RUNS : 1, goalMedianS: VIP_POWEROFF_GOAL_S, timeDeviceVip: deviceVip !== undefined && !results.has('device-vip-poweroff') }),
        );
      }
      // The monitoring VIP's own power-off, when its holder was not the database primary.
      if (dedicatedMonitoring && !results.has('monitoring-vip-poweroff')) {
        await scenario('monitoring-vip-poweroff', 'power off the monitoring VIP holder', async () => {
          const holder = await soleHolder(monitoringAddress, 'monitoring VIP');
          const offAt = Date.now();
          await holder.powerOff();
          const back = await firstSuccess(monitoringServes, 60000, 100, offAt);
          recordMonitoringBack(holder, back, await monitoringAnswer(), '');
        });
      }
    }
    why = 'not recorded by its scenario';
  } catch (err) {
    record({ id: 'run', scenario: 'run', outcome: 'fail', detail: (err as Error).message });
    for (const vm of vms) {
      const tail = vm.serial().split('\n').slice(-25).join('\n');
      console.log(`[e2e] last serial lines of ${vm.spec.name}:\n${tail}`);
    }
  } finally {
    teardown();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  results.closeMissing(why);
  const left = trySh('pgrep', ['-f', `afe2e-${process.pid}-${STACKS.indexOf(stack)}`]).out.trim();
  if (left) results.fail('teardown', 'teardown', `processes left: ${left}`);
  const seconds = (Date.now() - stackStarted) / 1000;
  console.log(`[e2e] ${stack}: ${seconds.toFixed(0)} s`);
  const file = results.write(RESULTS_DIR, { ci: IN_CI, day2: REQUIRED_IDS[stack].includes(DAY2_IDS[0]), measured_at: new Date(stackStarted).toISOString(), commit: measuredCommit(), settings_differing_from_shipped: differences });
  console.log(`[e2e] ${stack}: results in ${path.relative(PROJECT_ROOT, file)}`);
}

function config(userData: string): Json {
  return (parse(userData) as Json) ?? {};
}

/** cloud-init's own verdict (result.json) and where the boot's time went (systemd's kernel time, each cloud-init stage). */
async function cloudInitReport(vm: QemuVm): Promise<{ verdict: ReturnType<typeof judgeCloudInit>; phases: Json }> {
  const read = async (command: string) => {
    const r = await vm.exec(command, 60000);
    if (r.exitcode !== 0) throw new Error(`${vm.spec.name}: '${command}' exited ${r.exitcode}: ${r.stdout.trim()}`);
    return r.stdout;
  };
  const verdict = judgeCloudInit(await read('cat /run/cloud-init/result.json'), await read('cat /var/log/cloud-init-output.log'), vm.spec.userData);
  const phases: Json = {};
  try {
    const [uptime, now] = (await read('cat /proc/uptime; date +%s.%N')).trim().split('\n');
    const bootEpoch = Number(now) - Number(uptime.split(' ')[0]);
    const status = JSON.parse(await read('cat /run/cloud-init/status.json')).v1 as Json;
    for (const stage of ['init-local', 'init', 'modules-config', 'modules-final']) {
      const s = status[stage] as Json | undefined;
      if (s?.start && s?.finished) phases[stage] = { at_s: round(s.start - bootEpoch), took_s: round(s.finished - s.start) };
    }
    const analyze = await vm.exec('systemd-analyze time', 30000);
    const kernel = analyze.stdout.match(/([\d.]+)s \(kernel\)/)?.[1];
    if (kernel) phases.kernel_s = Number(kernel);
  } catch (err) {
    phases.error = (err as Error).message;
  }
  return { verdict, phases };
}

const round = (n: number) => Math.round(n * 10) / 10;

/** What an operator would look at first when a VIP does not answer: load, the HA units, VRRP states, addresses, keepalived's HAProxy check. */
async function printGuestState(vms: QemuVm[], model: FabricModel): Promise<void> {
  const command = [
    'uptime',
    `systemctl is-active ${KEEPALIVED_UNIT} ${HAPROXY_UNIT} ${DATABASE_UNIT} ${DEFAULT_APPLICATION_SERVICE_NAME} ${WATCHDOG_UNIT}`,
    'ip -4 -br addr',
    'journalctl --no-pager -u keepalived -n 25',
    `time ${haproxyCheckCommand(model).join(' ')}; echo chk_haproxy exit $?`,
  ].join('; ');
  for (const vm of vms.filter((v) => v.running)) {
    const r = await vm.exec(`bash -c '${command}' 2>&1`, 60000).catch((e) => ({ exitcode: -1, stdout: String(e) }));
    console.log(`[e2e] state of ${vm.spec.name}:\n${r.stdout}`);
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

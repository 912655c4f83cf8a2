/**
 * Day 2 on the booted KVM fabric, for real: the plan's day-2 resources
 * (per node a terraform_data that pushes the node's configuration bundle
 * over SSH, in a dependsOn chain) are applied with the real terraform
 * binary from the client's network namespace, one working directory and
 * one state across every step, and each libvirt domain is a stand-in whose
 * local-exec provisioners boot and stop the node's QEMU VM (see
 * lib/day2-terraform.ts and lib/vm-control.ts). Each step edits the fabric
 * spec, synthesizes the stack again and applies it while a client streams
 * GUI and NBI requests through the VIP; each is a result with total,
 * failed, max_latency_s and vip_moves. The fabric it leaves (every node of
 * the first plan running, each VM in the caller's list for its teardown) is
 * where the caller's failover scenarios run next.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { serviceUnitName } from '../cloud-init/application-service';
import { APPLIED_BUNDLE_FILE, APPLY_BUNDLE_SCRIPT } from '../cloud-init/apply-bundle-agent';
import { ADMIN_USER } from '../cloud-init/cloud-config';
import { DATABASE_CLIENT_ENV } from '../cloud-init/database';
import { HAPROXY_CONFIG } from '../cloud-init/haproxy';
import { DATABASE_SYSLOG_TAG, NOTIFY_SYSLOG_TAG } from '../cloud-init/node-paths';
import { FabricModel } from '../model/fabric-model';
import { FabricSpec } from '../model/fabric-spec';
import { judgeCloudInit } from './lib/cloud-init-result';
import { agentLines, completions, Day2Configuration, Day2Terraform } from './lib/day2-terraform';
import { sleep, waitFor } from './lib/host-commands';
import { standInVariable, StandInValues, TerraformRun } from './lib/offline-terraform';
import { EvaluatedSeed, evaluateCloudInitDisks, planVip } from './lib/plan-evaluation';
import { applianceVm, QemuVm, VmImage } from './lib/qemu-vm';
import { requestStream, StreamResult } from './lib/request-stream';
import { Result, StackResults } from './lib/results';
import { TestNetwork } from './lib/test-network';
import { VipMoveWatch } from './lib/vip-watch';
import { VmControlRequest, VmControlServer } from './lib/vm-control';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The day-2 result ids, in the order the steps run. */
export const DAY2_IDS = ['day2-boot', 'day2-grow', 'day2-shrink', 'day2-setting', 'day2-bad-bundle', 'day2-replace-app', 'day2-replace-db', 'day2-rotate-db-passwords'];

const BOOT_TIMEOUT_MS = 20 * 60 * 1000;
/** One terraform apply: booting a VM under TCG takes minutes, each node's push under a minute. */
const APPLY_TIMEOUT_MS = 30 * 60 * 1000;
/** GETs per second through the VIP, on the GUI port and on the NBI port each. */
const STREAM_PER_SECOND = 5;
/** The fabric-wide setting the setting step changes. */
const NEW_COOKIE = 'FABRICDAY2';

export interface Day2Context {
  readonly stack: string;
  readonly image: VmImage;
  readonly network: TestNetwork;
  /** The run's root-only directory (removed by the caller). */
  readonly work: string;
  readonly results: StackResults;
  /** The caller's VMs: every VM booted here is added, so that the caller's teardown (a signal too) destroys it by its id. */
  readonly vms: QemuVm[];
  /** Whether the VMs get a device NIC (eth3). */
  readonly deviceNic: boolean;
  /** Synthesizes the stack as the e2e boots it, with `edit` applied to its fabric spec, into `dir`, with the fabric's lock in `lockFile`. */
  readonly synthesize: (dir: string, edit: (fabric: FabricSpec) => FabricSpec, lockFile: string) => { planFile: string; plan: Json; model: FabricModel };
}

/** What one step applies. */
interface Step {
  readonly plan: Json;
  readonly model: FabricModel;
  readonly planFile: string;
  readonly configuration: Day2Configuration;
}

/**
 * The VMs Terraform boots and stops: each boot gets a fresh overlay of the
 * base image and the seed of the node's cloud-init disk as it was when the
 * node first appeared in a plan (later changes to it are ignored, as the
 * plan's ignore_changes has libvirt do), one VM per stand-in id.
 */
class Fleet {
  /** Per node: the seed of its cloud-init disk, while the disk exists (from the plan the node appeared in). */
  private readonly disks = new Map<string, EvaluatedSeed>();
  /** Per node: the seed and domain of the latest plan (what a new disk would get). */
  private readonly latest = new Map<string, { seed: EvaluatedSeed; domain: Json }>();
  readonly vms = new Map<string, QemuVm>();
  private bootCount = 0;
  /** Boot and stop times, by node, in ms since the epoch (e2e clock). */
  readonly events: { at: number; op: 'booted' | 'stopped'; node: string; id: string }[] = [];
  /** Every clean boot: how long cloud-init took, and the errors it reported that the verdict allows. */
  readonly boots: Day2Boot[] = [];

  constructor(private readonly ctx: Day2Context, private readonly dir: string) {}

  /** Takes the seeds of a newly evaluated plan. */
  offer(seeds: EvaluatedSeed[], plan: Json): void {
    for (const seed of seeds) {
      const domain = Object.values((plan.resource?.libvirt_domain ?? {}) as Json).find((d) => String(d.name).replace(/^[^-]+-/, '') === seed.node);
      if (!domain) throw new Error(`the plan has a cloud-init disk for ${seed.node} but no domain`);
      this.latest.set(seed.node, { seed, domain });
    }
  }

  running(node: string): QemuVm | undefined {
    return [...this.vms.values()].find((v) => v.spec.name === node && v.running);
  }

  async handle(request: VmControlRequest): Promise<string> {
    if (request.op === 'stop') {
      const vm = this.vms.get(request.id);
      if (!vm) return `no VM was booted for ${request.id}: nothing to stop`;
      await vm.powerOff();
      if (vm.running) throw new Error(`${request.node} (${request.id}) still runs`);
      this.events.push({ at: Date.now(), op: 'stopped', node: request.node, id: request.id });
      // Its disk and cloud-init ISO go with it (the plan replaces them together): a VM booted for the node later
      // gets the seed of the plan it then appears in.
      this.disks.delete(request.node);
      return 'powered off';
    }
    const latest = this.latest.get(request.node);
    if (!latest) throw new Error(`no seed for ${request.node}: it is in no plan the e2e evaluated`);
    // A disk that exists keeps the seed it was made with (the plan ignores later changes to it).
    const entry = { seed: this.disks.get(request.node) ?? latest.seed, domain: latest.domain };
    this.disks.set(request.node, entry.seed);
    if (this.vms.has(request.id)) throw new Error(`a VM was already booted for ${request.id}`);
    const other = this.running(request.node);
    if (other) throw new Error(`${request.node} already runs (another stand-in's VM): two VMs with one MAC and address`);
    const n = this.bootCount++;
    const vmDir = path.join(this.dir, `${request.node}-${n}`);
    mkdirSync(vmDir, { recursive: true });
    const vm = applianceVm(entry.seed, entry.domain, this.ctx.network, `d${n}`, this.ctx.deviceNic, vmDir, this.ctx.image);
    this.vms.set(request.id, vm);
    this.ctx.vms.push(vm);
    vm.start();
    const seconds = await vm.waitForCloudInit(BOOT_TIMEOUT_MS);
    if (seconds === undefined) throw new Error(`cloud-init did not finish in ${BOOT_TIMEOUT_MS / 1000} s`);
    const read = async (file: string) => (await vm.exec(`cat ${file}`, 60000)).stdout;
    const verdict = judgeCloudInit(await read('/run/cloud-init/result.json'), await read('/var/log/cloud-init-output.log'), entry.seed.userData);
    if (verdict.unexpected.length) throw new Error(`cloud-init reported errors: ${JSON.stringify(verdict.unexpected)}`);
    this.events.push({ at: Date.now(), op: 'booted', node: request.node, id: request.id });
    this.boots.push({ node: request.node, id: request.id, seconds, allowed: verdict.allowed.map((a) => a.because) });
    return `booted, cloud-init finished in ${seconds.toFixed(0)} s`;
  }
}

/** One VM Terraform booted, cleanly. */
export interface Day2Boot {
  readonly node: string;
  /** The domain stand-in it was booted for. */
  readonly id: string;
  readonly seconds: number;
  readonly allowed: string[];
}

/** The fabric day 2 leaves, for the caller's scenarios. */
export interface Day2Fabric {
  /** Per node of the first plan, its VM: the running one, or the last one booted for it if none runs. */
  readonly vms: QemuVm[];
  /** Every clean boot, in order. */
  readonly boots: Day2Boot[];
  /** The stand-in values the fabric runs with (its passwords among them), by variable. */
  readonly variables: Record<string, string>;
}

/** Runs every day-2 step on a fresh boot of the stack, recording one result per step. */
export async function runDay2(ctx: Day2Context): Promise<Day2Fabric> {
  const { results, network } = ctx;
  const record = (r: Result) => results.record(r);
  const root = path.join(ctx.work, 'day2');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  // The operator's deploy key: fresh, in the run's root-only directory; its public half goes into the fabric's sshAuthorizedKeys.
  const deployKey = path.join(root, 'deploy_key');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'appliance-fabric-e2e-deploy', '-f', deployKey], { stdio: 'ignore' });
  const deployPublic = readFileSync(`${deployKey}.pub`, 'utf8').trim();
  // And an SSH agent of the run's own holding it: a removed block's connection may refer to nothing but self, so it gets no key from a variable.
  const agentSocket = path.join(root, 'ssh-agent.sock');
  const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(execFileSync('ssh-agent', ['-s', '-a', agentSocket], { encoding: 'utf8' }))?.[1]);
  const stopAgent = () => {
    try {
      if (agentPid > 0) process.kill(agentPid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  process.once('exit', stopAgent);
  execFileSync('ssh-add', ['-q', deployKey], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
  const fleet = new Fleet(ctx, path.join(root, 'vms'));
  const control = new VmControlServer(path.join(root, 'vm-control.sock'), (r) => fleet.handle(r));
  await control.start();
  let standIns: StandInValues | undefined;
  let tf: Day2Terraform | undefined;
  let variables: Record<string, string> = {};
  let nodes: string[] = [];
  try {
    let stepNo = 0;
    /** Synthesizes the stack with `edit` (and the deploy key), evaluates its cloud-init disks with this run's stand-ins, hands new nodes' seeds to the fleet and configures Terraform. */
    const prepare = (edit: (f: FabricSpec) => FabricSpec, tamper?: (plan: Json) => void): Step => {
      const dir = path.join(root, `synth-${stepNo++}`);
      // One lock across the steps, as an operator's repository keeps it: a shrink then knows which appliances left.
      const synthesized = ctx.synthesize(dir, (f) => edit({ ...f, sshAuthorizedKeys: [...(f.sshAuthorizedKeys ?? []), deployPublic] }), path.join(root, 'appliance-fabric.lock.json'));
      if (tamper) tamper(synthesized.plan);
      standIns ??= new StandInValues(root, planVip(synthesized.plan));
      const evaluation = evaluateCloudInitDisks(synthesized.planFile, standIns);
      variables = { ...variables, ...evaluation.variables };
      fleet.offer(evaluation.seeds, synthesized.plan);
      tf ??= new Day2Terraform({ dir: path.join(root, 'terraform'), namespace: network.namespace, controlSocket: control.socketPath, standIns, variables: deployKeyVariable(synthesized.plan, deployKey), timeoutMs: APPLY_TIMEOUT_MS, sshAgentSocket: agentSocket });
      return { ...synthesized, configuration: tf.configure(synthesized.plan) };
    };
    const base = (f: FabricSpec) => f;
    const withCookie = (cookie: string) => (f: FabricSpec) => ({ ...f, loadBalancer: { ...f.loadBalancer, stickyCookieName: cookie } });

    // --- Boot: Terraform's first apply boots every VM (its graph's order) and pushes each node its bundle.
    const first = prepare(base);
    const model = first.model;
    nodes = model.nodes.map((n) => n.name);
    const vip = model.vip;
    const addresses: Record<string, string> = Object.fromEntries(model.nodes.map((n) => [n.name, n.managementAddress]));
    const balancers = [...model.loadBalancer.members];
    // The node the grow step adds: an application server only (as the original's third and later nodes), at the address after the last node's.
    const lastAddress = model.nodes[model.nodes.length - 1].managementAddress.split('.');
    const NEW_NODE = { name: `node${model.nodes.length + 1}`, managementAddress: [...lastAddress.slice(0, 3), String(Number(lastAddress[3]) + 1)].join('.') };
    const grown = (f: FabricSpec) => ({ ...f, appliances: [...(f.appliances ?? []), NEW_NODE] });
    const guest = (node: string) => {
      const vm = fleet.running(node);
      if (!vm) throw new Error(`${node} does not run`);
      return vm;
    };
    const read = async (node: string, command: string) => {
      const r = await guest(node).exec(command, 60000);
      if (r.exitcode !== 0) throw new Error(`${node}: '${command}' exited ${r.exitcode}: ${r.stdout.trim().slice(0, 300)}`);
      return r.stdout;
    };
    /** The running nodes that hold `address` (the fabric VIP unless told). */
    const holders = async (address = vip) => {
      const out: string[] = [];
      for (const node of Object.keys(addresses)) {
        const vm = fleet.running(node);
        if (vm && (await vm.exec('ip -4 -o addr show', 20000)).stdout.includes(` ${address}/`)) out.push(node);
      }
      return out;
    };
    const get = async (url: string, extra: string[] = []) => network.tryNsAsync(5000, 'curl', '-sfk', '--max-time', '3', ...extra, url);
    /** Which application servers answer through the VIP, over `n` GETs without a cookie (round robin). */
    const servedBy = async (n: number) => {
      const seen = new Map<string, number>();
      let failed = 0;
      for (let i = 0; i < n; i++) {
        const r = await get(`https://${vip}/`);
        if (r.ok) seen.set(r.out.trim(), (seen.get(r.out.trim()) ?? 0) + 1);
        else failed++;
      }
      return { seen, failed };
    };
    const appliedRecord = async (node: string) => read(node, `cat ${APPLIED_BUNDLE_FILE} 2>/dev/null || echo none`);
    const recordHash = (text: string) => /^bundle (\S+)$/m.exec(text)?.[1];

    /** Runs `change` under GUI and NBI streams through the VIP, with the VIP's moves watched; the figures of both streams together. */
    const underStream = async <T>(change: () => Promise<T>) => {
      const before = await holders();
      const watch = new VipMoveWatch(network.namespace, vip);
      watch.start();
      const urls = [`https://${vip}:${model.loadBalancer.guiPort}/`, ...model.loadBalancer.nbiPorts.map((p) => `https://${vip}:${p}/`)];
      const streams = urls.map((u) => requestStream(network.namespace, u, STREAM_PER_SECOND, APPLY_TIMEOUT_MS));
      let result: T;
      let figures: StreamResult[];
      let moves: { moves: number; macs: string[] };
      try {
        await sleep(2000);
        result = await change();
        await sleep(2000);
      } finally {
        figures = await Promise.all(streams.map((s) => s.stop()));
        moves = watch.stop();
      }
      const after = await holders();
      const total = figures.reduce((n, f) => n + f.sent, 0);
      const failed = figures.reduce((n, f) => n + f.failed, 0);
      const failures: Record<string, number> = {};
      for (const f of figures) for (const [k, v] of Object.entries(f.failures)) failures[k] = (failures[k] ?? 0) + v;
      const failureDetails = figures.flatMap((f, i) => f.failureDetails.map((d) => ({ url: urls[i], ...d })));
      // A move seen inside the guests counts even when no gratuitous ARP reached the client.
      const vipMoves = Math.max(moves.moves, before.join() === after.join() ? 0 : 1);
      return { result, total, failed, failures, failureDetails, maxLatency: Math.max(...figures.map((f) => f.maxLatencyMs)) / 1000, vipMoves, before, after, urls };
    };
    type Figures = Awaited<ReturnType<typeof underStream>>;
    /**
     * Puts the fabric VIP on balancer `to` before a step's stream, as an HAProxy crash on the holder would (the fabric
     * VIP tracks HAProxy; the database VIP stays): HAProxy is stopped on the holder until the VIP moved. Returns the
     * node it came from, or undefined when it was there already.
     */
    const moveFabricVipTo = async (to: string): Promise<string | undefined> => {
      const [holder] = await holders();
      if (holder === to) return undefined;
      await read(holder, 'systemctl stop haproxy');
      const there = await waitFor(async () => (await holders()).join() === to, 60000, 500);
      await read(holder, 'systemctl start haproxy');
      if (there === undefined) throw new Error(`the fabric VIP did not move from ${holder} to ${to} within 60 s of stopping HAProxy on ${holder}`);
      return holder;
    };
    const figuresOf = (f: Figures) => ({ total: f.total, failed: f.failed, max_latency_s: f.maxLatency, measured: { vip_moves: f.vipMoves, failures: f.failures, failure_details: f.failureDetails, vip_holders_before: f.before, vip_holders_after: f.after, streams: f.urls } });
    const streamText = (f: Figures) => `${f.failed} failed of ${f.total} GETs at ${STREAM_PER_SECOND}/s on each of ${f.urls.join(' and ')}${f.failed ? ` ${JSON.stringify(f.failures)} ${JSON.stringify(f.failureDetails)}` : ''}; slowest ${f.maxLatency.toFixed(2)} s; VIP moves ${f.vipMoves} (held by [${f.before.join(', ')}] before, [${f.after.join(', ')}] after)`;
    const tfText = (run: TerraformRun) => `terraform exit ${run.code} in ${run.seconds.toFixed(0)} s`;
    const tfTail = (run: TerraformRun) =>
      `${run.stdout}\n${run.stderr}`
        .split('\n')
        .filter((l) => /Error|error|refused|rejects|not found|fabric-apply-bundle:|vm-control (boot|stop)/.test(l) && !/Executing:/.test(l))
        .slice(-12)
        .join(' | ');
    const scenario = async (id: string, title: string, body: () => Promise<void>) => {
      try {
        await body();
      } catch (err) {
        if (!results.has(id)) record({ id, scenario: title, outcome: 'fail', detail: (err as Error).message });
        else console.log(`[e2e] ${ctx.stack}: after ${id}: ${(err as Error).message}`);
      }
    };
    /** Asks a node over SSH, as Terraform's provisioners do: the deploy key, and the host key the plan pinned for it. */
    const sshPinned = async (node: string, pinnedFor = node) => {
      const hostKey = hostKeyOf(first.plan, pinnedFor, standIns!);
      const knownHosts = path.join(root, `known_hosts-${node}-${pinnedFor}`);
      writeFileSync(knownHosts, `${addresses[node]} ${hostKey}`);
      return network.tryNsAsync(60000, 'ssh', '-i', deployKey, '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', `${ADMIN_USER}@${addresses[node]}`, 'sudo', '-n', APPLY_BUNDLE_SCRIPT, '--status');
    };

    await scenario('day2-boot', 'Terraform boots the fabric and pushes every node its bundle', async () => {
      const run = await tf!.apply();
      if (run.code !== 0) throw new Error(`${tfText(run)}: ${tfTail(run)}`);
      const up = await waitFor(async () => (await get(`https://${vip}/`)).ok, 180000, 1000);
      const checks: string[] = [];
      let ok = up !== undefined;
      for (const node of Object.keys(addresses)) {
        const pinned = await sshPinned(node);
        const wrong = await sshPinned(node, Object.keys(addresses).find((n) => n !== node)!);
        const record = await appliedRecord(node);
        const good = pinned.ok && !wrong.ok && /Host key verification failed/.test(wrong.out) && recordHash(record) !== undefined;
        ok &&= good;
        checks.push(`${node}: ssh with the pinned key ${pinned.ok ? 'ok' : `failed (${pinned.out.trim().slice(0, 120)})`}, with another node's key ${wrong.ok ? 'accepted (!)' : 'refused'}; applied ${recordHash(record)?.slice(0, 12) ?? 'nothing'}`);
      }
      const booted = fleet.events.filter((e) => e.op === 'booted').map((e) => e.node);
      record({ id: 'day2-boot', scenario: 'terraform apply boots the VMs (domain stand-ins) and pushes each node its bundle', outcome: ok ? 'pass' : 'fail', seconds: run.seconds, detail: `${tfText(run)}; booted in Terraform's order [${booted.join(', ')}]; VIP ${up !== undefined ? 'answers' : 'does not answer'}; ${checks.join('; ')}`, measured: { order: completions(run).map((c) => `${c.what} ${c.address}`), agents: agentLines(run) } });
    });

    // --- Grow to four: the new node boots and is configured first, then the standby balancer, the active one last.
    await scenario('day2-grow', `grow to ${model.nodes.length + 1} nodes (${NEW_NODE.name}, an application server)`, async () => {
      const step = prepare(grown);
      const active = (await holders())[0];
      const f = await underStream(() => tf!.apply());
      const run = f.result;
      const served = await servedBy(4 * step.model.applicationServers.members.length);
      const again = await tf!.planDetailed();
      const ok = run.code === 0 && served.seen.has(NEW_NODE.name) && served.failed === 0 && f.failed === 0 && f.total > 0 && f.vipMoves === 0 && again.code === 0 && f.after.join() === active;
      record({
        id: 'day2-grow',
        scenario: `grow to ${step.model.nodes.length} nodes: ${NEW_NODE.name} boots through its domain stand-in and enters rotation`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; afterwards through the VIP ${[...served.seen].map(([n, c]) => `${n}:${c}`).join(' ')} (${served.failed} failed); ${streamText(f)}; a second plan -detailed-exitcode exits ${again.code} (0: no change)`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, order: completions(run).map((c) => `${c.what} ${c.address}`), second_plan_exit: again.code, agents: agentLines(run) },
      });
    });

    // --- Shrink back: the peers stop using the node before its VM goes.
    await scenario('day2-shrink', `shrink back to ${model.nodes.length} nodes`, async () => {
      prepare(base);
      const f = await underStream(() => tf!.apply());
      const run = f.result;
      const served = await servedBy(4 * model.applicationServers.members.length);
      const stopped = fleet.events.find((e) => e.op === 'stopped' && e.node === NEW_NODE.name);
      const order = completions(run);
      const stopAt = order.findIndex((c) => c.what === 'destroyed' && /_domain_/.test(c.address) && c.address.includes(NEW_NODE.name));
      // A balancer's last delivery step counts: the first one in the chain may have kept its bundle back until its deferred step.
      const balancersAt = balancers.map((b) => order.reduce((last, c, i) => (c.what === 'created' && !/_domain_/.test(c.address) && c.address.includes(`_${b}_`) ? i : last), -1));
      const peersFirst = stopAt >= 0 && balancersAt.every((i) => i >= 0 && i < stopAt);
      const ok = run.code === 0 && stopped !== undefined && !served.seen.has(NEW_NODE.name) && served.failed === 0 && f.failed === 0 && f.total > 0 && f.vipMoves === 0 && peersFirst;
      record({
        id: 'day2-shrink',
        scenario: `shrink to ${model.nodes.length} nodes: ${NEW_NODE.name} leaves rotation, then its VM is stopped by its stand-in's destroy provisioner`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; ${NEW_NODE.name} ${stopped ? 'powered off by Terraform' : 'still running'}${peersFirst ? ', after both balancers took the new bundle' : ', NOT after both balancers took the new bundle'}; afterwards through the VIP ${[...served.seen].map(([n, c]) => `${n}:${c}`).join(' ')}; ${streamText(f)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, order: order.map((c) => `${c.what} ${c.address}`), agents: agentLines(run) },
      });
    });

    // --- A fabric-wide setting (the sticky cookie): the standby balancer first, the active one last.
    let active = '';
    let standby = '';
    await scenario('day2-setting', `fabric-wide setting: sticky cookie ${NEW_COOKIE}`, async () => {
      prepare(withCookie(NEW_COOKIE));
      // The case the model cannot foresee: the VIP on the balancer the chain configures first (the model's standby), where a
      // failover leaves it under nopreempt. Put it there, before the stream, as an HAProxy crash on the holder would
      // (the fabric VIP tracks HAProxy; the database VIP stays): that balancer's agent must keep its bundle back and take it last.
      const chainFirst = model.loadBalancer.vrrp.members[model.loadBalancer.vrrp.members.length - 1].node;
      const from = await moveFabricVipTo(chainFirst);
      const moved = from
        ? `the VIP was moved from ${from} to ${chainFirst}, the chain's first balancer, before the stream (HAProxy stopped on ${from} until it moved)`
        : `the VIP was already on ${chainFirst}, the chain's first balancer`;
      [active] = await holders();
      standby = balancers.find((b) => b !== active)!;
      const since = Math.floor(Date.now() / 1000) - 5;
      const f = await underStream(() => tf!.apply());
      const run = f.result;
      // When each balancer's agent applied its bundle, from its own journal (guest clocks run from the host's).
      const appliedAt = async (node: string) => {
        const lines = await read(node, `journalctl --no-pager -o short-unix --since @${since} -t fabric-apply-bundle | grep 'applied bundle' || true`);
        const last = lines.trim().split('\n').filter(Boolean).pop();
        return last ? Number(last.split(' ')[0]) : undefined;
      };
      const [tStandby, tActive] = [await appliedAt(standby), await appliedAt(active)];
      const deferred = (await read(active, `journalctl --no-pager --since @${since} -t fabric-apply-bundle | grep -c 'deferred bundle' || true`)).trim() !== '0';
      const headers = await get(`https://${vip}/`, ['-D', '-', '-o', '/dev/null']);
      const cookie = new RegExp(`^set-cookie: ${NEW_COOKIE}=`, 'im').test(headers.out);
      const standbyFirst = tStandby !== undefined && tActive !== undefined && tStandby < tActive;
      const ok = run.code === 0 && standbyFirst && (active !== chainFirst || deferred) && cookie && f.failed === 0 && f.total > 0 && f.vipMoves === 0;
      record({
        id: 'day2-setting',
        scenario: `sticky cookie ${NEW_COOKIE} on both balancers, standby ${standby} first, active ${active} last`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${moved}; ${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; ${active}'s agent ${deferred ? 'kept its bundle back while it held the VIP' : 'did not keep its bundle back'}; applied (agents' journals) on ${standby} at ${tStandby?.toFixed(2) ?? 'never'}, on ${active} at ${tActive?.toFixed(2) ?? 'never'}${standbyFirst ? ` (standby ${(tActive! - tStandby!).toFixed(1)} s first)` : ''}; the VIP sets cookie ${NEW_COOKIE}: ${cookie}; ${streamText(f)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, applied_at: { [standby]: tStandby, [active]: tActive }, agents: agentLines(run) },
      });
    });

    // --- A bundle that HAProxy's own check rejects on the standby: the chain stops before the active.
    await scenario('day2-bad-bundle', 'a bundle that fails haproxy -c on the standby stops the apply', async () => {
      if (!active || !standby) throw new Error('no active and standby balancer known (the setting step failed)');
      const tampered: string[] = [];
      // Another cookie for every balancer, and on the standby a balance algorithm HAProxy does not know.
      prepare(withCookie(`${NEW_COOKIE}B`), (plan) => tampered.push(...tamperNode(plan, standby, 'balance roundrobin', 'balance sometimes')));
      const before = { active: await appliedRecord(active), standbyCfg: await read(standby, `sha256sum ${HAPROXY_CONFIG}`), activeCfg: await read(active, `sha256sum ${HAPROXY_CONFIG}`) };
      const f = await underStream(() => tf!.apply());
      const run = f.result;
      const after = { active: await appliedRecord(active), standbyCfg: await read(standby, `sha256sum ${HAPROXY_CONFIG}`), activeCfg: await read(active, `sha256sum ${HAPROXY_CONFIG}`) };
      const rejected = /haproxy -c rejects the new configuration/.test(run.stdout + run.stderr);
      // The next apply of a good plan resumes (the tainted standby resource is replaced, the agent finds its bundle applied).
      prepare(withCookie(NEW_COOKIE));
      const resume = await tf!.apply();
      const untouched = after.active === before.active && after.activeCfg === before.activeCfg && after.standbyCfg === before.standbyCfg;
      const ok = tampered.length > 0 && run.code !== 0 && rejected && untouched && f.failed === 0 && f.total > 0 && f.vipMoves === 0 && resume.code === 0;
      record({
        id: 'day2-bad-bundle',
        scenario: `a bundle failing haproxy -c on standby ${standby}: terraform stops before active ${active}`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `plan edited in ${tampered.join(', ') || 'nothing (no string to edit)'}; ${tfText(run)}; the agent's refusal ${rejected ? 'reported' : 'not seen'} (${tfTail(run).slice(0, 400)}); ${active}'s applied bundle and both haproxy.cfg ${untouched ? 'unchanged' : 'CHANGED'}; ${streamText(f)}; the next apply of the good plan: ${tfText(resume)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, agents: agentLines(run), resume_agents: agentLines(resume) },
      });
    });

    // --- A powered-off application node is replaced (-replace of its domain stand-in) and serves again.
    await scenario('day2-replace-app', 'replace a powered-off application server', async () => {
      const victim = model.applicationServers.members.find((n) => !balancers.includes(n))!;
      const { markers } = prepare(withCookie(NEW_COOKIE)).configuration;
      if (!markers[victim]) throw new Error(`the plan has no replacement marker for ${victim}`);
      const f = await underStream(async () => {
        await guest(victim).powerOff();
        const run = await tf!.apply(`-replace=${markers[victim]}`);
        const back = await waitFor(async () => (await servedBy(model.applicationServers.members.length)).seen.has(victim), 120000, 1000);
        return { run, back };
      });
      const { run, back } = f.result;
      const ok = run.code === 0 && back !== undefined && f.failed === 0 && f.total > 0 && f.vipMoves === 0;
      record({
        id: 'day2-replace-app',
        scenario: `power off ${victim}, then terraform apply -replace=${markers[victim]} (its VM, disk and seed are replaced)`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; ${victim} ${back !== undefined ? `serves through the VIP again ${back.toFixed(0)} s after the apply` : 'does not serve again'}; ${streamText(f)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, agents: agentLines(run) },
      });
    });

    // Writes through the database VIP as the application does: from an application server that is no database node, with
    // the credentials its client env holds at that moment.
    const dbWriter = model.database ? model.applicationServers.members.find((n) => !model.database!.members.includes(n)) : undefined;
    const dbTable = `${model.database?.databaseName}.day2`;
    const dbWrite = async (marker: string) => {
      if (!dbWriter) throw new Error('no application server outside the database pair writes to the database');
      const r = await guest(dbWriter).exec(
        `bash -c '. ${DATABASE_CLIENT_ENV} && mariadb --defaults-extra-file=<(printf "[client]\\nuser=%s\\npassword=%s\\n" "$DB_USER" "$DB_PASSWORD") --ssl-ca="$DB_SSL_CA" --ssl-verify-server-cert -h "$DB_HOST" -P "$DB_PORT" --connect-timeout=2 -e "CREATE TABLE IF NOT EXISTS ${dbTable} (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64)); INSERT INTO ${dbTable} (marker) VALUES (\\"${marker}\\")"' 2>&1`,
        30000,
      );
      return { ok: r.exitcode === 0, out: r.stdout.trim() };
    };
    const rows = async (node: string, marker: string) => (await guest(node).exec(`mariadb --batch --skip-column-names -e "SELECT COUNT(*) FROM ${dbTable} WHERE marker = '${marker}'" 2>&1`, 20000)).stdout.trim();

    // --- The database standby is replaced: the new VM seeds itself from the primary and replicates.
    await scenario('day2-replace-db', 'replace the database standby', async () => {
      const db = model.database;
      if (!db) throw new Error('the fabric has no database cluster');
      const { markers } = prepare(withCookie(NEW_COOKIE)).configuration;
      const [primary] = await holders(db.vrrp.vip);
      const victim = db.members.find((n) => n !== primary)!;
      if (!primary || !markers[victim]) throw new Error(`no database primary found, or no replacement marker for ${victim}`);
      const writer = dbWriter;
      const before = await dbWrite('before-replace');
      if (!before.ok) throw new Error(`a write through ${db.vrrp.vip} from ${writer} failed before the replacement: ${before.out}`);
      // The step is about the replacement, not about the failover of a fabric VIP holder (issue 11 measures those): the
      // fabric VIP goes to the other balancer first, so that no request may fail and the VIP may not move.
      const otherBalancer = balancers.find((b) => b !== victim);
      const vipFrom = balancers.includes(victim) && otherBalancer ? await moveFabricVipTo(otherBalancer) : undefined;
      const f = await underStream(async () => {
        const offAt = Date.now();
        await guest(victim).powerOff();
        const run = await tf!.apply(`-replace=${markers[victim]}`);
        // Bounded: the new VM's BACKUP hook seeds it and starts replication once MariaDB answers (timed from the power-off).
        const replicating = await waitFor(async () => {
          const vm = fleet.running(victim);
          if (!vm) return false;
          const slave = (await vm.exec('mariadb -e "SHOW SLAVE STATUS\\G" 2>&1', 20000)).stdout;
          return /Slave_IO_Running: Yes/.test(slave) && /Slave_SQL_Running: Yes/.test(slave) && (await rows(victim, 'before-replace')) === '1';
        }, 600000, 3000, offAt);
        return { run, replicating };
      });
      const { run, replicating } = f.result;
      const seeded = (await read(victim, `journalctl --no-pager -t ${DATABASE_SYSLOG_TAG} | grep -E "seed(ed|ing) from" || true`)).trim();
      const after = await dbWrite('after-replace');
      const reached = after.ok ? await waitFor(async () => (await rows(victim, 'after-replace')) === '1', 60000, 1000) : undefined;
      const [holderAfter] = await holders(db.vrrp.vip);
      const readOnly = (await read(victim, 'mariadb --batch --skip-column-names -e "SELECT @@global.read_only"')).trim();
      const disruptionOk = f.failed === 0 && f.vipMoves === 0;
      const ok = run.code === 0 && replicating !== undefined && /seeded from/.test(seeded) && after.ok && reached !== undefined && holderAfter === primary && readOnly === '1' && f.total > 0 && disruptionOk;
      if (!ok) console.log(`[e2e] ${ctx.stack}: day2-replace-db, ${victim} says:\n${(await guest(victim).exec(`{ mariadb -e "SHOW SLAVE STATUS\\G" | grep -E "Master_Host|Running:|Last_(IO|SQL)_Error:"; journalctl --no-pager -t ${DATABASE_SYSLOG_TAG} -t ${NOTIFY_SYSLOG_TAG} | tail -n 20; } 2>&1`, 60000).catch((e) => ({ stdout: String(e) }))).stdout}`);
      record({
        id: 'day2-replace-db',
        scenario: `power off database standby ${victim}, then terraform apply -replace=${markers[victim]}: the new VM seeds itself from primary ${primary} and replicates`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; ${victim} ${replicating !== undefined ? `replicates, with the row written before, ${replicating.toFixed(0)} s after the power-off` : 'does not replicate the row written before'}; its hook: ${seeded.split('\n').map((l) => l.replace(new RegExp(`^.*${DATABASE_SYSLOG_TAG}\\[\\d+\\]: `), '')).join(' / ') || 'no seed logged'}; a write through ${db.vrrp.vip} from ${writer} afterwards ${after.ok ? `succeeded${reached !== undefined ? ` and reached ${victim}` : ` but did not reach ${victim}`}` : `failed: ${after.out}`}; database VIP on ${holderAfter ?? 'nobody'} (was ${primary}); ${victim} read_only=${readOnly}; ${vipFrom ? `the fabric VIP was moved from ${vipFrom} to ${otherBalancer} before the stream (HAProxy stopped on ${vipFrom} until it moved); ` : ''}${streamText(f)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, agents: agentLines(run) },
      });
    });

    // --- The database passwords rotate (passwordGeneration raised by one): no request and no write fails meanwhile.
    await scenario('day2-rotate-db-passwords', 'rotate the database passwords', async () => {
      const db = model.database;
      if (!db || !dbWriter) throw new Error('the fabric has no database cluster, or no application server outside it');
      prepare((f) => ({ ...withCookie(NEW_COOKIE)(f), database: { ...f.database!, passwordGeneration: (f.database?.passwordGeneration ?? 0) + 1 } }));
      const servers = [...model.applicationServers.members];
      const unit = serviceUnitName(model.applicationServers.service);
      // What changes on each application server: its client env (by hash: no password printed) and its service's start.
      const state = async (node: string) => ({
        env: (await read(node, `sha256sum ${DATABASE_CLIENT_ENV}`)).split(' ')[0],
        started: (await read(node, `systemctl show -p ActiveEnterTimestampMonotonic --value ${unit}`)).trim(),
      });
      const before = Object.fromEntries(await Promise.all(servers.map(async (n) => [n, await state(n)] as const)));
      const [primary] = await holders(db.vrrp.vip);
      const standbyDb = db.members.find((n) => n !== primary);
      if (!primary || !standbyDb) throw new Error('no database primary holds the database VIP');
      const since = Math.floor(Date.now() / 1000) - 5;
      // A write through the database VIP every second while the apply runs, each with the writer's client env of that moment.
      let writing = true;
      const writeFailures: string[] = [];
      let writes = 0;
      const writerLoop = (async () => {
        for (let i = 0; writing && i < APPLY_TIMEOUT_MS / 1000; i++) {
          const w = await dbWrite(`rotation-${i}`);
          writes++;
          if (!w.ok) writeFailures.push(w.out.slice(0, 200));
          await sleep(1000);
        }
      })();
      let f: Awaited<ReturnType<typeof underStream<TerraformRun>>>;
      try {
        f = await underStream(() => tf!.apply());
      } finally {
        writing = false;
        await writerLoop;
      }
      const run = f.result;
      const after = Object.fromEntries(await Promise.all(servers.map(async (n) => [n, await state(n)] as const)));
      const envChanged = servers.filter((n) => after[n].env !== before[n].env);
      const restarted = servers.filter((n) => after[n].started !== before[n].started);
      const switched = (await read(standbyDb, `journalctl --no-pager --since @${since} -t ${DATABASE_SYSLOG_TAG} | grep -c 'uses the current password now' || true`)).trim() !== '0';
      const slave = (await read(standbyDb, 'mariadb -e "SHOW SLAVE STATUS\\G"'));
      const replicating = /Slave_IO_Running: Yes/.test(slave) && /Slave_SQL_Running: Yes/.test(slave);
      const last = await dbWrite('after-rotation');
      const reached = last.ok ? await waitFor(async () => (await rows(standbyDb, 'after-rotation')) === '1', 60000, 1000) : undefined;
      const ok =
        run.code === 0 && envChanged.length === servers.length && restarted.length === servers.length && switched && replicating && last.ok && reached !== undefined &&
        writes > 0 && writeFailures.length === 0 && f.failed === 0 && f.total > 0 && f.vipMoves === 0;
      record({
        id: 'day2-rotate-db-passwords',
        scenario: `raise database.passwordGeneration: every account takes the next password, ${servers.join(', ')} restart their application with it one at a time, the standby ${standbyDb} replicates with it`,
        outcome: ok ? 'pass' : 'fail',
        seconds: run.seconds,
        detail: `${tfText(run)}${run.code ? `: ${tfTail(run)}` : ''}; client env changed on [${envChanged.join(', ')}] of [${servers.join(', ')}], application restarted on [${restarted.join(', ')}]; ${standbyDb}'s replication ${switched ? 'moved to the current password' : 'did NOT move to the current password'} and ${replicating ? 'runs' : 'does NOT run'}; ${writeFailures.length} of ${writes} writes through ${db.vrrp.vip} from ${dbWriter} failed during the apply${writeFailures.length ? ` (${writeFailures.slice(0, 3).join(' / ')})` : ''}; a write afterwards ${last.ok ? `succeeded${reached !== undefined ? ` and reached ${standbyDb}` : ` but did not reach ${standbyDb}`}` : `failed: ${last.out}`}; ${streamText(f)}`,
        ...figuresOf(f),
        measured: { ...figuresOf(f).measured, writes, write_failures: writeFailures, agents: agentLines(run) },
      });
    });
  } finally {
    // Every VM Terraform booted is in the caller's list, which destroys it by its own id whatever state Terraform is in;
    // the agent goes by its pid.
    control.close();
    stopAgent();
    process.removeListener('exit', stopAgent);
    for (const { args, run } of (tf as Day2Terraform | undefined)?.runs ?? []) if (run.code !== 0 && args[0] !== 'plan') console.log(`[e2e] ${ctx.stack}: terraform ${args.join(' ')} exited ${run.code}:\n${`${run.stdout}\n${run.stderr}`.split('\n').slice(-40).join('\n')}`);
  }
  const vms = nodes.map((node) => fleet.running(node) ?? [...fleet.vms.values()].filter((v) => v.spec.name === node).pop());
  const missing = nodes.filter((_, i) => !vms[i]);
  if (missing.length) throw new Error(`day 2 left no VM for ${missing.join(', ')}`);
  return { vms: vms as QemuVm[], boots: fleet.boots, variables };
}

/** The plan's deploy-key variable (`<fabric>_deploy_private_key`), given the key this run generated, by its PEM. */
function deployKeyVariable(plan: Json, keyFile: string): Record<string, string> {
  const name = Object.keys((plan.variable ?? {}) as Json).find((v) => /deploy_private_key$/.test(v));
  return name ? { [name]: readFileSync(keyFile, 'utf8') } : {};
}

/** The SSH host key the plan pins for `node` (the host_key of the connection of its delivery), as this run made it. */
function hostKeyOf(plan: Json, node: string, standIns: StandInValues): string {
  const address = Object.entries(Object.values((plan.output ?? {}) as Json).find((o) => o.value && typeof o.value === 'object' && node in o.value)?.value ?? {}).find(([n]) => n === node)?.[1];
  const delivery = Object.values((plan.resource?.terraform_data ?? {}) as Json).find((r) => r.connection && r.connection.host === address);
  const key = /\btls_private_key\.([A-Za-z0-9_-]+)\.public_key_openssh\b/.exec(String(delivery?.connection?.host_key ?? ''))?.[1];
  if (!key) throw new Error(`the plan pins no tls_private_key host key for ${node}'s delivery`);
  return Object.values(standIns.valuesOf([standInVariable('tls_private_key', key, 'public_key_openssh')], plan))[0].trim();
}

/**
 * Replaces `from` by `to` in every string of the plan that belongs to
 * `node`'s delivery: its terraform_data resources and its locals (CDKTF
 * names both after the construct path, `Fabric_<node>_...`). Returns what
 * it edited.
 */
function tamperNode(plan: Json, node: string, from: string, to: string): string[] {
  const edited: string[] = [];
  const edit = (where: string, value: unknown): unknown => {
    const text = JSON.stringify(value);
    if (!text.includes(from)) return value;
    edited.push(where);
    return JSON.parse(text.split(from).join(to));
  };
  for (const [name, r] of Object.entries((plan.resource?.terraform_data ?? {}) as Json)) {
    if (new RegExp(`/${node}/`).test(String(r['//']?.metadata?.path ?? ''))) plan.resource.terraform_data[name] = edit(`terraform_data.${name}`, r);
  }
  for (const name of Object.keys((plan.locals ?? {}) as Json)) {
    if (name.startsWith(`Fabric_${node}_`) && !/user_data/.test(name)) plan.locals[name] = edit(`local.${name}`, plan.locals[name]);
  }
  return edited;
}

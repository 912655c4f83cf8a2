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
 * KVM host, all deliberate: memory is 1 GiB per VM (the plan asks 32 GiB),
 * QEMU runs with TCG, the kernel is booted directly, the bridge lives in a
 * network namespace of the run's own with the client on it, and there is no
 * package mirror (cloud-init's apt-get update fails; the image carries the
 * packages), and health checks and probes run every 5 s instead of every
 * second (see EMULATED_GUEST_TUNING).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'cdktf';
import { parse } from 'yaml';
import { DATABASE_UNIT } from '../cloud-init/database';
import { DATABASE_INELIGIBLE_FILE, HAPROXY_CHECK_SCRIPT } from '../cloud-init/node-paths';
import { WATCHDOG_UNIT } from '../cloud-init/watchdog';
import { KvmFabricConfig, KvmFabricStack } from '../stacks/kvm-fabric-stack';
import { DEFAULT_APPLICATION_SERVICE } from '../model/build-model';
import { CONFIG_DIR, PROJECT_ROOT } from '../stacks/main';
import { readStackConfig } from '../stacks/stack-config';
import { sleep, trySh, waitFor } from './lib/host-commands';
import { evaluateCloudInitDisks, terraformAvailable } from './lib/plan-evaluation';
import { QemuVm, VmImage } from './lib/qemu-vm';
import { streamRequests } from './lib/request-stream';
import { TestNetwork } from './lib/test-network';

/** The example KVM stacks, each booted on a network of its own, one after the other. */
const STACKS = ['kvm-fabric', 'kvm-fabric-full'];
const CLIENT = '198.51.100.100';
/** The client's address on the device network (kvm-fabric-full's eth3 bridge). */
const DEVICE_CLIENT = '198.51.100.200';
const VM_MEMORY_MIB = 1024;
const BOOT_TIMEOUT_MS = 15 * 60 * 1000;
/**
 * Under TCG on two shared cores every program a guest starts costs 0.3-1 s
 * of CPU (measured: /bin/true 0.34 s, bash 0.47 s, curl 0.97 s, where a
 * real host needs about a millisecond). keepalived's checks and the
 * watchdog's database probe start programs; at the default 1 s they kept
 * both balancers' guests at load 8 and every check timed out, so neither
 * took the VIP. The scenarios here (power-off, kill -9) are noticed by
 * missed adverts and systemd, not by these checks, so slower checks change
 * no measured figure; the namespace tier measures the checks at 1 s.
 */
const EMULATED_GUEST_TUNING = { checkIntervalSeconds: 5, probeIntervalSeconds: 5 };

interface Result {
  scenario: string;
  outcome: 'pass' | 'fail' | 'skip';
  seconds?: number;
  detail: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const results: (Result & { stack: string })[] = [];
let currentStack = '';
const record = (r: Result) => {
  results.push({ stack: currentStack, ...r });
  console.log(`[e2e] ${currentStack}: ${r.outcome.toUpperCase()} ${r.scenario}${r.seconds !== undefined ? ` (${r.seconds.toFixed(2)} s)` : ''}: ${r.detail}`);
};

function buildImage(): VmImage {
  const out = execFileSync('bash', [path.join(PROJECT_ROOT, 'e2e', 'image', 'build-appliance-image.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 20 * 60 * 1000 });
  const last = out.trim().split('\n').pop()!;
  return JSON.parse(last) as VmImage;
}

function synthesize(stack: string, dir: string): { planFile: string; plan: Json } {
  const app = new App({ outdir: dir });
  const config = readStackConfig<KvmFabricConfig>(path.join(CONFIG_DIR, `${stack}.yaml`), ['fabric', 'libvirt']);
  const fabric = config.fabric;
  new KvmFabricStack(app, stack, {
    ...config,
    fabric: {
      ...fabric,
      highAvailability: { ...fabric.highAvailability, checkIntervalSeconds: EMULATED_GUEST_TUNING.checkIntervalSeconds },
      watchdog: { ...fabric.watchdog, probeIntervalSeconds: EMULATED_GUEST_TUNING.probeIntervalSeconds },
    },
  });
  app.synth();
  const planFile = path.join(dir, 'stacks', stack, 'cdk.tf.json');
  return { planFile, plan: JSON.parse(readFileSync(planFile, 'utf8')) };
}

/** Runs every example KVM stack in turn (or the ones named on the command line), each on a network of its own. */
async function main(): Promise<number> {
  if (!terraformAvailable()) {
    console.log('[e2e] SKIP: no terraform binary to evaluate the plan with');
    return 0;
  }
  const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = asked.filter((a) => !STACKS.includes(a));
  if (unknown.length) {
    console.error(`[e2e] unknown stack(s) ${unknown.join(', ')}: name one or more of ${STACKS.join(', ')}, or none for all`);
    return 2;
  }
  const stacks = asked.length ? asked : STACKS;
  const started = Date.now();
  const image = buildImage();
  const imageSeconds = (Date.now() - started) / 1000;
  for (const stack of stacks) {
    const stackStarted = Date.now();
    await runStack(stack, image);
    console.log(`[e2e] ${stack}: ${((Date.now() - stackStarted) / 1000).toFixed(0)} s`);
  }
  console.log(`[e2e] total ${((Date.now() - started) / 1000).toFixed(0)} s (image ${imageSeconds.toFixed(0)} s)`);
  const left = trySh('pgrep', ['-f', `afe2e-${process.pid}`]).out.trim();
  if (left) record({ scenario: 'teardown', outcome: 'fail', detail: `processes left: ${left}` });
  printTable();
  const dir = path.join(PROJECT_ROOT, 'test-results');
  mkdirSync(dir, { recursive: true });
  // One file per stack, so that a stack run on its own (CI repeats a failed one) leaves the other's results.
  for (const stack of stacks) writeFileSync(path.join(dir, `e2e-${stack}.json`), JSON.stringify({ stack, results: results.filter((r) => r.stack === stack) }, null, 2));
  const passed = results.filter((r) => r.outcome === 'pass').length;
  const failed = results.filter((r) => r.outcome === 'fail').length;
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function runStack(stack: string, image: VmImage): Promise<void> {
  currentStack = stack;
  const work = mkdtempSync(path.join(tmpdir(), 'afe2e-'));
  const namespace = `afe2e-${process.pid}-${STACKS.indexOf(stack)}`;
  let network = new TestNetwork(namespace, `${CLIENT}/24`);
  const vms: QemuVm[] = [];
  const teardown = () => {
    for (const vm of vms) vm.destroy();
    network.destroy();
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => {
    teardown();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { planFile, plan } = synthesize(stack, path.join(work, 'cdktf.out'));
    const evaluation = evaluateCloudInitDisks(planFile);
    const fabricName = Object.values(plan.resource.libvirt_domain as Json)[0].name.split('-')[0] as string;
    const outputs = Object.fromEntries(Object.entries(plan.output as Json).map(([k, v]) => [k.replace(/_[0-9A-F]{8}$/, ''), (v as Json).value]));
    const vip: string = outputs.Fabric_vip;
    const dbVip: string | undefined = outputs.Fabric_database_vip;
    const monitoringAddress: string = outputs.Fabric_monitoring_address;
    const deviceVip: string | undefined = outputs.Fabric_device_vip;
    const addresses: Record<string, string> = outputs.Fabric_node_addresses;
    const appPassword = Object.entries(evaluation.variables).find(([k]) => k.includes('database_application_password'))?.[1];

    // The bridge also answers as the management network's gateway, as a router would: the
    // database promotion hook pings it to tell a dead peer from its own isolation.
    const firstNet = parse(evaluation.seeds[0].networkConfig) as Json;
    const gateway = firstNet.ethernets.eth0.routes[0].via as string;
    const deviceNet = firstNet.ethernets.eth3 as Json | undefined;
    network = new TestNetwork(namespace, `${CLIENT}/24`, [`${gateway}/24`], deviceNet ? `${DEVICE_CLIENT}/${String(deviceNet.addresses[0]).split('/')[1]}` : undefined);
    network.create();
    const domainOf = (node: string) => Object.values(plan.resource.libvirt_domain as Json).find((d) => d.name === `${fabricName}-${node}`) as Json;
    evaluation.seeds.forEach((seed, i) => {
      const dir = path.join(work, seed.node);
      mkdirSync(dir, { recursive: true });
      const nics = domainOf(seed.node).network_interface as Json[];
      const vm = new QemuVm(
        {
          name: seed.node,
          namespace: network.namespace,
          tap: network.addTap(`tap${i}`),
          mac: nics[0].mac,
          ...(deviceNet ? { deviceNic: { tap: network.addTap(`dtap${i}`, network.deviceBridge), mac: nics[1].mac as string } } : {}),
          memoryMiB: VM_MEMORY_MIB,
          dir,
          ...seed,
        },
        image,
      );
      vms.push(vm);
    });
    const bootStart = Date.now();
    vms.forEach((vm) => vm.start());
    const booted = await Promise.all(vms.map((vm) => vm.waitForCloudInit(BOOT_TIMEOUT_MS)));
    booted.forEach((s, i) => record({ scenario: `boot ${vms[i].spec.name}`, outcome: s === undefined ? 'fail' : 'pass', seconds: s, detail: 'cloud-init finished (serial console)' }));
    if (booted.some((s) => s === undefined)) throw new Error('not every VM finished cloud-init');

    const curl = (url: string, timeoutS = 1, extra: string[] = []) => network.tryNsAsync((timeoutS + 1) * 1000, 'curl', '-sk', '--max-time', String(timeoutS), ...extra, url);
    const answers = async (url: string, timeoutS = 1) => (await curl(url, timeoutS)).ok;
    const vipUp = await waitFor(() => answers(`https://${vip}/`), 120000, 500);
    record({ scenario: 'fabric VIP answers after boot', outcome: vipUp === undefined ? 'fail' : 'pass', seconds: ((Date.now() - bootStart) / 1000), detail: `https://${vip}/ from the client` });
    if (vipUp === undefined) await printGuestState(vms);

    // 1. Balancing over every application server (no cookie: round robin).
    const served = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const r = await curl(`https://${vip}/`, 2);
      if (r.ok) served.set(r.out.trim(), (served.get(r.out.trim()) ?? 0) + 1);
    }
    // The application servers are the nodes whose first boot starts the application service.
    const appServers = evaluation.seeds.filter((s) => /fabric-app\.service/.test(s.userData)).map((s) => s.node);
    record({
      scenario: '1 balancing over every application server',
      outcome: appServers.every((n) => served.has(n)) && [...served.keys()].every((n) => appServers.includes(n)) ? 'pass' : 'fail',
      detail: [...served].map(([n, c]) => `${n}:${c}`).join(' ') + ' of 30 requests',
    });

    // Dedicated monitoring nodes answer on their own VIP; devices reach the device VIP on eth3.
    const monitoringAnswer = () => curl(`http://${monitoringAddress}:8162/`, 1);
    const monitoringUp = async () => (await monitoringAnswer()).ok;
    const monitoringNodes = evaluation.seeds.filter((s) => /fabric-monitor\.service/.test(s.userData) && !/haproxy/.test(s.userData)).map((s) => s.node);
    if (monitoringNodes.length === 2) {
      const up = await waitFor(monitoringUp, 60000, 500);
      const by = (await monitoringAnswer()).out.trim();
      record({ scenario: 'monitoring VIP answers from a monitoring node', outcome: up !== undefined && monitoringNodes.includes(by) ? 'pass' : 'fail', detail: `http://${monitoringAddress}:8162/ answered by ${by || 'nobody'}` });
    }
    const pingDevice = async () => deviceVip !== undefined && (await network.tryNsAsync(4000, 'ping', '-c', '1', '-W', '1', '-I', network.deviceBridge, deviceVip)).ok;
    if (deviceVip) {
      const up = await waitFor(() => pingDevice(), 30000, 500);
      record({ scenario: 'device VIP answers on the device network', outcome: up !== undefined ? 'pass' : 'fail', detail: `ping ${deviceVip} from ${DEVICE_CLIENT} on the eth3 bridge` });
    }

    // 4. Kill the application service inside a VM: systemd/watchdog bring it back.
    const victim = vms.find((v) => v.spec.name === appServers[appServers.length - 1])!;
    await waitFor(async () => (await victim.exec('true').catch(() => ({ exitcode: -1 }))).exitcode === 0, 60000, 1000);
    await victim.exec('pkill -KILL -f demo-app-server.py');
    const killedAt = Date.now();
    const back = await waitFor(async () => {
      const r = await curl(`http://${addresses[victim.spec.name]}:8080/healthz`, 1);
      return r.ok && r.out.includes('ok') && Date.now() - killedAt > 200;
    }, 60000, 200);
    record({ scenario: `4 killed application service on ${victim.spec.name} restarted`, outcome: back === undefined ? 'fail' : 'pass', seconds: back, detail: 'kill -9 inside the VM (guest agent), then /healthz from the client' });

    // 4b. Hang it instead (SIGSTOP): the process stays, so systemd sees nothing; only the fabric watchdog's probes can tell.
    const app = DEFAULT_APPLICATION_SERVICE;
    const mainPid = async () => (await victim.exec(`systemctl show --property=MainPID --value ${app.name}.service`).catch(() => ({ exitcode: -1, stdout: '' }))).stdout.trim();
    const hungPid = await mainPid();
    await victim.exec(`systemctl kill --signal=SIGSTOP ${app.name}.service`);
    const hungAt = Date.now();
    const unhung = await waitFor(
      async () => (await curl(`http://${addresses[victim.spec.name]}:${app.port}/healthz`, 1)).ok && (await mainPid()) !== hungPid,
      180000,
      500,
      hungAt,
    );
    const watchdogSaid = (await victim.exec(`journalctl --no-pager -t fabric-watchdog | grep -c 'restarting ${app.name}.service'`).catch(() => ({ exitcode: -1, stdout: '0' }))).stdout.trim();
    record({
      scenario: `4b hung application service on ${victim.spec.name} restarted by the watchdog`,
      outcome: unhung !== undefined && Number(watchdogSaid) > 0 ? 'pass' : 'fail',
      seconds: unhung,
      detail: `SIGSTOP inside the VM; answers again with a new main PID (was ${hungPid}); watchdog restarts logged: ${watchdogSaid} (probes every ${EMULATED_GUEST_TUNING.probeIntervalSeconds} s)`,
    });

    // Database write through its VIP before any failure.
    const dbWrite = (marker: string) =>
      dbVip && appPassword
        ? network.tryNsAsync(8000, 'mariadb', '-h', dbVip, '-u', 'fabric_app', `-p${appPassword}`, '--connect-timeout=2', 'fabric', '-e', `CREATE TABLE IF NOT EXISTS e2e (id INT AUTO_INCREMENT PRIMARY KEY, marker VARCHAR(64)); INSERT INTO e2e (marker) VALUES ('${marker}')`)
        : Promise.resolve({ ok: false, out: 'no database in the plan' });
    const writes = async (marker: string) => (await dbWrite(marker)).ok;
    const firstWrite = await waitFor(() => writes('before-failover'), 120000, 1000);
    record({ scenario: 'database write through the database VIP', outcome: firstWrite === undefined ? 'fail' : 'pass', seconds: firstWrite, detail: dbVip ? `${dbVip}:3306 as fabric_app` : 'no database' });

    // 3. Power off an application server under a steady stream of idempotent requests.
    const appOnly = vms.find((v) => v.spec.name === appServers[appServers.length - 1])!;
    const stream = streamRequests(network.namespace, `https://${vip}/`, 20, 15000);
    await sleep(5000);
    await appOnly.powerOff();
    const streamResult = await stream;
    record({
      scenario: `3 power off ${appOnly.spec.name} under a request stream`,
      outcome: streamResult.failed === 0 ? 'pass' : 'fail',
      detail: `${streamResult.failed} failed of ${streamResult.sent} GETs at 20/s over kept-alive connections ${JSON.stringify(streamResult.failures)}, slowest ${(streamResult.slowestMs / 1000).toFixed(1)} s`,
    });

    // Who holds which VIP: the client's ARP entry after talking to it.
    const holderOf = (address: string) => {
      const mac = network.tryNs(3000, 'ip', 'neigh', 'show', address).out.match(/lladdr (\S+)/)?.[1]?.toLowerCase();
      return vms.find((v) => v.spec.mac.toLowerCase() === mac);
    };
    const vipHolders = async () => {
      const holders: string[] = [];
      for (const vm of vms.filter((v) => v.running)) {
        const r = await vm.exec('ip -4 -br addr show dev eth0').catch(() => ({ exitcode: -1, stdout: '' }));
        if (r.stdout.includes(` ${vip}/`)) holders.push(vm.spec.name);
      }
      return holders;
    };
    await curl(`https://${vip}/`, 2);
    const fabricHolder = holderOf(vip);
    let dbHolder: QemuVm | undefined;
    if (dbVip) {
      await dbWrite('locate-primary');
      dbHolder = holderOf(dbVip);
    }

    // 5. Power off the database primary: the standby is promoted and takes writes through the database VIP.
    if (dbVip && dbHolder) {
      const monitoringBefore = monitoringNodes.length === 2 ? (await monitoringAnswer()).out.trim() : '';
      // Every time below counts from the kill, and the probes run side by side.
      const offAt = Date.now();
      await dbHolder.powerOff();
      // When the database primary also holds the fabric VIP (the original's first node), both are timed from this power-off.
      const sameNode = dbHolder === fabricHolder;
      // Dedicated database and monitoring nodes are one pair in kvm-fabric-full: time the monitoring VIP from the same power-off.
      const monitoringMoves = monitoringBefore === dbHolder.spec.name;
      const [dbBack, vipBackSame, monitoringBack] = await Promise.all([
        waitFor(() => writes('after-failover'), 180000, 500, offAt),
        sameNode ? waitFor(() => answers(`https://${vip}/`), 60000, 100, offAt) : Promise.resolve(undefined),
        monitoringMoves ? waitFor(monitoringUp, 60000, 100, offAt) : Promise.resolve(undefined),
      ]);
      const newPrimary = holderOf(dbVip);
      record({
        scenario: `5 power off database primary ${dbHolder.spec.name}: write through the database VIP`,
        outcome: dbBack !== undefined && newPrimary !== undefined && newPrimary !== dbHolder ? 'pass' : 'fail',
        seconds: dbBack,
        detail: `the write succeeded on ${newPrimary?.spec.name ?? 'nobody'}`,
      });
      if (sameNode) {
        record({ scenario: `2 power off VIP holder ${dbHolder.spec.name} (the same power-off): fabric VIP answers again`, outcome: vipBackSame === undefined ? 'fail' : 'pass', seconds: vipBackSame, detail: 'measured from the client from that power-off, polled every 100 ms' });
      }
      if (monitoringMoves) {
        const by = (await monitoringAnswer()).out.trim();
        record({ scenario: `monitoring VIP holder ${dbHolder.spec.name} powered off (the same power-off): monitoring VIP answers again`, outcome: monitoringBack !== undefined && by !== dbHolder.spec.name && monitoringNodes.includes(by) ? 'pass' : 'fail', seconds: monitoringBack, detail: `answered by ${by || 'nobody'}, polled every 100 ms` });
      }
      // The old primary returns: it must not take the database VIP back.
      dbHolder.powerOn();
      const returned = await waitFor(async () => (await dbHolder!.exec('systemctl is-active --quiet keepalived', 5000).catch(() => ({ exitcode: -1 }))).exitcode === 0, 300000, 2000);
      // It rejoins as a standby, or stays out as stale: wait (bounded) for either. After a power-off,
      // InnoDB recovery inside a starved guest can take minutes before the hooks run.
      let replicating = false;
      let stale = false;
      await waitFor(async () => {
        const slave = (await dbHolder!.exec('mariadb -e "SHOW SLAVE STATUS\\G"').catch(() => ({ exitcode: -1, stdout: '' }))).stdout;
        replicating = /Slave_IO_Running: Yes/.test(slave) && /Slave_SQL_Running: Yes/.test(slave);
        stale = (await dbHolder!.exec(`cat ${DATABASE_INELIGIBLE_FILE}`).catch(() => ({ exitcode: -1, stdout: '' }))).stdout.trim() === '1';
        return replicating || stale;
      }, 300000, 3000);
      await dbWrite('after-return');
      const primaryAfter = holderOf(dbVip);
      if (!replicating && !stale) {
        const journal = await dbHolder
          .exec(`{ systemctl is-active ${DATABASE_UNIT} keepalived; journalctl --no-pager -t fabric-database -t keepalived-notify -t Keepalived_vrrp | tail -n 20; journalctl --no-pager -u ${DATABASE_UNIT} | tail -n 10; } 2>&1`, 60000)
          .catch((e) => ({ exitcode: -1, stdout: String(e) }));
        console.log(`[e2e] ${dbHolder.spec.name} database hooks:\n${journal.stdout}`);
      }
      record({
        scenario: `5b old primary ${dbHolder.spec.name} returns`,
        outcome: returned !== undefined && primaryAfter === newPrimary && (replicating || stale) ? 'pass' : 'fail',
        seconds: returned,
        detail: `database VIP stays on ${primaryAfter?.spec.name ?? '?'}; ${dbHolder.spec.name} ${replicating ? 'replicates as standby' : stale ? 'stays out as stale' : 'neither replicates nor stays out'}`,
      });
      const holders = await vipHolders();
      record({ scenario: 'fabric VIP held by exactly one node after the return', outcome: holders.length === 1 ? 'pass' : 'fail', detail: `held by [${holders.join(', ')}]` });
    }

    // 2. Power off the fabric VIP holder (unless that already happened with the database primary).
    if (!dbVip || !dbHolder || dbHolder !== fabricHolder) {
      const holder = holderOf(vip) ?? fabricHolder ?? vms[0];
      const offAt = Date.now();
      await holder.powerOff();
      const [vipBack, deviceBack] = await Promise.all([
        waitFor(() => answers(`https://${vip}/`), 60000, 100, offAt),
        deviceVip ? waitFor(pingDevice, 60000, 100, offAt) : Promise.resolve(undefined),
      ]);
      record({ scenario: `2 power off VIP holder ${holder.spec.name}: fabric VIP answers again`, outcome: vipBack === undefined ? 'fail' : 'pass', seconds: vipBack, detail: 'measured from the client, polled every 100 ms' });
      if (deviceVip) record({ scenario: `device VIP answers again after ${holder.spec.name} powered off`, outcome: deviceBack === undefined ? 'fail' : 'pass', seconds: deviceBack, detail: 'ping on the eth3 bridge, from the same power-off' });
    }
  } catch (err) {
    record({ scenario: 'run', outcome: 'fail', detail: (err as Error).message });
    for (const vm of vms) {
      const tail = vm.serial().split('\n').slice(-25).join('\n');
      console.log(`[e2e] last serial lines of ${vm.spec.name}:\n${tail}`);
    }
  } finally {
    teardown();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** What an operator would look at first when a VIP does not answer: load, the HA units, VRRP states, addresses. */
async function printGuestState(vms: QemuVm[]): Promise<void> {
  const command = [
    'uptime',
    `systemctl is-active keepalived haproxy ${DATABASE_UNIT} ${DEFAULT_APPLICATION_SERVICE.name} ${WATCHDOG_UNIT}`,
    'ip -4 -br addr',
    'journalctl --no-pager -u keepalived -n 25',
    `time ${HAPROXY_CHECK_SCRIPT}; echo check-haproxy exit $?`,
  ].join('; ');
  for (const vm of vms.filter((v) => v.running)) {
    const r = await vm.exec(`bash -c '${command}' 2>&1`, 60000).catch((e) => ({ exitcode: -1, stdout: String(e) }));
    console.log(`[e2e] state of ${vm.spec.name}:\n${r.stdout}`);
  }
}

function printTable(): void {
  console.log('\nscenario | outcome | seconds | detail');
  console.log('--- | --- | --- | ---');
  for (const r of results) console.log(`${r.stack}: ${r.scenario} | ${r.outcome} | ${r.seconds?.toFixed(2) ?? ''} | ${r.detail}`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);

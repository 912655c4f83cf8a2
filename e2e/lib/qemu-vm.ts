import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { sh, sleep, waitFor } from './host-commands';
import type { EvaluatedSeed } from './plan-evaluation';
import type { TestNetwork } from './test-network';

/**
 * The emulated CPU: every feature TCG can emulate (the default qemu64 is a
 * 2004 CPU). E2E_QEMU_CPU in the environment overrides it, to compare.
 */
export const QEMU_CPU = process.env.E2E_QEMU_CPU ?? 'max';

/**
 * The kernel command line. Under TCG every instruction is emulated, so what
 * the kernel need not do is time the boot wins: no speculative-execution
 * mitigations (retpolines, buffer clearing on every kernel exit: costly to
 * emulate, and nothing to protect in a test VM), and quiet.
 */
/** E2E_KERNEL_COMMAND_LINE in the environment overrides it, to compare. */
export const KERNEL_COMMAND_LINE = process.env.E2E_KERNEL_COMMAND_LINE ?? 'root=/dev/vda console=ttyS0 rw net.ifnames=0 quiet mitigations=off';

/** Every appliance VM's memory (the plan asks for 32 GiB). */
export const VM_MEMORY_MIB = 1024;

export interface VmImage {
  readonly base: string;
  readonly kernel: string;
  readonly initrd: string;
}

export interface VmSpec {
  readonly name: string;
  readonly namespace: string;
  readonly tap: string;
  readonly mac: string;
  /** The device-management NIC (eth3), when the fabric has a device network. */
  readonly deviceNic?: { readonly tap: string; readonly mac: string };
  readonly memoryMiB: number;
  /** Directory for this VM's overlay, seed, sockets and serial log. */
  readonly dir: string;
  readonly userData: string;
  readonly metaData: string;
  readonly networkConfig: string;
}

/**
 * One appliance VM under QEMU (TCG), booted the way libvirt boots it: the
 * system disk an overlay of the base image, the NoCloud seed a CD-ROM, the
 * NIC with the plan's MAC, an i6300esb watchdog, and the guest agent
 * channel (the tests run commands inside the VM through it).
 */
export class QemuVm {
  private process?: ChildProcess;
  private readonly serialLog: string;
  private readonly agentSocket: string;
  private readonly qmpSocket: string;

  constructor(readonly spec: VmSpec, private readonly image: VmImage) {
    this.serialLog = path.join(spec.dir, 'serial.log');
    this.agentSocket = path.join(spec.dir, 'qga.sock');
    this.qmpSocket = path.join(spec.dir, 'qmp.sock');
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return this.process !== undefined && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Creates the VM's disk and seed, then powers it on. */
  start(): void {
    const s = this.spec;
    const overlay = path.join(s.dir, 'disk.qcow2');
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', this.image.base, '-F', 'qcow2', overlay]);
    const seedDir = path.join(s.dir, 'seed');
    sh('mkdir', ['-p', seedDir]);
    writeFileSync(path.join(seedDir, 'user-data'), s.userData);
    writeFileSync(path.join(seedDir, 'meta-data'), s.metaData);
    writeFileSync(path.join(seedDir, 'network-config'), s.networkConfig);
    const seed = path.join(s.dir, 'seed.iso');
    sh('genisoimage', ['-quiet', '-output', seed, '-volid', 'cidata', '-joliet', '-rock', ...['user-data', 'meta-data', 'network-config'].map((f) => path.join(seedDir, f))]);
    this.powerOn();
  }

  /** Boots the VM from its existing disk (after a power-off: the node returns). */
  powerOn(): void {
    const s = this.spec;
    const overlay = path.join(s.dir, 'disk.qcow2');
    const seed = path.join(s.dir, 'seed.iso');
    if (this.running) throw new Error(`${s.name} is already running`);
    const log = openSync(this.serialLog, 'a');
    const args = [
      'netns', 'exec', s.namespace,
      'qemu-system-x86_64', '-name', s.name, '-accel', 'tcg', '-cpu', QEMU_CPU, '-m', String(s.memoryMiB), '-smp', '1', '-nographic',
      '-kernel', this.image.kernel, '-initrd', this.image.initrd,
      '-append', KERNEL_COMMAND_LINE,
      '-drive', `file=${overlay},if=virtio,format=qcow2`,
      '-drive', `file=${seed},if=virtio,media=cdrom,readonly=on`,
      '-netdev', `tap,id=net0,ifname=${s.tap},script=no,downscript=no`,
      // No option ROM: the kernel boots directly, nothing boots from the network.
      '-device', `virtio-net-pci,netdev=net0,mac=${s.mac},romfile=`,
      ...(s.deviceNic
        ? ['-netdev', `tap,id=net1,ifname=${s.deviceNic.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=net1,mac=${s.deviceNic.mac},romfile=`]
        : []),
      // The device the platform's XSLT adds to the libvirt domain.
      '-device', 'i6300esb', '-action', 'watchdog=reset',
      '-chardev', `socket,path=${this.agentSocket},server=on,wait=off,id=qga0`,
      '-device', 'virtio-serial', '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      '-serial', 'stdio', '-monitor', 'none',
      // QEMU's own events (WATCHDOG when the device fires), read by nextEvent().
      '-qmp', `unix:${this.qmpSocket},server=on,wait=off`,
    ];
    this.process = spawn('ip', args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
  }

  /** Waits until cloud-init reports it finished, reading the serial console. */
  async waitForCloudInit(timeoutMs: number): Promise<number | undefined> {
    return waitFor(() => {
      if (!this.running) throw new Error(`${this.spec.name}: qemu exited before cloud-init finished; see ${this.serialLog}`);
      return /Cloud-init v\. \S+ finished at/.test(this.serial());
    }, timeoutMs, 1000);
  }

  serial(): string {
    return existsSync(this.serialLog) ? readFileSync(this.serialLog, 'utf8') : '';
  }

  /** Power loss: the QEMU process dies at once. Waits (bounded) until it is gone. */
  async powerOff(): Promise<void> {
    const p = this.process;
    if (!p?.pid || !this.running) return;
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await waitFor(() => !this.running, 5000, 50);
  }

  /**
   * A hypervisor stall (a vMotion stun, a host under load): QEMU stops
   * (SIGSTOP), so the guest neither runs nor sends, for `ms`, then goes on
   * as if nothing happened (SIGCONT). Returns how long it really stood.
   */
  async pause(ms: number): Promise<number> {
    const pid = this.process?.pid;
    if (!pid || !this.running) throw new Error(`${this.spec.name} is not running: nothing to pause`);
    const stopped = Date.now();
    process.kill(-pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      process.kill(-pid, 'SIGCONT');
    }
    return Date.now() - stopped;
  }

  /**
   * Resolves with the wall-clock time QEMU reports `event` (e.g. WATCHDOG:
   * the virtual watchdog device fired), or undefined after `timeoutMs`.
   * Listens on the VM's QMP socket from the call on; `stop()` gives up early.
   */
  nextEvent(event: string, timeoutMs: number): { at: Promise<number | undefined>; stop(): void } {
    const socket = connect(this.qmpSocket);
    let settle: (at: number | undefined) => void = () => undefined;
    const at = new Promise<number | undefined>((resolve) => (settle = resolve));
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const done = (when: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      settle(when);
    };
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        const message = JSON.parse(line) as { QMP?: unknown; event?: string };
        // The greeting: events flow only after capabilities are negotiated.
        if (message.QMP) socket.write(JSON.stringify({ execute: 'qmp_capabilities' }) + '\n');
        if (message.event === event) done(Date.now());
      }
    });
    socket.on('error', () => done(undefined));
    return { at, stop: () => done(undefined) };
  }

  /** The guest kernel's boot id (new at every boot, a watchdog reset's too). */
  async bootId(timeoutMs = 20000): Promise<string> {
    const r = await this.exec('cat /proc/sys/kernel/random/boot_id', timeoutMs);
    const id = r.stdout.trim();
    if (r.exitcode !== 0 || !/^[0-9a-f-]{36}$/.test(id)) throw new Error(`${this.spec.name}: reading the boot id exited ${r.exitcode}: ${id}`);
    return id;
  }



  /** Runs a shell command inside the VM through the QEMU guest agent. */
  async exec(command: string, timeoutMs = 20000): Promise<{ exitcode: number; stdout: string }> {
    const start = await this.agent({ execute: 'guest-exec', arguments: { path: '/bin/sh', arg: ['-c', command], 'capture-output': true } }, timeoutMs);
    const pid = (start as { pid: number }).pid;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = (await this.agent({ execute: 'guest-exec-status', arguments: { pid } }, timeoutMs)) as { exited: boolean; exitcode?: number; 'out-data'?: string };
      if (status.exited) return { exitcode: status.exitcode ?? -1, stdout: Buffer.from(status['out-data'] ?? '', 'base64').toString() };
      await sleep(200);
    }
    throw new Error(`${this.spec.name}: '${command}' did not finish in ${timeoutMs} ms`);
  }

  /**
   * One guest-agent request at a time per VM: QEMU's agent socket accepts
   * one connection at a time, and a second connect while the backlog is
   * full fails at once (EAGAIN), which must not read as a guest that
   * cannot answer.
   */
  private agent(request: object, timeoutMs: number): Promise<unknown> {
    const run = this.agentQueue.then(() => this.agentOnce(request, timeoutMs, Date.now() + timeoutMs));
    this.agentQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private agentQueue: Promise<void> = Promise.resolve();

  private agentOnce(request: object, timeoutMs: number, deadline: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.agentSocket);
      const syncId = Math.floor(Math.random() * 1e9);
      let buffer = '';
      let synced = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${this.spec.name}: guest agent did not answer in ${timeoutMs} ms`));
      }, Math.max(0, deadline - Date.now()));
      socket.on('connect', () => socket.write(JSON.stringify({ execute: 'guest-sync', arguments: { id: syncId } }) + '\n'));
      socket.on('data', (chunk) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const reply = JSON.parse(line);
          if (!synced) {
            if (reply.return === syncId) {
              synced = true;
              socket.write(JSON.stringify(request) + '\n');
            }
            continue;
          }
          clearTimeout(timer);
          socket.destroy();
          if (reply.error) reject(new Error(`${this.spec.name}: guest agent: ${reply.error.desc}`));
          else resolve(reply.return);
        }
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // QEMU has not yet seen the previous connection close: connect again, within the same deadline.
        if (err.code === 'EAGAIN' && !synced && Date.now() + 100 < deadline) {
          socket.destroy();
          setTimeout(() => this.agentOnce(request, timeoutMs, deadline).then(resolve, reject), 100);
          return;
        }
        reject(err);
      });
    });
  }

  /** Kills QEMU (if running) and removes the VM's files. */
  destroy(): void {
    if (this.process?.pid && this.running) {
      try {
        process.kill(-this.process.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(this.spec.dir, { recursive: true, force: true });
  }
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The VM libvirt would define from the plan's `domain` for `seed`'s node:
 * its NICs with the domain's MACs (the second, eth3, only when `deviceNic`),
 * each on a new tap of `network` named after `tapId`.
 */
export function applianceVm(seed: EvaluatedSeed, domain: Json, network: TestNetwork, tapId: string, deviceNic: boolean, dir: string, image: VmImage): QemuVm {
  const nics = domain.network_interface as Json[];
  return new QemuVm(
    {
      name: seed.node,
      namespace: network.namespace,
      tap: network.addTap(`tap${tapId}`),
      mac: nics[0].mac as string,
      ...(deviceNic ? { deviceNic: { tap: network.addTap(`dtap${tapId}`, network.deviceBridge), mac: nics[1].mac as string } } : {}),
      memoryMiB: VM_MEMORY_MIB,
      dir,
      ...seed,
    },
    image,
  );
}

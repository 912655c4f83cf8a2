import type { FabricModel } from '../../model/fabric-model';
import type { FabricUnderTest, NodeCommandResult } from '../../test/scenarios/fabric-under-test';
import { DisruptionSampler, SamplerTarget } from './disruption-sampler';
import { QemuVm } from './qemu-vm';
import { TestNetwork } from './test-network';

/**
 * The VM tier as a FabricUnderTest: the shared scenarios (test/scenarios)
 * run on the synthesized plan's appliances booted under QEMU. A node's
 * commands go through the QEMU guest agent; power is QEMU's process.
 */
export class VmFabric implements FabricUnderTest {
  readonly tier = 'VMs';

  constructor(
    readonly model: FabricModel,
    /** The VMs that are the fabric's nodes now (day 2 replaces some). */
    private readonly vms: () => readonly QemuVm[],
    private readonly network: TestNetwork,
    private readonly sampling: { readonly targets: readonly SamplerTarget[]; readonly intervalMs: number },
    /** Whether the client has an address on the device network's bridge. */
    private readonly onDeviceNetwork: boolean,
  ) {}

  get clientNamespace(): string {
    return this.network.namespace;
  }

  get clientDeviceInterface(): string | undefined {
    return this.onDeviceNetwork ? this.network.deviceBridge : undefined;
  }

  sampler(durationMs: number): DisruptionSampler {
    return new DisruptionSampler(['ip', 'netns', 'exec', this.network.namespace], { targets: this.sampling.targets, intervalMs: this.sampling.intervalMs, durationMs });
  }

  private vm(node: string): QemuVm {
    const vm = this.vms().find((v) => v.spec.name === node);
    if (!vm) throw new Error(`no VM runs node ${node}`);
    return vm;
  }

  isUp(node: string): boolean {
    return this.vms().some((v) => v.spec.name === node && v.running);
  }

  async exec(node: string, command: string, timeoutMs = 20_000): Promise<NodeCommandResult> {
    const r = await this.vm(node).exec(command, timeoutMs);
    return { exitCode: r.exitcode, stdout: r.stdout };
  }

  async journal(node: string, tag: string): Promise<string[]> {
    const r = await this.exec(node, `journalctl --no-pager --boot --output=cat --identifier=${tag}`, 30_000);
    if (r.exitCode !== 0) throw new Error(`${node}: journalctl --identifier=${tag} exited ${r.exitCode}: ${r.stdout.trim()}`);
    return r.stdout.split('\n').filter((line) => line !== '');
  }

  /** Asked inside every running guest: a guest that cannot answer rejects the whole question. */
  async holders(address: string): Promise<string[]> {
    const running = this.vms().filter((v) => v.running);
    const held = await Promise.all(
      running.map(async (vm) => {
        const r = await vm.exec('ip -4 -o addr show', 20_000);
        if (r.exitcode !== 0) throw new Error(`${vm.spec.name}: ip addr exited ${r.exitcode}`);
        return r.stdout.includes(` ${address}/`) ? [vm.spec.name] : [];
      }),
    );
    return held.flat();
  }

  /** QEMU stopped and continued (SIGSTOP/SIGCONT of its process): the guest neither runs nor sends. */
  stall(node: string, ms: number): Promise<number> {
    return this.vm(node).pause(ms);
  }

  powerOff(node: string): Promise<void> {
    return this.vm(node).powerOff();
  }

  async powerOn(node: string): Promise<void> {
    this.vm(node).powerOn();
  }
}

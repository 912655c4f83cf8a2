import type { FabricModel } from '../../model/fabric-model';
import type { DisruptionSampler } from '../../e2e/lib/disruption-sampler';

/**
 * A running fabric, as the scenarios in `fabric-scenarios.ts` see it. Two
 * tiers implement it: the namespace harness (the rendered daemons in network
 * namespaces, `test/harness/namespace-fabric.ts`) and the VM tier (the
 * synthesized plan booted under QEMU, `e2e/lib/vm-fabric.ts`). A scenario
 * written against this interface runs unchanged in both.
 *
 * What happens on a node goes through `exec`; what a client sees goes
 * through `clientNamespace` (requests and the VIP move watch run there the
 * same way in both tiers; the disruption samplers too, started by the tier
 * so that it can account for their processes).
 */
export interface FabricUnderTest {
  /** Which tier runs the fabric, for messages. */
  readonly tier: 'namespaces' | 'VMs';
  /** The model the fabric was rendered from: every name, port, unit and address a scenario uses comes from it. */
  readonly model: FabricModel;
  /** The network namespace of the client, which sits on the management network (and on the device network, if any). */
  readonly clientNamespace: string;
  /** The client's interface on the device network, when the fabric has one (ping -I). */
  readonly clientDeviceInterface?: string;
  /**
   * Starts the disruption samplers in the client namespace on the tier's
   * frontends, at the tier's rate, for at most `durationMs`.
   */
  sampler(durationMs: number): DisruptionSampler;

  /** Whether the node is up (not powered off). */
  isUp(node: string): boolean;
  /**
   * Runs a shell command as root on the node, bounded by `timeoutMs`; its
   * exit code and standard output. Rejects when the node cannot be asked.
   */
  exec(node: string, command: string, timeoutMs?: number): Promise<NodeCommandResult>;
  /** The messages a syslog tag logged on the node since it booted (`journalctl -t TAG`), one per line. */
  journal(node: string, tag: string): Promise<string[]>;
  /** The running nodes that have `address` on an interface, asked of each node; rejects when one cannot be asked. */
  holders(address: string): Promise<string[]>;
  /** Freezes the whole node for `ms` (as a hypervisor pause does), then lets it go on; how long it stood, in ms. */
  stall(node: string, ms: number): Promise<number>;
  /** Power loss: every process of the node ends at once and its links go dark. Resolves when it is off. */
  powerOff(node: string): Promise<void>;
  /** Boots a powered-off node again from its own disk (the first-boot steps do not run again). Resolves once it is booting. */
  powerOn(node: string): Promise<void>;
}

export interface NodeCommandResult {
  readonly exitCode: number;
  readonly stdout: string;
}

/**
 * What a scenario found. `id` is the VM tier's stable result id; `problems`
 * is empty when it passed, and otherwise says each thing that was wrong,
 * with what was seen. The VM tier records it as a result, the namespace
 * tier's tests expect its problems to be [].
 */
export interface ScenarioResult {
  readonly id: string;
  /** What it did, naming the nodes it acted on. */
  readonly title: string;
  readonly problems: readonly string[];
  /** What was measured, for a person. */
  readonly detail: string;
  /** The headline figure, when there is one (seconds until served again, a median). */
  readonly seconds?: number;
  /** For a scenario that counts requests: how many were sent, how many failed, the slowest. */
  readonly total?: number;
  readonly failed?: number;
  readonly max_latency_s?: number;
  readonly measured?: Record<string, unknown>;
}

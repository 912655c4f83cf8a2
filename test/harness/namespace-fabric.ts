import { DisruptionSampler } from '../../e2e/lib/disruption-sampler';
import type { FabricModel } from '../../model/fabric-model';
import type { FabricUnderTest, NodeCommandResult } from '../scenarios/fabric-under-test';
import { FabricHarness } from './fabric-harness';
import { JOURNAL_FILE } from './supervisor';

/** What the node's commands find first on their PATH: the harness's systemctl and logger stand-ins, then the host's tools. */
const NODE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The namespace harness as a FabricUnderTest: the shared scenarios
 * (test/scenarios) run on the rendered daemons in network namespaces.
 */
export class NamespaceFabric implements FabricUnderTest {
  readonly tier = 'namespaces';

  constructor(
    private readonly harness: FabricHarness,
    readonly model: FabricModel,
  ) {}

  get clientNamespace(): string {
    return this.harness.clientNs;
  }

  /** The client's interface on the device network is named after the nodes' (the harness plugs both into br-<name>). */
  get clientDeviceInterface(): string | undefined {
    return this.model.deviceNetwork?.interfaceName;
  }

  sampler(durationMs: number): DisruptionSampler {
    return this.harness.sampler(durationMs);
  }

  isUp(node: string): boolean {
    return this.harness.isUp(node);
  }

  async exec(node: string, command: string, timeoutMs = 20_000): Promise<NodeCommandResult> {
    if (!this.harness.isUp(node)) throw new Error(`${node} is powered off`);
    const r = await this.harness.exec(node, ['/usr/bin/env', `PATH=${NODE_PATH}`, 'bash', '-c', command], timeoutMs);
    return { exitCode: r.code ?? -1, stdout: r.stdout };
  }

  /** The logger stand-in's lines (`<epoch> <tag>[<ppid>] <priority>: <message>`) of `tag`, as their messages. */
  async journal(node: string, tag: string): Promise<string[]> {
    const prefix = new RegExp(`^\\S+ ${tag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\[\\d+\\] \\S+: `);
    return this.harness
      .readNodeFile(node, JOURNAL_FILE)
      .split('\n')
      .filter((line) => prefix.test(line))
      .map((line) => line.replace(prefix, ''));
  }

  async holders(address: string): Promise<string[]> {
    return this.harness.vipHolders(address);
  }

  stall(node: string, ms: number): Promise<number> {
    return this.harness.stall(node, ms);
  }

  powerOff(node: string): Promise<void> {
    return this.harness.powerOff(node);
  }

  powerOn(node: string): Promise<void> {
    return this.harness.powerOn(node);
  }
}

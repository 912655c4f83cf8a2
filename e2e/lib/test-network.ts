import { existsSync } from 'node:fs';
import { sh, trySh, tryShAsync } from './host-commands';

/**
 * The VMs' network: a network namespace of our own holding a bridge, one
 * tap device per VM and the client's address. Nothing is created in the
 * root namespace, and everything is removed by name in `destroy()`.
 */
export class TestNetwork {
  readonly bridge = 'br0';
  private readonly taps: string[] = [];
  private created = false;

  /** The second bridge, for the device-management network (eth3), when the fabric has one. */
  readonly deviceBridge = 'br1';

  constructor(
    readonly namespace: string,
    /** The client's address on the bridge, with prefix, e.g. 198.51.100.100/24. */
    private readonly clientCidr: string,
    /**
     * More addresses on the bridge, e.g. the management network's gateway,
     * which a real network has. Each is added as a /32: with the network's
     * own prefix (a /25 inside the client's /24, say) the kernel would take
     * the gateway's address as the source of the client's own requests, and
     * the nodes' firewalls, which let the client in by its address, drop them.
     */
    private readonly extraAddresses: readonly string[] = [],
    /** The client's address on the device bridge; without it there is no device bridge. */
    private readonly deviceClientCidr?: string,
  ) {}

  /**
   * Deletes the namespaces an earlier e2e run left behind when it was killed
   * (SIGKILL gives no teardown): ours by name (`afe2e-<pid>-<n>`) whose
   * process is gone. Returns their names.
   */
  static removeStale(): string[] {
    const removed: string[] = [];
    for (const line of sh('ip', ['netns', 'list']).split('\n')) {
      const m = /^(afe2e-(\d+)-\d+)\b/.exec(line.trim());
      if (!m || Number(m[2]) === process.pid || existsSync(`/proc/${m[2]}`)) continue;
      trySh('ip', ['netns', 'del', m[1]]);
      removed.push(m[1]);
    }
    return removed;
  }

  create(): void {
    const prefix = this.clientCidr.split('.').slice(0, 3).join('.');
    // The host itself must not be in the range the test uses.
    if (sh('ip', ['-br', 'addr']).includes(` ${prefix}.`)) {
      throw new Error(`the host already has an address in ${prefix}.0/24: refusing to run the e2e tier`);
    }
    sh('ip', ['netns', 'add', this.namespace]);
    this.created = true;
    this.ns('ip', 'link', 'set', 'lo', 'up');
    this.ns('ip', 'link', 'add', this.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    this.ns('ip', 'addr', 'add', this.clientCidr, 'dev', this.bridge);
    for (const address of this.extraAddresses) this.ns('ip', 'addr', 'add', `${address}/32`, 'dev', this.bridge);
    this.ns('ip', 'link', 'set', this.bridge, 'up');
    if (this.deviceClientCidr) {
      this.ns('ip', 'link', 'add', this.deviceBridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
      this.ns('ip', 'addr', 'add', this.deviceClientCidr, 'dev', this.deviceBridge);
      this.ns('ip', 'link', 'set', this.deviceBridge, 'up');
    }
  }

  /** Throws unless the namespace sends what it sends to `destination` from `source`. */
  assertSource(destination: string, source: string): void {
    const route = this.ns('ip', '-o', 'route', 'get', destination);
    const from = / src (\S+)/.exec(route)?.[1];
    if (from !== source) throw new Error(`the test network would send to ${destination} from ${from ?? 'no address'}, not from ${source}: ${route.trim()}`);
  }

  addTap(name: string, bridge = this.bridge): string {
    this.ns('ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap');
    this.taps.push(name);
    this.ns('ip', 'link', 'set', name, 'master', bridge);
    this.ns('ip', 'link', 'set', name, 'up');
    return name;
  }

  /** Runs a command inside the namespace. */
  ns(...args: string[]): string {
    return sh('ip', ['netns', 'exec', this.namespace, ...args]);
  }

  tryNs(timeoutMs: number, ...args: string[]): { ok: boolean; out: string } {
    return trySh('ip', ['netns', 'exec', this.namespace, ...args], timeoutMs);
  }

  /** tryNs without blocking the event loop. */
  tryNsAsync(timeoutMs: number, ...args: string[]): Promise<{ ok: boolean; out: string }> {
    return tryShAsync('ip', ['netns', 'exec', this.namespace, ...args], timeoutMs);
  }

  destroy(): void {
    if (!this.created) return;
    for (const tap of this.taps) trySh('ip', ['netns', 'exec', this.namespace, 'ip', 'link', 'del', tap]);
    trySh('ip', ['netns', 'exec', this.namespace, 'ip', 'link', 'del', this.bridge]);
    if (this.deviceClientCidr) trySh('ip', ['netns', 'exec', this.namespace, 'ip', 'link', 'del', this.deviceBridge]);
    trySh('ip', ['netns', 'del', this.namespace]);
    this.created = false;
  }
}

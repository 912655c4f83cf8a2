import { ChildProcess, spawn } from 'node:child_process';
import { trySh } from './host-commands';

/**
 * Counts how often the fabric VIP moves during a step, seen from the
 * client: every VIP holder announces the address with its own MAC
 * (gratuitous ARP), so each change of the VIP's link-layer address in the
 * client's neighbour table is a move. `ip monitor neigh` in the client's
 * namespace reports each update as it happens; the holder before and after
 * is asked inside the guests by the caller.
 */
export class VipMoveWatch {
  private monitor?: ChildProcess;
  private buffer = '';
  /** The VIP's MACs in the order they were seen (the first is the one before the step). */
  readonly macs: string[] = [];
  /** When each MAC after the first was seen (wall-clock ms), in the same order. */
  readonly movedAt: number[] = [];

  constructor(private readonly namespace: string, private readonly vip: string) {}

  start(): void {
    const now = /lladdr (\S+)/.exec(trySh('ip', ['-n', this.namespace, 'neigh', 'show', this.vip]).out)?.[1];
    if (now) this.macs.push(now.toLowerCase());
    const monitor = spawn('ip', ['-n', this.namespace, 'monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.monitor = monitor;
    // Also when the e2e exits on a signal, before any finally.
    const onExit = () => monitor.kill('SIGTERM');
    process.once('exit', onExit);
    monitor.once('exit', () => process.removeListener('exit', onExit));
    monitor.stdout!.on('data', (chunk) => {
      this.buffer += chunk.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const m = new RegExp(`^${this.vip.replace(/\./g, '\\.')} dev \\S+ lladdr (\\S+)`).exec(line);
        if (m && m[1].toLowerCase() !== this.macs[this.macs.length - 1]) {
          this.macs.push(m[1].toLowerCase());
          if (this.macs.length > 1) this.movedAt.push(Date.now());
        }
      }
    });
  }

  /** Stops watching; returns the number of moves and the MACs seen. */
  stop(): { moves: number; macs: string[]; movedAt: number[] } {
    if (this.monitor?.pid && this.monitor.exitCode === null) this.monitor.kill('SIGTERM');
    return { moves: Math.max(0, this.macs.length - 1), macs: [...this.macs], movedAt: [...this.movedAt] };
  }
}

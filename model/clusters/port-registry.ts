import { ProblemCollector } from '../errors';
import { isTcpPort } from './checks';

/**
 * The TCP ports a node listens on: every cluster claims its own as it is
 * built, and `check` refuses two listeners on one port once all are claimed
 * (a node of one cluster may be a member of every other).
 */
export class PortRegistry {
  private readonly reserved = new Map<number, string>();
  private readonly claims: [string, number][] = [];

  /** A port the fabric itself listens on, not a key of the config: never checked, only collided with. */
  reserve(port: number, what: string): void {
    this.reserved.set(port, what);
  }

  /** The port a config key (`where`) gives. */
  claim(where: string, port: number): void {
    this.claims.push([where, port]);
  }

  /** Each claim in the order it was made: a TCP port, taken by nothing before it. */
  check(problems: ProblemCollector): void {
    const usedPorts = new Map(this.reserved);
    for (const [where, port] of this.claims) {
      if (!isTcpPort(where, port, problems)) continue;
      if (usedPorts.has(port)) problems.add(where, `port ${port} is already taken by ${usedPorts.get(port)}`, 'give every listener its own port');
      else usedPorts.set(port, where);
    }
  }
}

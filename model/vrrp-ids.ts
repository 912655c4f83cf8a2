import { ProblemCollector } from './errors';
import { derivedRouterId } from './identifiers';

/**
 * Hands out VRRP router ids per network segment: explicit ids first (a
 * clash is an error), then ids derived from the fabric and VIP names,
 * stepping past any taken on the same segment so two instances never share
 * one.
 */
export class RouterIdAllocator {
  private readonly taken = new Map<string, Map<number, string>>();
  private readonly pending: { segment: string; vipName: string; resolve: (id: number) => void }[] = [];

  constructor(private readonly fabricName: string, private readonly problems: ProblemCollector) {}

  /** Registers an explicit id; returns it. */
  explicit(segment: string, where: string, vipName: string, id: unknown): number {
    if (!Number.isInteger(id) || (id as number) < 1 || (id as number) > 255) {
      this.problems.add(where, `VRRP router id ${String(id)} is outside 1..255`, 'use a whole number from 1 to 255 that no other VRRP instance on this network uses, or leave it out to derive one');
      return 0;
    }
    const ids = this.segment(segment);
    const owner = ids.get(id as number);
    if (owner) {
      this.problems.add(where, `VRRP router id ${String(id)} of ${vipName} is already used by ${owner} on the same network`, 'give each VIP its own router id, or leave them out to derive unique ones');
    } else {
      ids.set(id as number, vipName);
    }
    return id as number;
  }

  /** The id of one VIP: `explicit` when given, else a derived one (known after `assign()`). */
  request(segment: string, where: string, vipName: string, explicit: number | undefined): { id: number } {
    return explicit !== undefined ? { id: this.explicit(segment, where, vipName, explicit) } : this.derived(segment, vipName);
  }

  /** Queues a derived id; call `assign()` after every explicit one is registered. */
  derived(segment: string, vipName: string): { id: number } {
    const box = { id: 0 };
    this.pending.push({ segment, vipName, resolve: (id) => (box.id = id) });
    return box;
  }

  assign(): void {
    for (const p of this.pending) {
      const ids = this.segment(p.segment);
      let id = derivedRouterId(this.fabricName, p.vipName);
      for (let step = 0; step < 255 && ids.has(id); step++) id = (id % 255) + 1;
      ids.set(id, p.vipName);
      p.resolve(id);
    }
  }

  private segment(name: string): Map<number, string> {
    let ids = this.taken.get(name);
    if (!ids) this.taken.set(name, (ids = new Map()));
    return ids;
  }
}

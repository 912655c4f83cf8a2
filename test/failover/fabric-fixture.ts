import { FabricHarness } from '../harness/fabric-harness';
import { namespaceFabricSpec, renderFabric, RenderedFabric } from '../harness/render';

/**
 * One running fabric per test file: started in beforeAll, stopped in
 * afterAll (which also fails the file if any process or namespace of the
 * run was left behind).
 */
export function runningFabric(options: Parameters<typeof namespaceFabricSpec>[0] = {}): { harness: () => FabricHarness; rendered: () => RenderedFabric } {
  let h: FabricHarness | undefined;
  let rendered: RenderedFabric | undefined;
  beforeAll(async () => {
    rendered = renderFabric(namespaceFabricSpec(options));
    h = await FabricHarness.start(rendered);
    try {
      await h.waitReady(30_000);
    } catch (err) {
      await h.stop();
      h = undefined;
      throw err;
    }
  }, 90_000);
  afterAll(async () => {
    const result = await h?.stop();
    expect(result?.leftovers ?? []).toEqual([]);
  }, 90_000);
  return {
    harness: () => {
      if (!h) throw new Error('the fabric did not start');
      return h;
    },
    rendered: () => rendered!,
  };
}

/** Prints what the harness had to emulate or adapt, once per file. */
export function logNotes(h: FabricHarness): void {
  if (h.notes.length) console.log(`namespace harness adaptations:\n  ${h.notes.join('\n  ')}`);
}

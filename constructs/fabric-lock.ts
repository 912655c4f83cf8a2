import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'cdktf';
import { Construct } from 'constructs';
import { FabricValidationError } from '../model/errors';
import { canonicalJson, FabricLock, LockedFabric, LOCK_FORMAT_VERSION } from '../model/identity';

/** Where a fabric keeps its lock (FabricProps.lockFile), from the working directory. Not a config key: a stack decides where its lock lives. */
export const DEFAULT_LOCK_FILE = 'appliance-fabric.lock.json';

const ABOUT =
  'Written by appliance-fabric at synth: the identity and image of every node as last synthesized, by Fabric construct path. ' +
  'Commit it beside the config. A synth that changes a node identity is refused (see replaceAppliances).';

/** The lock file's content, or undefined when there is none; a file that is not a lock of a known format is an error. */
export function readFabricLock(file: string): FabricLock | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockProblem(file, `cannot read it: ${(err as Error).message}`, 'make it readable, or point lockFile elsewhere');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw lockProblem(file, `it is not JSON: ${(err as Error).message}`, 'restore it from version control (resolve a merge conflict by hand, keeping one entry per fabric)');
  }
  const lock = data as Partial<FabricLock>;
  if (typeof lock !== 'object' || lock === null || typeof lock.fabrics !== 'object' || lock.fabrics === null) {
    throw lockProblem(file, 'it has no fabrics', 'restore it from version control; delete it only if no fabric it recorded is deployed');
  }
  if (lock.lockfileVersion !== LOCK_FORMAT_VERSION) {
    throw lockProblem(file, `its lockfileVersion is ${String(lock.lockfileVersion)}, this appliance-fabric reads ${LOCK_FORMAT_VERSION}`, 'synthesize with the appliance-fabric version that wrote it');
  }
  return lock as FabricLock;
}

/** The file's bytes: keys sorted at every level, two-space indented, one trailing newline. */
export function fabricLockText(fabrics: Readonly<Record<string, LockedFabric>>): string {
  // `about` and the version stay on top where a reader looks first; the rest is sorted.
  return `{\n  "about": ${JSON.stringify(ABOUT)},\n  "lockfileVersion": ${LOCK_FORMAT_VERSION},\n  "fabrics": ${canonicalJson(fabrics, 2).replace(/\n/g, '\n  ')}\n}\n`;
}

/**
 * Puts the entries into the file, keeping every other fabric's entry.
 * Writes nothing when the bytes would not change, and otherwise a temporary
 * file renamed over the old one, so a reader never sees half a lock.
 */
export function writeFabricLock(file: string, entries: ReadonlyMap<string, LockedFabric>): void {
  const fabrics: Record<string, LockedFabric> = { ...(readFabricLock(file)?.fabrics ?? {}) };
  for (const [constructPath, entry] of entries) fabrics[constructPath] = entry;
  const text = fabricLockText(fabrics);
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

function lockProblem(file: string, message: string, fix: string): FabricValidationError {
  return new FabricValidationError([{ path: file, message: `the lock file ${message}`, fix }]);
}

const WRITER_ID = 'appliance-fabric-lock-writer';

/**
 * The lock entries that passed their check in this synth, written when the
 * whole app has synthesized: an App-level validation runs after every
 * stack's, so a fabric refused in any stack leaves every lock file as it was.
 * One per App (a child of it), shared by its fabrics.
 */
export class FabricLockWriter extends Construct {
  static of(scope: Construct): FabricLockWriter {
    const app = App.of(scope);
    return (app.node.tryFindChild(WRITER_ID) as FabricLockWriter | undefined) ?? new FabricLockWriter(app);
  }

  private readonly pending = new Map<string, Map<string, LockedFabric>>();

  private constructor(app: App) {
    super(app, WRITER_ID);
    app.node.addValidation({
      validate: () => {
        for (const [file, entries] of this.pending) writeFabricLock(file, entries);
        this.pending.clear();
        return [];
      },
    });
  }

  /** Records an entry to write at the end of this synth. */
  stage(file: string, constructPath: string, entry: LockedFabric): void {
    if (!this.pending.has(file)) this.pending.set(file, new Map());
    this.pending.get(file)!.set(constructPath, entry);
  }
}

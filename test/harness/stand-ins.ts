import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../stacks/project-root';

/** The programs the harness puts into every node in place of what a test node lacks (test/harness/stand-ins/). */
export type StandIn = 'systemctl' | 'logger' | 'cloud-init';

/** From the project root: the bench runs the harness from dist/, where only the compiled TypeScript is. */
const STAND_INS_DIR = path.join(PROJECT_ROOT, 'test', 'harness', 'stand-ins');

/**
 * A stand-in's text with each `@KEY@` replaced by `values[KEY]` (the paths
 * the harness chose). A placeholder left without a value is an error, not
 * a script that quietly writes to "@KEY@".
 */
export function standIn(name: StandIn, values: Readonly<Record<string, string>> = {}): string {
  let text = readFileSync(path.join(STAND_INS_DIR, name), 'utf8');
  for (const [key, value] of Object.entries(values)) text = text.split(`@${key}@`).join(value);
  const left = /@([A-Z_]+)@/.exec(text);
  if (left) throw new Error(`stand-in ${name}: no value for @${left[1]}@`);
  return text;
}

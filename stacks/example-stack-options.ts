import * as path from 'node:path';
import { DEFAULT_LOCK_FILE } from '../constructs/fabric-lock';
import { PROJECT_ROOT } from './project-root';

/** What the example stacks take beside their config: what a YAML file does not say. */
export interface ExampleStackOptions {
  /**
   * The fabric's lock file. Tests, benches and the e2e give one of their own,
   * so that synthesizing a changed config does not touch the project's.
   * @default - appliance-fabric.lock.json at the project root (committed: `npm run synth` leaves it as it is)
   */
  readonly lockFile?: string;
}

/** The project's lock file: beside cdktf.json, wherever the app runs from. */
export const EXAMPLE_LOCK_FILE = path.join(PROJECT_ROOT, DEFAULT_LOCK_FILE);

export function exampleLockFile(options: ExampleStackOptions): string {
  return options.lockFile ?? EXAMPLE_LOCK_FILE;
}

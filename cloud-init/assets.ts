import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Scripts shipped to nodes are real files in `cloud-init/assets/` (shellchecked
 * as files), not strings in TypeScript. The code that renders them runs from
 * several places, and each has the package root, which holds
 * `cloud-init/assets/`, somewhere above it:
 *  - the TypeScript sources under ts-jest: `<root>/cloud-init/`;
 *  - tsc's output: `<root>/dist/cloud-init/`;
 *  - the synth bundle (scripts/build.js): `<root>/dist/stacks/main.bundle.js`;
 *  - the installed package: `node_modules/appliance-fabric/dist/cloud-init/`
 *    (package.json "files" ships `cloud-init/assets/`).
 * So the assets are found by walking up from this module's directory to the
 * package root: the first directory whose package.json is this package's.
 */
const ASSET_DIR = path.join('cloud-init', 'assets');
const PACKAGE_NAME = 'appliance-fabric';
/** Deeper than any of the layouts above; only bounds the walk. */
const MAX_LEVELS = 12;

let root: string | undefined;

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === PACKAGE_NAME && existsSync(path.join(dir, ASSET_DIR));
  } catch {
    return false;
  }
}

function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  for (let level = 0; level < MAX_LEVELS; level++) {
    if (isPackageRoot(dir)) return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`appliance-fabric: found no ${ASSET_DIR}/ in a package root above ${__dirname} (is "${ASSET_DIR}/" missing from the installed package?)`);
}

/**
 * The absolute path of a file the package ships beside its code (listed in
 * package.json "files"), given relative to the package root, e.g. a script
 * that Terraform runs on its own machine.
 */
export function packageFile(relativePath: string): string {
  const file = path.join(packageRoot(), relativePath);
  if (!existsSync(file)) throw new Error(`appliance-fabric: no ${relativePath} in ${packageRoot()} (is it missing from package.json "files"?)`);
  return file;
}

/** The absolute path of asset `name` (a file name in cloud-init/assets/). */
export function assetPath(name: string): string {
  if (!/^[a-z0-9][a-z0-9.-]*$/.test(name)) throw new Error(`not an asset name: '${name}'`);
  const file = path.join(packageRoot(), ASSET_DIR, name);
  if (!existsSync(file)) throw new Error(`appliance-fabric: no asset ${name} in ${path.dirname(file)}`);
  return file;
}

/**
 * Asset `name` as a node gets it: the per-node `header` (generatedHeader)
 * after its `#!` line, the rest as the file has it (its own first comment
 * says which asset it is).
 */
export function renderAsset(name: string, header: string): string {
  const text = readAsset(name);
  const end = text.indexOf('\n');
  if (!text.startsWith('#!') || end < 0) throw new Error(`appliance-fabric: asset ${name} does not start with a #! line`);
  return `${text.slice(0, end + 1)}${header}\n${text.slice(end + 1)}`;
}

const contents = new Map<string, string>();

/** The text of asset `name`, read once per process. */
export function readAsset(name: string): string {
  let text = contents.get(name);
  if (text === undefined) {
    text = readFileSync(assetPath(name), 'utf8');
    contents.set(name, text);
  }
  return text;
}

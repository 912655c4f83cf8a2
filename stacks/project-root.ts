import * as path from 'node:path';

/**
 * The project (or installed package) root, seen from stacks/ (sources,
 * ts-jest) and from dist/stacks/ (tsc's output and the synth bundle) alike.
 */
export const PROJECT_ROOT = path.resolve(__dirname, path.basename(path.dirname(__dirname)) === 'dist' ? '../..' : '..');

import { writeFileSync } from 'node:fs';

/**
 * The harness runs two small programs inside namespaces (a node's mini
 * init, and the client prober). They are ordinary typed functions here; to
 * run one, its compiled source is written to a file with its argument and
 * started with `node`. So the functions must be self-contained: they reach
 * modules through `require` inside their body and use nothing from the
 * enclosing module.
 */
export function writeNodeProgram<A>(file: string, main: (arg: A) => unknown, arg: A): string {
  const source = `'use strict';\n// Written by the appliance-fabric namespace harness.\n(${main.toString()})(${JSON.stringify(arg)});\n`;
  writeFileSync(file, source, { mode: 0o644 });
  return file;
}

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { FabricValidationError, ValidationProblem } from '../model/errors';
import { PROJECT_ROOT } from './project-root';

/** Where the generated schemas are: `schema/` at the package root. */
export const SCHEMA_DIR = path.join(PROJECT_ROOT, 'schema');
const VALIDATORS_FILE = 'validate-stack-config.js';

/** The platform key of each kind of stack config: `vsphere` or `libvirt`, beside `fabric`. */
export type StackConfigPlatform = 'vsphere' | 'libvirt';

/** What ajv reports (the fields the messages below use; ajv runs with allErrors and verbose). */
interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly schema: unknown;
  readonly parentSchema?: SchemaNode;
  readonly data: unknown;
}

interface SchemaNode {
  readonly $ref?: string;
  readonly type?: string;
  readonly description?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly required?: readonly string[];
  readonly anyOf?: readonly SchemaNode[];
  readonly enum?: readonly unknown[];
  readonly items?: SchemaNode;
  readonly default?: unknown;
}

interface Validator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}

/** The generated module: ajv's standalone validators, compiled once at `npm run schema`, not at every synth. */
interface StackConfigValidators extends Record<StackConfigPlatform, Validator> {
  readonly schemaFiles: Record<StackConfigPlatform, string>;
}

let validators: StackConfigValidators | undefined;
const loadValidators = (): StackConfigValidators =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (validators ??= require(path.join(SCHEMA_DIR, VALIDATORS_FILE)) as StackConfigValidators);

/**
 * Reads a stack's YAML config and checks its structure against the config's
 * JSON Schema (generated from the TypeScript types by `npm run schema`):
 * unknown keys, types, allowed values, required keys. Every problem is
 * reported at once, with the file, the key path and the fix; values are then
 * validated by the fabric model and the platform.
 *
 * `platform` is the config's key beside `fabric` (`vsphere` or `libvirt`)
 * and picks the schema.
 */
export function readStackConfig<T>(file: string, platform: StackConfigPlatform): T {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FabricValidationError([{ path: file, message: `cannot read the config: ${(err as Error).message}`, fix: 'fix the YAML syntax at the line shown' }]);
  }
  const problems = checkStackConfig(data, platform, file);
  if (problems.length > 0) throw new FabricValidationError(problems);
  return data as T;
}

/**
 * Checks parsed config data against the schema of its kind; returns the
 * problems (none when it fits). `source` prefixes every path, e.g. the file.
 */
export function checkStackConfig(data: unknown, platform: StackConfigPlatform, source: string): ValidationProblem[] {
  const all = loadValidators();
  const validate = all[platform];
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const definitions = (): Record<string, SchemaNode> => {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, all.schemaFiles[platform]), 'utf8')) as { definitions: Record<string, SchemaNode> };
    return schema.definitions;
  };
  return explain(errors, definitions).map(({ where, message, fix }) => ({
    path: where ? `${source}: ${where}` : source,
    message,
    fix,
  }));
}

interface Problem {
  readonly where: string;
  readonly message: string;
  readonly fix: string;
}

/** ajv's errors as problems: one per key, and one per union (anyOf) instead of one per alternative; in ajv's (document) order. */
function explain(errors: readonly SchemaError[], definitions: () => Record<string, SchemaNode>): Problem[] {
  const found: { order: number; problem: Problem }[] = [];
  // The outermost union first: it accounts for every error inside it.
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.instancePath.length - b.instancePath.length);
  const claimed = new Set<SchemaError>();
  for (const union of unions) {
    if (claimed.has(union)) continue;
    const inside = errors.filter((e) => e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));
    inside.forEach((e) => claimed.add(e));
    const order = errors.indexOf(inside[0]);
    found.push(...explainUnion(union, inside, definitions).map((problem) => ({ order, problem })));
  }
  errors.forEach((error, order) => {
    if (!claimed.has(error)) found.push({ order, problem: explainOne(error) });
  });
  // A key shared by two alternatives may be reported by both.
  const seen = new Set<string>();
  return found
    .sort((a, b) => a.order - b.order)
    .map((f) => f.problem)
    .filter((p) => {
      const key = `${p.where}\n${p.message}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
}

function explainOne(error: SchemaError): Problem {
  const where = keyPath(error.instancePath);
  const parent = error.parentSchema ?? {};
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      return unknownKey(join(where, key), key, Object.keys(parent.properties ?? {}));
    }
    case 'required': {
      const key = String(error.params.missingProperty);
      const about = parent.properties?.[key]?.description;
      return { where: join(where, key), message: 'required key is missing', fix: about ? `add ${key}: ${lowerFirst(about)}` : `add ${key}` };
    }
    case 'type':
      if (where === '') {
        const keys = orList(Object.keys(parent.properties ?? {}).map((k) => `${k}:`));
        return { where, message: error.data === null ? 'the config is empty' : `the config is ${kindOf(error.data)}, not a YAML mapping`, fix: `write a mapping with the keys ${keys}` };
      }
      return wrongType(where, error.data, String(error.params.type), parent);
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => `'${String(v)}'`);
      const near = closest(String(error.data), (error.params.allowedValues as unknown[]).map(String));
      return { where, message: `${show(error.data)} is not an allowed value`, fix: near ? `did you mean '${near}'? (allowed: ${allowed.join(', ')})` : `use ${orList(allowed)}` };
    }
    default:
      return { where, message: `${show(error.data)} ${error.message ?? 'does not fit the schema'}`, fix: 'see the configuration reference in README.md' };
  }
}

/**
 * One message for a union: which alternative the value chose (by its
 * required keys) and what is wrong inside it, or that it names none or
 * several of them.
 */
function explainUnion(union: SchemaError, inside: readonly SchemaError[], definitions: () => Record<string, SchemaNode>): Problem[] {
  const where = keyPath(union.instancePath);
  const defs = definitions();
  const resolve = (node: SchemaNode): SchemaNode => {
    let out = node;
    while (out.$ref) out = defs[out.$ref.replace('#/definitions/', '')];
    return out;
  };
  const alternatives = (union.schema as SchemaNode[]).map(resolve);
  const choice = (a: SchemaNode) => (a.required ?? []).join(' + ');
  const choices = orList(alternatives.map(choice));
  const value = union.data;
  if (!isMapping(value) || !alternatives.every((a) => a.properties)) {
    return [{ where, message: `${show(value)} is ${kindOf(value)}, not a mapping`, fix: `give a mapping with exactly one of ${choices}` }];
  }
  const given = Object.keys(value);
  const known = [...new Set(alternatives.flatMap((a) => Object.keys(a.properties!)))];
  const unknown = given.filter((k) => !known.includes(k));
  if (unknown.length > 0) return unknown.map((k) => unknownKey(join(where, k), k, known));

  const fitting = alternatives.filter((a) => (a.required ?? []).every((k) => given.includes(k)));
  if (fitting.length !== 1) {
    const named = alternatives.filter((a) => (a.required ?? []).some((k) => given.includes(k))).map(choice);
    return [{ where, message: named.length > 1 ? `gives ${named.join(' and ')}` : `gives none of ${choices}`, fix: `give exactly one of ${choices}` }];
  }
  const chosen = fitting[0];
  const problems: Problem[] = [];
  for (const key of given.filter((k) => !(k in chosen.properties!))) {
    const owner = alternatives.find((a) => a !== chosen && key in a.properties!)!;
    problems.push({ where: join(where, key), message: `applies only with ${choice(owner)}, not with ${choice(chosen)}`, fix: `remove ${key}: with ${choice(chosen)} the keys are ${Object.keys(chosen.properties!).join(', ')}` });
  }
  // What is wrong below the chosen alternative's own keys (a nested union included).
  const own = Object.keys(chosen.properties!).filter((k) => given.includes(k));
  const below = inside.filter((e) => own.some((k) => e.instancePath === `${union.instancePath}/${escapePointer(k)}` || e.instancePath.startsWith(`${union.instancePath}/${escapePointer(k)}/`)));
  problems.push(...explain(below, definitions));
  return problems;
}

function unknownKey(where: string, key: string, known: readonly string[]): Problem {
  const near = closest(key, known);
  return { where, message: 'unknown key', fix: near ? `did you mean ${near}?` : `use one of ${known.join(', ')}` };
}

function wrongType(where: string, value: unknown, expected: string, schema: SchemaNode): Problem {
  const example = schema.default !== undefined ? ` (default ${show(schema.default)})` : '';
  if (value === null) return { where, message: 'has no value', fix: `give ${article(expected)}${example}` };
  const message = `${show(value)} is ${kindOf(value)}, not ${article(expected)}`;
  switch (expected) {
    case 'string':
      return { where, message, fix: typeof value === 'number' || typeof value === 'boolean' ? `quote it: '${String(value)}'` : 'write a string' };
    case 'number':
    case 'integer':
      return { where, message, fix: `write a number without quotes${example}` };
    case 'boolean':
      return { where, message, fix: 'write true or false, without quotes' };
    case 'array':
      return { where, message, fix: isMapping(value) ? 'write a list, one "- item" per line or [a, b]' : `write a list: [${show(value)}]` };
    default:
      return { where, message, fix: 'write a mapping of keys (key: value, indented under it)' };
  }
}

/** `/fabric/appliances/0/name` -> `fabric.appliances[0].name`. */
function keyPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, s) => (/^\d+$/.test(s) ? `${out}[${s}]` : out ? `${out}.${s}` : s), '');
}

const join = (where: string, key: string) => (where ? `${where}.${key}` : key);
const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');
const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const kindOf = (value: unknown) => (Array.isArray(value) ? 'a list' : isMapping(value) ? 'a mapping' : value === null ? 'empty' : `a ${typeof value}`);
const article = (type: string) => ({ array: 'a list', object: 'a mapping', integer: 'a whole number' })[type] ?? `a ${type}`;
const show = (value: unknown) => (typeof value === 'string' ? `'${value}'` : isMapping(value) || Array.isArray(value) ? JSON.stringify(value) : String(value));
/** A description's first sentence, lower-cased to follow "add key:". */
const lowerFirst = (text: string) => {
  const sentence = text.split(/(?<!\b(?:e\.g|i\.e))\.(?:\s|$)/)[0];
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
};
const orList = (items: readonly string[]) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`);

/**
 * The known key a misspelt one most likely meant: case-insensitive edit
 * distance, also against each candidate's start (`advertIntervall` ->
 * `advertIntervalSeconds`); none when nothing is close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const c = candidate.toLowerCase();
    const score = Math.min(editDistance(w, c), c.length > w.length ? editDistance(w, c.slice(0, w.length)) + 1 : Infinity);
    if (score <= Math.max(2, Math.floor(w.length / 4)) && (!best || score < best.score)) best = { candidate, score };
  }
  return best?.candidate;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

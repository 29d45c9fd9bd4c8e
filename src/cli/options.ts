// Command options from a JSON config file (`--config`) overridden by flags, checked by a strict schema;
// the first problem is reported with the file and option at fault: a flag by its name (`--limit-train`),
// a config file's key as the file has it (`cfg.json: option "limitTrain"`).

import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';

export { SEED } from '../runtime/random.js';

/** `--text-column`, `--text-pair-column`, `--label-column`: the commands that read examples share them. */
export function columnOptions(command: Command): Command {
  return command
    .option('--text-column <name>', 'CSV/TSV header name or JSONL key of the text (default: text)')
    .option(
      '--text-pair-column <name>',
      'header name or key of the second text (default: text_pair, if there)',
    )
    .option('--label-column <name>', 'header name or key of the label (default: label)');
}

/** Commander's parser for a numeric option: text that is not a number is refused as it was typed. */
export function numberArg(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new InvalidArgumentError('It is not a number.');
  return n;
}

/**
 * `flags` are commander's option values (camelCase keys, as commander derives them from `--kebab-case`),
 * `config` among them the path of a JSON file of the same keys. With `command`, messages name a flag as
 * the command declares it (`--out <dir>`); without it, the flag is derived from the key (`--out`).
 */
export async function parseOptions<S extends z.ZodType>(
  schema: S,
  flags: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
  command?: Command,
): Promise<z.infer<S>> {
  const { config, ...rest } = flags;
  const fromFile = config ? await readConfigFile(String(config)) : {};
  const input: Record<string, unknown> = { ...defaults, ...fromFile, ...rest };
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  // A misspelt key first: it may be why a required option looks missing.
  const issue = issues.find((i) => i.code === 'unrecognized_keys' && i.path.length === 0) ?? issues[0]!;
  const file = config ? String(config) : undefined;
  throw new Error(optionMessage(issue, { input, fromFile, rest, file, schema, command }));
}

interface Context {
  readonly input: Record<string, unknown>;
  readonly fromFile: Record<string, unknown>;
  readonly rest: Record<string, unknown>;
  readonly file: string | undefined;
  readonly schema: z.ZodType;
  readonly command: Command | undefined;
}

function optionMessage(issue: z.core.$ZodIssue, c: Context): string {
  if (issue.code === 'unrecognized_keys' && issue.path.length === 0) return unknownKeys(issue.keys, c);
  const key = issue.path[0];
  // A check across options: neither one flag nor the file to blame.
  if (typeof key !== 'string') return issue.message;
  const sub = issue.path.length > 1 ? ` (at ${issue.path.map(String).join('.')})` : '';
  const value = c.input[key];
  if (value === undefined) {
    const orFile = c.file ? ` (on the command line or as "${key}" in ${c.file})` : '';
    return `required option ${flagOf(key, c.command, true)} not given${orFile}`;
  }
  if (c.file && key in c.fromFile && c.rest[key] === undefined)
    return `${c.file}: option "${issue.path.map(String).join('.')}": ${issue.message}`;
  // A NaN: the command line's numbers are refused by numberArg with their text; a caller may still pass one.
  if (issue.code === 'invalid_type' && issue.expected === 'number' && Number.isNaN(value))
    return `${flagOf(key, c.command)}: expected a number`;
  return `${flagOf(key, c.command)}${sub}: ${issue.message}`;
}

/**
 * Unknown keys (only a config file has them): for each, the key meant where one is near; the keys there are
 * after those near none.
 */
function unknownKeys(keys: readonly string[], c: Context): string {
  const known = objectKeys(c.schema);
  const far: string[] = [];
  const near: string[] = [];
  for (const k of keys) {
    const hint = meantKey(k, known, c.command);
    if (hint) near.push(`"${k}" (${hint})`);
    else far.push(`"${k}"`);
  }
  const list = far.length > 0 && known.length > 0 ? ` (keys: ${known.join(', ')})` : '';
  const parts = [...(far.length > 0 ? [`${far.join(', ')}${list}`] : []), ...near];
  const where = c.file && keys.every((k) => k in c.fromFile) ? `${c.file}: ` : '';
  return `${where}unknown key${keys.length > 1 ? 's' : ''} ${parts.join(', ')}`;
}

/**
 * The key an unknown one likely means: the same words in camelCase (`limit-train`, `limit_train`), else
 * keys a typo or two away (`epoch`); undefined where none is near.
 */
function meantKey(k: string, known: readonly string[], command: Command | undefined): string | undefined {
  const same = known.find((o) => normalize(o) === normalize(k));
  if (same !== undefined) {
    // A key only a config file sets has no flag to name.
    const flag = !command || declared(same, command) ? flagOf(same, command) : undefined;
    return `${flag ? `the key for ${flag}` : 'the key'} is "${same}"`;
  }
  const close = known.filter((o) => distance(normalize(o), normalize(k)) <= Math.min(2, (k.length - 1) / 3));
  return close.length > 0 ? `did you mean ${close.map((o) => `"${o}"`).join(' or ')}?` : undefined;
}

/** The option `command` declares for a key (not its `--no-` form), if any. */
function declared(key: string, command: Command | undefined) {
  return command?.options.find((o) => o.long && !o.negate && o.attributeName() === key);
}

/**
 * The flag for an option key: as `command` declares it (with its value placeholder if `withValue`), else
 * derived as commander derives keys from flags (`limitTrain` from `--limit-train`).
 */
function flagOf(key: string, command: Command | undefined, withValue = false): string {
  const option = declared(key, command);
  if (option) return withValue ? option.flags : option.long!;
  return `--${key.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
}

/** The keys of an object schema (or of a pipe's input), in declaration order; [] for other schemas. */
function objectKeys(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodPipe) return objectKeys(schema.in as z.ZodType);
  return [];
}

/** `limit-train`, `limit_train`, `LimitTrain` and `limitTrain` alike. */
const normalize = (k: string) => k.replace(/[-_]/g, '').toLowerCase();

/** Levenshtein distance. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new Error(`${file}: expected a JSON object of options`);
  return v as Record<string, unknown>;
}

/**
 * A true/false option that a --config file may also set: `--name` turns it on and `--no-name` off,
 * and with neither the config's value (or the default) stands.
 */
export function switchOption(command: Command, flag: `--${string}`, description: string): Command {
  return command
    .option(flag, description)
    .option(`--no-${flag.slice(2)}`, `turn ${flag} off (where a --config file turns it on)`);
}

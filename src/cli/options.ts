// Command options from a JSON config file (`--config`) overridden by flags, checked by a strict schema;
// the first problem is reported with the file and option at fault.

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { z } from 'zod';

export { SEED } from '../runtime/random.js';

export async function parseOptions<S extends z.ZodType>(
  schema: S,
  flags: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): Promise<z.infer<S>> {
  const { config, ...rest } = flags;
  const fromFile = config ? await readConfigFile(String(config)) : {};
  const parsed = schema.safeParse({ ...defaults, ...fromFile, ...rest });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // An unknown key's name is in the issue's `keys`, not its path.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const where = [...issue.path.map(String), ...keys].join('.');
    const key = issue.path[0];
    const fromConfig =
      keys.length > 0 || (key !== undefined && key in fromFile && rest[key as string] === undefined);
    const origin = config && fromConfig ? `${String(config)}: ` : '';
    throw new Error(`${origin}option "${where}": ${issue.message}`);
  }
  return parsed.data;
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

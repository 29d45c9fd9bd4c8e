// Command options from a JSON config file (`--config`) overridden by flags, checked by a strict schema;
// the first problem is reported with the file and option at fault.

import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

export async function parseOptions<S extends z.ZodType>(
  schema: S,
  flags: Record<string, unknown>,
  defaults: Record<string, unknown> = {},
): Promise<z.infer<S>> {
  const { config, ...rest } = flags;
  const fromFile = config
    ? (JSON.parse(await readFile(String(config), 'utf8')) as Record<string, unknown>)
    : {};
  const parsed = schema.safeParse({ ...defaults, ...fromFile, ...rest });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(
      `${config ? `${String(config)}: ` : ''}option "${issue.path.join('.')}": ${issue.message}`,
    );
  }
  return parsed.data;
}

// Reading and writing a model directory's `config.json` (its schema: ./hf-config-schema.ts, re-exported).

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { directoryHint } from './directory-hint.js';
import { CONFIG_FILE_NAME, HfConfigError, parseHfConfig, type HfConfig } from './hf-config-schema.js';

export * from './hf-config-schema.js';

/** Loads and validates `config.json` from a model directory (or the path of a .json file itself). */
export async function loadHfConfig(dirOrFile: string): Promise<HfConfig> {
  const file =
    dirOrFile.endsWith('.json') && !(await stat(dirOrFile).catch(() => undefined))?.isDirectory()
      ? dirOrFile
      : join(dirOrFile, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT' && file !== dirOrFile ? await directoryHint(dirOrFile, 'model') : undefined;
    throw new HfConfigError(
      file,
      '',
      code === 'ENOENT'
        ? `file not found${hint ? ` (${hint})` : ''}`
        : `cannot read: ${(e as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new HfConfigError(file, '', `not valid JSON (${(e as Error).message})`);
  }
  return parseHfConfig(raw, file);
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * Validates `config` and writes it to `<dir>/config.json` atomically, formatted like transformers'
 * save_pretrained (sorted keys, 2-space indent, trailing newline). `num_labels` is not written: as in
 * transformers it is implied by id2label. Returns the file path.
 */
export async function writeHfConfig(dir: string, config: Readonly<Record<string, unknown>>): Promise<string> {
  const file = join(dir, CONFIG_FILE_NAME);
  const valid = parseHfConfig(config, file);
  const rest: Record<string, unknown> = { ...valid };
  delete rest['num_labels'];
  const text = JSON.stringify(sortKeysDeep(rest), null, 2) + '\n';
  await writeFileAtomic(file, [Buffer.from(text, 'utf8')]);
  return file;
}

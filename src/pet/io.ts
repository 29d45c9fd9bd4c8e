// Saving and loading a PET module's files in a directory (the formats, in memory: ./files.ts).

import { mkdir, readFile } from 'node:fs/promises';
import { directoryHint } from '../io/directory-hint.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { ModelConfig } from '../nn/config.js';
import { PetError } from './common.js';
import {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  parsePet,
  petFiles,
  type LoadedPet,
  type LoadPetOptions,
  type SavePetOptions,
} from './files.js';

export async function savePet(dir: string, o: SavePetOptions): Promise<void> {
  const { config, weights } = petFiles(o);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, ADAPTER_WEIGHTS_NAME), [weights]);
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_NAME), [
    Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8'),
  ]);
}

/** Loads a PET module (plmkit's format, or PEFT's for LoRA) for the base model `model`. */
export async function loadPet(
  dir: string,
  model: ModelConfig,
  opts: LoadPetOptions = {},
): Promise<LoadedPet> {
  const cfgFile = join(dir, ADAPTER_CONFIG_NAME);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(cfgFile, 'utf8'));
  } catch (e) {
    const enoent = (e as NodeJS.ErrnoException).code === 'ENOENT';
    const hint = enoent ? await directoryHint(dir, 'adapter') : undefined;
    throw new PetError(
      `${cfgFile}: ${enoent ? `file not found${hint ? ` (${hint})` : ''}` : (e as Error).message}`,
    );
  }
  return parsePet(raw, await readFile(join(dir, ADAPTER_WEIGHTS_NAME)), model, dir, opts);
}

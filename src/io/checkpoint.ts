// Hugging Face model directories: config.json and safetensors files read into a ModelConfig and tensors,
// and written back (the in-memory mapping to parameter values: ./weights.ts, re-exported here).

import { mkdir } from 'node:fs/promises';
import type { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { loadHfConfig, writeHfConfig } from './hf-config.js';
import { readSafetensorsDir, writeSafetensorsDir } from './safetensors.js';
import { hfConfigFromModel, hfTensors, modelConfigFromHf, type PretrainedDir } from './weights.js';

export * from './weights.js';

export async function readPretrained(dir: string): Promise<PretrainedDir> {
  const hf = await loadHfConfig(dir);
  const { tensors, files } = await readSafetensorsDir(dir);
  return { dir, hf, config: modelConfigFromHf(hf), tensors, files };
}
export interface SaveOptions {
  readonly floatStorage?: 'F32' | 'F16' | 'BF16';
  readonly maxShardSize?: number | string;
  /** Extra config.json fields (labels, architectures) to keep. */
  readonly hfBase?: Readonly<Record<string, unknown>>;
}

/** Writes config.json and safetensors with Hugging Face names and layouts (atomic file writes). */
export async function savePretrained(
  dir: string,
  b: ModelBuilder,
  cfg: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
  opts: SaveOptions = {},
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeSafetensorsDir(dir, hfTensors(b, values), {
    ...(opts.floatStorage ? { floatStorage: opts.floatStorage } : {}),
    ...(opts.maxShardSize !== undefined ? { maxShardSize: opts.maxShardSize } : {}),
  });
  await writeHfConfig(dir, hfConfigFromModel(cfg, opts.hfBase));
}

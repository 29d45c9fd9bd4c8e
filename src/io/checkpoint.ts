// Hugging Face model directories: config.json and safetensors files read into a ModelConfig and tensors,
// and written back (the in-memory mapping to parameter values: ./weights.ts, re-exported here).

import { mkdir } from 'node:fs/promises';
import type { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { loadHfConfig, writeHfConfig } from './hf-config.js';
import { readSafetensorsDir, writeSafetensorsDir } from './safetensors.js';
import {
  CheckpointError,
  hfConfigFromModel,
  modelConfigFromHf,
  transpose2d,
  type PretrainedDir,
} from './weights.js';

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
  const tensors: [string, { shape: number[]; data: Float32Array }][] = [];
  for (const [name, spec] of b.params) {
    const v = values.get(name);
    if (!v) throw new CheckpointError(`no value for parameter "${name}" to save`);
    const shape = spec.tensor.shape as number[];
    tensors.push(
      spec.linear
        ? [name, { shape: [shape[1]!, shape[0]!], data: transpose2d(v, shape[0]!, shape[1]!) }]
        : [name, { shape: [...shape], data: v }],
    );
  }
  await writeSafetensorsDir(dir, new Map(tensors), {
    ...(opts.floatStorage ? { floatStorage: opts.floatStorage } : {}),
    ...(opts.maxShardSize !== undefined ? { maxShardSize: opts.maxShardSize } : {}),
  });
  await writeHfConfig(dir, hfConfigFromModel(cfg, opts.hfBase));
}

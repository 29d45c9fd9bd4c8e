// Saving and restoring a TrainState (parameters, optimizer slots, step) with run-specific JSON beside it,
// as one directory replaced atomically.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { completeDir, replaceDir } from '../io/atomic-dir.js';
import { readSafetensors, tensorToFloat32, writeSafetensors } from '../io/safetensors.js';
import type { TrainState } from './train-step.js';

export async function saveTrainState(dir: string, state: TrainState, extra: unknown): Promise<void> {
  await replaceDir(dir, async (tmp) => {
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of state.params) tensors.set(`param:${k}`, { shape: [v.length], data: v });
    for (const [k, v] of state.slots) tensors.set(`slot:${k}`, { shape: [v.length], data: v });
    await writeSafetensors(join(tmp, 'state.safetensors'), tensors);
    await writeFile(join(tmp, 'trainer_state.json'), JSON.stringify({ step: state.step, extra }));
  });
}

/** Restores `state` in place from `dir` if a complete checkpoint is there; returns its extra JSON. */
export async function loadTrainState<T>(dir: string, state: TrainState): Promise<T | undefined> {
  const found = await completeDir(dir);
  if (!found) return undefined;
  const meta = JSON.parse(await readFile(join(found, 'trainer_state.json'), 'utf8')) as {
    step: number;
    extra: T;
  };
  const saved = await readSafetensors(join(found, 'state.safetensors'));
  const get = (k: string, size: number) => {
    const t = saved.tensors.get(k);
    if (!t)
      throw new Error(`${found}/state.safetensors lacks "${k}": the checkpoint belongs to another model`);
    const v = tensorToFloat32(t, k);
    if (v.length !== size)
      throw new Error(`${found}/state.safetensors: "${k}" has ${v.length} values, expected ${size}`);
    return v;
  };
  for (const [k, v] of state.params) state.params.set(k, get(`param:${k}`, v.length));
  for (const [k, v] of state.slots) state.slots.set(k, get(`slot:${k}`, v.length));
  state.step = meta.step;
  return meta.extra;
}

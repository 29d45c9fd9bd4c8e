// Merging LoRA updates into the base weights and taking them out again, as pure functions on value maps
// (our layout: weights [in, out], A [in, r], B [r, out]): W' = W ± (alpha / r) · A B.

import type { ModelConfig } from '../../nn/config.js';
import { PetError } from '../common.js';
import type { LoraConfig } from './config.js';
import { loraModules } from './layer.js';

function apply(
  values: ReadonlyMap<string, Float32Array>,
  cfg: LoraConfig,
  model: ModelConfig,
  sign: 1 | -1,
): Map<string, Float32Array> {
  const out = new Map(values);
  const s = (sign * cfg.alpha) / cfg.r;
  const r = cfg.r;
  for (const { path, inF, outF } of loraModules(cfg, model)) {
    const get = (name: string, size: number) => {
      const v = values.get(name);
      if (!v) throw new PetError(`LoRA merge: no value for "${name}"`);
      if (v.length !== size)
        throw new PetError(`LoRA merge: "${name}" has ${v.length} values, expected ${size}`);
      return v;
    };
    const w = get(`${path}.weight`, inF * outF);
    const a = get(`${path}.lora_A.weight`, inF * r);
    const b = get(`${path}.lora_B.weight`, r * outF);
    const merged = new Float32Array(w.length);
    const row = new Float64Array(outF);
    for (let i = 0; i < inF; i++) {
      row.fill(0);
      for (let k = 0; k < r; k++) {
        const aik = a[i * r + k]!;
        if (aik === 0) continue;
        for (let o = 0; o < outF; o++) row[o]! += aik * b[k * outF + o]!;
      }
      for (let o = 0; o < outF; o++) merged[i * outF + o] = w[i * outF + o]! + s * row[o]!;
    }
    out.set(`${path}.weight`, merged);
  }
  return out;
}

/** Base weights with the LoRA updates added (LoRA values are kept, so `unmergeLora` can undo it). */
export function mergeLora(
  values: ReadonlyMap<string, Float32Array>,
  cfg: LoraConfig,
  model: ModelConfig,
): Map<string, Float32Array> {
  return apply(values, cfg, model, 1);
}

/** The inverse of `mergeLora` (up to float32 rounding). */
export function unmergeLora(
  values: ReadonlyMap<string, Float32Array>,
  cfg: LoraConfig,
  model: ModelConfig,
): Map<string, Float32Array> {
  return apply(values, cfg, model, -1);
}

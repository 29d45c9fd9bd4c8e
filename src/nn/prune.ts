// Structured pruning: attention heads and FFN units physically removed from a model's weights, with the
// configuration that builds the narrower graph (recompile after pruning). Heads are named by their
// original index, as transformers' prune_heads and config.json's pruned_heads name them.

import type { ModelConfig } from './config.js';
import { layerShape, type PrunedLayer } from './encoder.js';

/** A config and the parameter values that fit it. */
export interface PrunedModel {
  readonly config: ModelConfig;
  readonly values: Map<string, Float32Array>;
}

/** Columns `keep` of a row-major [rows, cols] matrix (our linear weights are [in, out]). */
function columns(m: Float32Array, rows: number, cols: number, keep: readonly number[]): Float32Array {
  const out = new Float32Array(rows * keep.length);
  for (let r = 0; r < rows; r++) keep.forEach((c, j) => (out[r * keep.length + j] = m[r * cols + c]!));
  return out;
}

/** Rows `keep` of a row-major matrix with `cols` columns. */
function rows(m: Float32Array, cols: number, keep: readonly number[]): Float32Array {
  const out = new Float32Array(keep.length * cols);
  keep.forEach((r, i) => out.set(m.subarray(r * cols, (r + 1) * cols), i * cols));
  return out;
}

function layerPath(cfg: ModelConfig, i: number): string {
  return `${cfg.modelType}.encoder.layer.${i}`;
}

function get(values: ReadonlyMap<string, Float32Array>, name: string): Float32Array {
  const v = values.get(name);
  if (!v) throw new Error(`pruning: no parameter "${name}"`);
  return v;
}

/** A layer named by a key of the caller's map, checked against the model. */
function layerIndex(op: string, key: string, cfg: ModelConfig): number {
  const i = Number(key);
  if (!Number.isInteger(i) || i < 0 || i >= cfg.numLayers)
    throw new Error(`${op}: layer ${key} is not one of the model's ${cfg.numLayers} layers`);
  return i;
}

function withLayer(cfg: ModelConfig, i: number, layer: PrunedLayer): ModelConfig {
  return { ...cfg, prunedLayers: { ...cfg.prunedLayers, [i]: layer } };
}

/**
 * Removes attention heads: `heads[layer]` lists original head indices (heads pruned before are skipped,
 * as transformers skips them). Each layer keeps at least one head.
 */
export function pruneHeads(
  model: PrunedModel,
  heads: Readonly<Record<number, readonly number[]>>,
): PrunedModel {
  let { config } = model;
  const values = new Map(model.values);
  for (const [key, list] of Object.entries(heads)) {
    const i = layerIndex('pruneHeads', key, config);
    const before = config.prunedLayers?.[i]?.prunedHeads ?? [];
    for (const h of list)
      if (!Number.isInteger(h) || h < 0 || h >= config.numHeads)
        throw new Error(`pruneHeads: layer ${i} has no head ${h} (heads 0..${config.numHeads - 1})`);
    const removed = [...new Set(list)].filter((h) => !before.includes(h));
    const { numHeads, headSize: dh, intermediateSize } = layerShape(config, i);
    if (removed.length === 0) continue;
    if (removed.length >= numHeads) throw new Error(`pruneHeads: layer ${i} would have no head left`);
    // The layer's current heads, in order, by original index; the kept ones' dimensions.
    const current = Array.from({ length: config.numHeads }, (_, h) => h).filter((h) => !before.includes(h));
    const keepDims = current.flatMap((h, pos) =>
      removed.includes(h) ? [] : Array.from({ length: dh }, (_, d) => pos * dh + d),
    );
    const all = numHeads * dh;
    const h = config.hiddenSize;
    const p = `${layerPath(config, i)}.attention`;
    for (const proj of ['query', 'key', 'value']) {
      values.set(
        `${p}.self.${proj}.weight`,
        columns(get(values, `${p}.self.${proj}.weight`), h, all, keepDims),
      );
      const bias = get(values, `${p}.self.${proj}.bias`);
      values.set(
        `${p}.self.${proj}.bias`,
        Float32Array.from(keepDims, (d) => bias[d]!),
      );
    }
    values.set(`${p}.output.dense.weight`, rows(get(values, `${p}.output.dense.weight`), h, keepDims));
    config = withLayer(config, i, {
      prunedHeads: [...before, ...removed].sort((a, b) => a - b),
      intermediateSize,
    });
  }
  return { config, values };
}

/** Removes FFN units: `units[layer]` lists indices among the layer's current units. At least one stays. */
export function pruneFfn(
  model: PrunedModel,
  units: Readonly<Record<number, readonly number[]>>,
): PrunedModel {
  let { config } = model;
  const values = new Map(model.values);
  for (const [key, list] of Object.entries(units)) {
    const i = layerIndex('pruneFfn', key, config);
    const { intermediateSize: n } = layerShape(config, i);
    for (const u of list)
      if (!Number.isInteger(u) || u < 0 || u >= n)
        throw new Error(`pruneFfn: layer ${i} has no FFN unit ${u} (units 0..${n - 1})`);
    const drop = new Set(list);
    if (drop.size === 0) continue;
    if (drop.size >= n) throw new Error(`pruneFfn: layer ${i} would have no FFN unit left`);
    const keep = Array.from({ length: n }, (_, u) => u).filter((u) => !drop.has(u));
    const h = config.hiddenSize;
    const p = layerPath(config, i);
    values.set(
      `${p}.intermediate.dense.weight`,
      columns(get(values, `${p}.intermediate.dense.weight`), h, n, keep),
    );
    const bias = get(values, `${p}.intermediate.dense.bias`);
    values.set(
      `${p}.intermediate.dense.bias`,
      Float32Array.from(keep, (u) => bias[u]!),
    );
    values.set(`${p}.output.dense.weight`, rows(get(values, `${p}.output.dense.weight`), h, keep));
    config = withLayer(config, i, {
      prunedHeads: config.prunedLayers?.[i]?.prunedHeads ?? [],
      intermediateSize: keep.length,
    });
  }
  return { config, values };
}

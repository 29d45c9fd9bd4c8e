// A BERT-style post-LayerNorm transformer encoder with Hugging Face parameter names.

import type { Tensor } from '../graph/graph.js';
import { cast } from '../graph/ops/core.js';
import { add, mul, sub } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/matmul.js';
import { softmax } from '../graph/ops/nn-ops.js';
import { concat, reshape, transpose, unsqueeze } from '../graph/ops/shape-ops.js';
import type { Init, ModelBuilder } from './builder.js';
import { activation } from './activation.js';
import { dense, layerNormLayer } from './layers.js';

export interface EncoderConfig {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly intermediateSize: number;
  readonly hiddenDropout: number;
  readonly attentionDropout: number;
  readonly layerNormEps: number;
  readonly initStd: number;
  /** Hugging Face `hidden_act` (./activation.ts). */
  readonly hiddenAct?: string;
  /**
   * Layers that structured pruning made narrower (./prune.ts), by layer index: the heads removed (their
   * indices among the layer's original `numHeads`, as config.json's `pruned_heads` lists them) and the
   * FFN units left. A head keeps hiddenSize / numHeads dimensions whatever the others do.
   */
  readonly prunedLayers?: Readonly<Record<number, PrunedLayer>>;
}

export interface PrunedLayer {
  readonly prunedHeads: readonly number[];
  readonly intermediateSize: number;
}

/** Heads and FFN width of layer `i`, after any pruning. */
export function layerShape(
  cfg: EncoderConfig,
  i: number,
): { readonly numHeads: number; readonly headSize: number; readonly intermediateSize: number } {
  const pruned = cfg.prunedLayers?.[i];
  return {
    numHeads: cfg.numHeads - (pruned?.prunedHeads.length ?? 0),
    headSize: cfg.hiddenSize / cfg.numHeads,
    intermediateSize: pruned?.intermediateSize ?? cfg.intermediateSize,
  };
}

/**
 * Optional hook points of one layer, for parameter-efficient tuning (src/pet). Without hooks the graph is
 * exactly the plain encoder's.
 */
export interface LayerHooks {
  /** A linear projection's output `y = x W + b`; `name` is its Hugging Face module path (LoRA). */
  readonly projection?: (name: string, x: Tensor, y: Tensor) => Tensor;
  /** Keys and values [batch, P, hidden] put before the layer's own, and the attention bias extended to match. */
  readonly keyValuePrefix?: (
    x: Tensor,
    bias: Tensor,
  ) => { readonly key: Tensor; readonly value: Tensor; readonly bias: Tensor };
  /** The attention output projection after its dropout, before the residual add; `input`: the layer input. */
  readonly attentionOutput?: (out: Tensor, input: Tensor) => Tensor;
  /** The FFN output projection after its dropout, before the residual add; `input`: the FFN input. */
  readonly ffnOutput?: (out: Tensor, input: Tensor) => Tensor;
}

export interface EncoderHooks {
  /** Hooks of layer `index` (module path `path`), or none. */
  readonly layer?: (index: number, path: string) => LayerHooks | undefined;
}

/** Additive attention bias [batch, 1, 1, seq] from a 0/1 mask [batch, seq]: 0 to keep, float32 min to drop. */
export function attentionBias(mask: Tensor): Tensor {
  const keep = cast(mask, 'float32');
  return unsqueeze(mul(sub(1, keep), -3.4028234663852886e38), [1, 2]);
}

/** Self-attention of layer `index` (its own head count where pruning removed heads). */
export function selfAttention(
  b: ModelBuilder,
  p: string,
  x: Tensor,
  bias: Tensor,
  cfg: EncoderConfig,
  hooks: LayerHooks | undefined,
  index: number,
): Tensor {
  const h = cfg.hiddenSize;
  const { numHeads, headSize: dh } = layerShape(cfg, index);
  const all = numHeads * dh;
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const heads = (t: Tensor, perm: number[]) => transpose(reshape(t, [0, 0, numHeads, dh]), perm);
  const proj = (name: string, t: Tensor, inF = h, outF = all) =>
    projection(b, name, t, inF, outF, init, hooks);
  const prefix = hooks?.keyValuePrefix?.(x, bias);
  const withPrefix = (t: Tensor, pre: Tensor | undefined) => (pre ? concat([pre, t], 1) : t);
  const q = heads(proj(`${p}.self.query`, x), [0, 2, 1, 3]);
  const k = heads(withPrefix(proj(`${p}.self.key`, x), prefix?.key), [0, 2, 3, 1]);
  const v = heads(withPrefix(proj(`${p}.self.value`, x), prefix?.value), [0, 2, 1, 3]);
  const scores = add(mul(matmul(q, k), 1 / Math.sqrt(dh)), prefix?.bias ?? bias);
  const probs = b.dropout(softmax(scores, -1), cfg.attentionDropout);
  const ctx = reshape(transpose(matmul(probs, v), [0, 2, 1, 3]), [0, 0, all]);
  const dropped = b.dropout(proj(`${p}.output.dense`, ctx, all, h), cfg.hiddenDropout);
  const out = hooks?.attentionOutput ? hooks.attentionOutput(dropped, x) : dropped;
  return layerNormLayer(b, `${p}.output.LayerNorm`, add(out, x), h, cfg.layerNormEps);
}

/** A dense layer whose output a hook may change. */
function projection(
  b: ModelBuilder,
  name: string,
  x: Tensor,
  inF: number,
  outF: number,
  init: Init,
  hooks: LayerHooks | undefined,
): Tensor {
  const y = dense(b, name, x, inF, outF, init);
  return hooks?.projection ? hooks.projection(name, x, y) : y;
}

/** Layer `index` of the encoder (its sizes from `layerShape`). */
export function encoderLayer(
  b: ModelBuilder,
  p: string,
  x: Tensor,
  bias: Tensor,
  cfg: EncoderConfig,
  hooks: LayerHooks | undefined,
  index: number,
): Tensor {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const ffn = layerShape(cfg, index).intermediateSize;
  const attn = selfAttention(b, `${p}.attention`, x, bias, cfg, hooks, index);
  const inter = activation(
    projection(b, `${p}.intermediate.dense`, attn, cfg.hiddenSize, ffn, init, hooks),
    cfg.hiddenAct,
  );
  const dropped = b.dropout(
    projection(b, `${p}.output.dense`, inter, ffn, cfg.hiddenSize, init, hooks),
    cfg.hiddenDropout,
  );
  const out = hooks?.ffnOutput ? hooks.ffnOutput(dropped, attn) : dropped;
  return layerNormLayer(b, `${p}.output.LayerNorm`, add(out, attn), cfg.hiddenSize, cfg.layerNormEps);
}

/** Runs all layers; returns the last hidden state and every layer's output (index 0: the embeddings). */
export function encoder(
  b: ModelBuilder,
  p: string,
  x: Tensor,
  bias: Tensor,
  cfg: EncoderConfig,
  hooks?: EncoderHooks,
): Tensor[] {
  const states = [x];
  for (let i = 0; i < cfg.numLayers; i++) {
    const path = `${p}.layer.${i}`;
    states.push(encoderLayer(b, path, states[i]!, bias, cfg, hooks?.layer?.(i, path), i));
  }
  return states;
}

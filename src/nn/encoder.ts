// A BERT-style post-LayerNorm transformer encoder with Hugging Face parameter names.

import { gelu, geluTanh } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { cast } from '../graph/ops/core.js';
import { add, mul, relu, sub } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/matmul.js';
import { softmax } from '../graph/ops/nn-ops.js';
import { reshape, transpose, unsqueeze } from '../graph/ops/shape-ops.js';
import type { ModelBuilder } from './builder.js';
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
  /** Hugging Face `hidden_act`: 'gelu' (erf form), 'gelu_new' / 'gelu_pytorch_tanh' (tanh form) or 'relu'. */
  readonly hiddenAct?: string;
}

function activation(x: Tensor, name = 'gelu'): Tensor {
  switch (name) {
    case 'gelu':
      return gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh(x);
    case 'relu':
      return relu(x);
    default:
      throw new Error(
        `unsupported hidden_act "${name}" (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)`,
      );
  }
}

/** Additive attention bias [batch, 1, 1, seq] from a 0/1 mask [batch, seq]: 0 to keep, float32 min to drop. */
export function attentionBias(mask: Tensor): Tensor {
  const keep = cast(mask, 'float32');
  return unsqueeze(mul(sub(1, keep), -3.4028234663852886e38), [1, 2]);
}

export function selfAttention(
  b: ModelBuilder,
  p: string,
  x: Tensor,
  bias: Tensor,
  cfg: EncoderConfig,
): Tensor {
  const h = cfg.hiddenSize;
  const dh = h / cfg.numHeads;
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const heads = (t: Tensor, perm: number[]) => transpose(reshape(t, [0, 0, cfg.numHeads, dh]), perm);
  const q = heads(dense(b, `${p}.self.query`, x, h, h, init), [0, 2, 1, 3]);
  const k = heads(dense(b, `${p}.self.key`, x, h, h, init), [0, 2, 3, 1]);
  const v = heads(dense(b, `${p}.self.value`, x, h, h, init), [0, 2, 1, 3]);
  const scores = add(mul(matmul(q, k), 1 / Math.sqrt(dh)), bias);
  const probs = b.dropout(softmax(scores, -1), cfg.attentionDropout);
  const ctx = reshape(transpose(matmul(probs, v), [0, 2, 1, 3]), [0, 0, h]);
  const out = b.dropout(dense(b, `${p}.output.dense`, ctx, h, h, init), cfg.hiddenDropout);
  return layerNormLayer(b, `${p}.output.LayerNorm`, add(out, x), h, cfg.layerNormEps);
}

export function encoderLayer(
  b: ModelBuilder,
  p: string,
  x: Tensor,
  bias: Tensor,
  cfg: EncoderConfig,
): Tensor {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const attn = selfAttention(b, `${p}.attention`, x, bias, cfg);
  const inter = activation(
    dense(b, `${p}.intermediate.dense`, attn, cfg.hiddenSize, cfg.intermediateSize, init),
    cfg.hiddenAct,
  );
  const out = b.dropout(
    dense(b, `${p}.output.dense`, inter, cfg.intermediateSize, cfg.hiddenSize, init),
    cfg.hiddenDropout,
  );
  return layerNormLayer(b, `${p}.output.LayerNorm`, add(out, attn), cfg.hiddenSize, cfg.layerNormEps);
}

/** Runs all layers; returns the last hidden state and every layer's output (index 0: the embeddings). */
export function encoder(b: ModelBuilder, p: string, x: Tensor, bias: Tensor, cfg: EncoderConfig): Tensor[] {
  const states = [x];
  for (let i = 0; i < cfg.numLayers; i++)
    states.push(encoderLayer(b, `${p}.layer.${i}`, states[i]!, bias, cfg));
  return states;
}

// Functions built from primitives: they need no gradient rule of their own.

import type { Tensor } from './graph.js';
import { cast } from './ops/core.js';
import { add, div, erf, mul, sqrt, sub, tanh } from './ops/elementwise.js';
import { logSoftmax, oneHot } from './ops/nn-ops.js';
import { mean, sum } from './ops/reduce.js';
import { matmul } from './ops/matmul.js';
import { layerNormPrimitive } from './ops/layer-norm.js';
import { geluPrimitive } from './ops/gelu.js';

/** Layer normalization over the last axis (biased variance, as PyTorch and ONNX compute it). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-12): Tensor {
  return layerNormPrimitive(x, weight, bias, eps);
}

/** The same, composed from primitives (kept as the reference the primitive is tested against). */
export function layerNormComposed(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-12): Tensor {
  const mu = mean(x, [-1], true);
  const centered = sub(x, mu);
  const variance = mean(mul(centered, centered), [-1], true);
  return add(mul(div(centered, sqrt(add(variance, eps))), weight), bias);
}

/** GELU with the exact erf form, as BERT uses it. */
export function gelu(x: Tensor): Tensor {
  return geluPrimitive(x, 'none');
}

/** GELU with the tanh approximation (Hugging Face 'gelu_new'). */
export function geluTanh(x: Tensor): Tensor {
  return geluPrimitive(x, 'tanh');
}

/** The erf form composed from primitives (the reference the primitive is tested against). */
export function geluComposed(x: Tensor): Tensor {
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
}

/** The tanh approximation composed from primitives. */
export function geluTanhComposed(x: Tensor): Tensor {
  const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
  return mul(mul(x, 0.5), add(tanh(inner), 1));
}

/** x @ w + b over the last axis (ONNX Runtime runs a batched x against a 2-D w as one large product). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  const y = matmul(x, weight);
  return bias ? add(y, bias) : y;
}

/** Mean cross-entropy of logits [..., C] against integer labels [...]. */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const classes = logits.shape[logits.rank - 1] as number;
  const picked = sum(mul(logSoftmax(logits, -1), oneHot(labels, classes, logits.dtype)), [-1]);
  return mul(mean(picked), -1);
}

/** Mean of x where mask is 1 (mask broadcastable to x, any numeric dtype). */
export function maskedMean(x: Tensor, mask: Tensor): Tensor {
  const m = cast(mask, x.dtype);
  return div(sum(mul(x, m)), add(sum(m), 1e-12));
}

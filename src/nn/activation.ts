// The feed-forward activations named by Hugging Face's `hidden_act`, built from graph primitives. The
// names accepted are those config.json validation lets through (HF_ACTIVATIONS).

import { gelu, geluTanh } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { mul, relu, sigmoid, tanh } from '../graph/ops/elementwise.js';
import { HF_ACTIVATIONS, type HfActivation } from '../io/hf-config-schema.js';

const BUILD: Record<HfActivation, (x: Tensor) => Tensor> = {
  gelu,
  gelu_python: gelu,
  // transformers' gelu_new, gelu_pytorch_tanh, gelu_fast and gelu_accurate are one formula,
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), written four ways.
  gelu_new: geluTanh,
  gelu_pytorch_tanh: geluTanh,
  gelu_fast: geluTanh,
  gelu_accurate: geluTanh,
  quick_gelu: (x) => mul(x, sigmoid(mul(x, 1.702))),
  relu,
  silu: (x) => mul(x, sigmoid(x)),
  swish: (x) => mul(x, sigmoid(x)),
  tanh,
  sigmoid,
  linear: (x) => x,
};

/** Applies the activation `name` (a Hugging Face `hidden_act`). */
export function activation(x: Tensor, name = 'gelu'): Tensor {
  const build = Object.hasOwn(BUILD, name) ? BUILD[name as HfActivation] : undefined;
  if (!build)
    throw new Error(
      `unsupported hidden_act ${JSON.stringify(name)} (supported: ${HF_ACTIVATIONS.join(', ')})`,
    );
  return build(x);
}

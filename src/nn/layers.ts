// Parameterised layers over the primitives. Linear weights are stored [in, out] (x @ W); checkpoint
// readers transpose Hugging Face's [out, in] layout at the boundary.

import { gelu, layerNorm, linear } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { gather } from '../graph/ops/nn-ops.js';
import type { Init, ModelBuilder } from './builder.js';

export function dense(
  b: ModelBuilder,
  name: string,
  x: Tensor,
  inF: number,
  outF: number,
  init: Init,
): Tensor {
  const w = b.param(`${name}.weight`, [inF, outF], init, true);
  const bias = b.param(`${name}.bias`, [outF], { kind: 'zeros' });
  return linear(x, w, bias);
}

export function layerNormLayer(b: ModelBuilder, name: string, x: Tensor, dim: number, eps: number): Tensor {
  const w = b.param(`${name}.weight`, [dim], { kind: 'ones' });
  const bias = b.param(`${name}.bias`, [dim], { kind: 'zeros' });
  return layerNorm(x, w, bias, eps);
}

export function embedding(
  b: ModelBuilder,
  name: string,
  ids: Tensor,
  rows: number,
  dim: number,
  init: Init,
): Tensor {
  return gather(b.param(`${name}.weight`, [rows, dim], init), ids);
}

export { gelu };

// Layer normalization over the last axis as one primitive: ONNX Runtime's kernel makes one pass where
// the composition makes nine, and its saved mean and inverse standard deviation shorten the gradient.

import { fail, type Tensor } from '../graph.js';
import { isFloat, ONNX_DTYPE } from '../dtype.js';
import { add, mul, neg, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { defineOp } from './registry.js';

export const LayerNormOp = defineOp<{ eps: number }>({
  name: 'LayerNorm',
  infer: (inputs) => {
    const [x, w, b] = inputs as [Tensor, Tensor, Tensor];
    const last = x.shape[x.rank - 1];
    if (!isFloat(x.dtype)) fail('LayerNorm', 'needs a float tensor', inputs);
    for (const p of [w, b])
      if (p.rank !== 1 || p.shape[0] !== last || p.dtype !== x.dtype)
        fail('LayerNorm', `weight and bias must be ${x.dtype}[${String(last)}]`, inputs);
    const stat = [...x.shape.slice(0, -1), 1];
    return [
      { dtype: x.dtype, shape: x.shape },
      { dtype: x.dtype, shape: stat },
      { dtype: x.dtype, shape: stat },
    ];
  },
  vjp: ({ inputs: [x, w], outputs: [, mu, inv] }, [gy, gMean, gInv]) => {
    const lead = [...Array(x!.rank - 1).keys()];
    const xhat = mul(sub(x!, mu!), inv!);
    const grads: (Tensor | null)[] = [null, null, null];
    let gx: Tensor | null = null;
    if (gy) {
      // dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = gy * w
      const dxhat = mul(gy, w!);
      gx = mul(inv!, sub(sub(dxhat, mean(dxhat, [-1], true)), mul(xhat, mean(mul(dxhat, xhat), [-1], true))));
      grads[1] = sum(mul(gy, xhat), lead);
      grads[2] = sum(gy, lead);
    }
    // Cotangents of the saved statistics (reached only by differentiating a gradient again):
    // d mean/dx = 1/n, d inv/dx = -inv^2 * xhat / n.
    const extra: Tensor[] = [];
    if (gMean) extra.push(mul(gMean, div1n(x!)));
    if (gInv) extra.push(mul(mul(neg(mul(inv!, inv!)), xhat), mul(gInv, div1n(x!))));
    for (const e of extra) gx = gx ? add(gx, e) : e;
    grads[0] = gx;
    return grads;
  },
  lower: (node, ctx) =>
    ctx.emit(
      'LayerNormalization',
      node.inputs.map((t) => ctx.name(t)),
      node.outputs.map((_, i) => ctx.outputName(node, i)),
      {
        axis: { kind: 'int', value: -1 },
        epsilon: { kind: 'float', value: node.attrs.eps },
        // The saved statistics take this type; our rule gives them the input's dtype.
        stash_type: { kind: 'int', value: ONNX_DTYPE[node.inputs[0]!.dtype] },
      },
    ),
});

/** 1/n for the last axis, as a number when static. */
function div1n(x: Tensor): number {
  const n = x.shape[x.rank - 1];
  if (typeof n !== 'number') fail('LayerNorm', 'the normalized axis must be static', [x]);
  return 1 / n;
}

export function layerNormPrimitive(x: Tensor, weight: Tensor, bias: Tensor, eps: number): Tensor {
  return x.graph.apply(LayerNormOp, [x, weight, bias], { eps })[0]!;
}

// GELU as one primitive (ONNX Gelu, opset 20), in the exact erf form or the tanh approximation.

import { fail, type Tensor } from '../graph.js';
import { isFloat } from '../dtype.js';
import { add, erf, exp, mul, sub, tanh } from './elementwise.js';
import { defineOp } from './registry.js';

type Approximate = 'none' | 'tanh';

export const GeluOp = defineOp<{ approximate: Approximate }>({
  name: 'Gelu',
  infer: (inputs) => {
    const x = inputs[0]!;
    if (!isFloat(x.dtype)) fail('Gelu', 'needs a float tensor', inputs);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  vjp: ({ inputs: [x], attrs }, [g]) => {
    if (attrs.approximate === 'none') {
      // d/dx x·Φ(x) = Φ(x) + x·φ(x)
      const cdf = mul(add(erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(mul(x!, x!), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return [mul(g!, add(cdf, mul(x!, pdf)))];
    }
    const c = Math.sqrt(2 / Math.PI);
    const x2 = mul(x!, x!);
    const t = tanh(mul(add(x!, mul(mul(x2, x!), 0.044715)), c));
    const dt = mul(sub(1, mul(t, t)), mul(add(mul(x2, 3 * 0.044715), 1), c));
    return [mul(g!, mul(add(add(t, 1), mul(x!, dt)), 0.5))];
  },
  lower: (node, ctx) =>
    ctx.emit('Gelu', [ctx.name(node.inputs[0]!)], [ctx.outputName(node, 0)], {
      approximate: { kind: 'string', value: node.attrs.approximate },
    }),
});

export function geluPrimitive(x: Tensor, approximate: Approximate = 'none'): Tensor {
  return x.graph.apply(GeluOp, [x], { approximate })[0]!;
}

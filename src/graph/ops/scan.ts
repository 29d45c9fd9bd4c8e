// Cumulative sum along an axis (RoBERTa numbers positions by counting non-padding tokens).

import { fail, type Tensor } from '../graph.js';
import { normAxis } from '../shape.js';
import { defineOp } from './registry.js';

export const CumSumOp = defineOp<{ axis: number; reverse: boolean }>({
  name: 'CumSum',
  infer: (inputs, { axis }) => {
    const x = inputs[0]!;
    if (x.dtype === 'bool') fail('CumSum', 'needs a numeric tensor', inputs);
    if (normAxis(axis, x.rank) === undefined)
      fail('CumSum', `axis ${axis} out of range for rank ${x.rank}`, inputs);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  // Each input element feeds every output at or after it: the cotangent is the reverse cumulative sum.
  vjp: ({ attrs }, [g]) => [cumsum(g!, attrs.axis, !attrs.reverse)],
  lower: (node, ctx) =>
    ctx.emit(
      'CumSum',
      [ctx.name(node.inputs[0]!), ctx.constInt64([node.attrs.axis], true)],
      [ctx.outputName(node, 0)],
      {
        reverse: { kind: 'int', value: node.attrs.reverse ? 1 : 0 },
      },
    ),
});

export function cumsum(x: Tensor, axis: number, reverse = false): Tensor {
  return x.graph.apply(CumSumOp, [x], { axis, reverse })[0]!;
}

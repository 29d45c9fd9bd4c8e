// Matrix product with numpy batch broadcasting (both operands of rank >= 2).

import { fail, type Tensor } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import { defineOp, lowerAs } from './registry.js';
import { reshape, transposeLast } from './shape-ops.js';

export const MatMulOp = defineOp({
  name: 'MatMul',
  infer: (inputs) => {
    const [a, b] = inputs as [Tensor, Tensor];
    if (a.dtype !== b.dtype) fail('MatMul', `dtypes differ: ${a.dtype} vs ${b.dtype}`, inputs);
    if (a.rank < 2 || b.rank < 2) fail('MatMul', 'operands need rank >= 2', inputs);
    const k1 = a.shape[a.rank - 1]!;
    const k2 = b.shape[b.rank - 2]!;
    if (k1 !== k2) fail('MatMul', `inner dimensions differ: ${k1} vs ${k2}`, inputs);
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) fail('MatMul', 'batch dimensions do not broadcast', inputs);
    return [{ dtype: a.dtype, shape: [...batch, a.shape[a.rank - 2]!, b.shape[b.rank - 1]!] }];
  },
  vjp: ({ inputs: [a, b] }, [g]) => {
    const ga = matmul(g!, transposeLast(b!));
    // A shared weight (b of rank 2 under a batched a) gets one large product instead of a batched one and a sum.
    const gb =
      b!.rank === 2 && a!.rank > 2 && typeof b!.shape[0] === 'number' && typeof b!.shape[1] === 'number'
        ? matmul(
            transposeLast(reshape(a!, [-1, a!.shape[a!.rank - 1] as number])),
            reshape(g!, [-1, b!.shape[1] as number]),
          )
        : matmul(transposeLast(a!), g!);
    return [ga, gb];
  },
  lower: lowerAs('MatMul'),
});

export function matmul(a: Tensor, b: Tensor): Tensor {
  return a.graph.apply(MatMulOp, [a, b], {})[0]!;
}

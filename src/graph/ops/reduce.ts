// Reductions, and the broadcast-undoing sum the autodiff engine applies to every cotangent.

import { isFloat } from '../dtype.js';
import { fail, type Tensor } from '../graph.js';
import { formatShape, normAxis, type Dim, type Shape } from '../shape.js';
import { cast } from './core.js';
import { div, equal, mul } from './elementwise.js';
import { defineOp } from './registry.js';
import { expandLike, squeeze, unsqueeze } from './shape-ops.js';

interface ReduceAttrs {
  readonly axes: readonly number[];
  readonly keepdims: boolean;
  [k: string]: unknown;
}

function reduceInfer(op: string) {
  return (inputs: readonly Tensor[], { axes, keepdims }: ReduceAttrs) => {
    const x = inputs[0]!;
    const norm = axes.map((a) => normAxis(a, x.rank));
    if (norm.some((a) => a === undefined))
      fail(op, `axes ${formatShape(axes)} out of range for rank ${x.rank}`, inputs);
    const shape: Dim[] = [];
    x.shape.forEach((d, i) => {
      if (!norm.includes(i)) shape.push(d);
      else if (keepdims) shape.push(1);
    });
    return [{ dtype: x.dtype, shape }];
  };
}

function lowerReduce(onnx: string) {
  return (node: import('../graph.js').Node<ReduceAttrs>, ctx: import('../graph.js').LowerContext) =>
    ctx.emit(onnx, [ctx.name(node.inputs[0]!), ctx.constInt64(node.attrs.axes)], [ctx.outputName(node, 0)], {
      keepdims: { kind: 'int', value: node.attrs.keepdims ? 1 : 0 },
    });
}

/** The cotangent of a reduction, with the reduced axes restored as size 1. */
function kept(g: Tensor, x: Tensor, { axes, keepdims }: ReduceAttrs): Tensor {
  return keepdims
    ? g
    : unsqueeze(
        g,
        axes.map((a) => normAxis(a, x.rank)!).sort((a, b) => a - b),
      );
}

export const ReduceSumOp = defineOp<ReduceAttrs>({
  name: 'ReduceSum',
  infer: reduceInfer('ReduceSum'),
  vjp: ({ inputs: [x], attrs }, [g]) => [expandLike(kept(g!, x!, attrs), x!)],
  lower: lowerReduce('ReduceSum'),
});

export const ReduceMeanOp = defineOp<ReduceAttrs>({
  name: 'ReduceMean',
  infer: reduceInfer('ReduceMean'),
  vjp: ({ inputs: [x], attrs }, [g]) => [
    div(expandLike(kept(g!, x!, attrs), x!), countAlong(x!, attrs.axes)),
  ],
  lower: lowerReduce('ReduceMean'),
});

export const ReduceMaxOp = defineOp<ReduceAttrs>({
  name: 'ReduceMax',
  infer: reduceInfer('ReduceMax'),
  // Tied maxima share the cotangent equally (TensorFlow's rule, and PyTorch's amax), so that the max of
  // a tensor concatenated with itself has the max's gradient.
  vjp: ({ inputs: [x], outputs: [y], attrs }, [g]) => {
    const hit = cast(equal(x!, expandLike(kept(y!, x!, attrs), x!)), x!.dtype);
    const ties = expandLike(reduce(ReduceSumOp, hit, attrs.axes, true), x!);
    return [mul(hit, div(expandLike(kept(g!, x!, attrs), x!), ties))];
  },
  lower: lowerReduce('ReduceMax'),
});

function reduce(
  op: typeof ReduceSumOp,
  x: Tensor,
  axes: readonly number[] | undefined,
  keepdims: boolean,
): Tensor {
  const all = axes ?? [...Array(x.rank).keys()];
  if (all.length === 0) return x;
  return x.graph.apply(op, [x], { axes: all, keepdims })[0]!;
}

export const sum = (x: Tensor, axes?: readonly number[], keepdims = false) =>
  reduce(ReduceSumOp, x, axes, keepdims);
export const mean = (x: Tensor, axes?: readonly number[], keepdims = false) =>
  reduce(ReduceMeanOp, x, axes, keepdims);
export const max = (x: Tensor, axes?: readonly number[], keepdims = false) =>
  reduce(ReduceMaxOp, x, axes, keepdims);

/** Number of elements along `axes` as a scalar of x's dtype, computed at run time when dims are symbolic. */
export const CountAlongOp = defineOp<{ axes: readonly number[] }>({
  name: 'CountAlong',
  infer: ([x]) => {
    if (!isFloat(x!.dtype)) fail('CountAlong', 'needs a float tensor', [x!]);
    return [{ dtype: x!.dtype, shape: [] }];
  },
  // Depends on x's shape only: zero derivative (a second pass through a symbolic-axis mean reaches it).
  vjp: () => [null],
  lower: (node, ctx) => {
    const x = node.inputs[0]!;
    const shape = ctx.fresh('shape');
    ctx.emit('Shape', [ctx.name(x)], [shape]);
    const dims = ctx.fresh('dims');
    ctx.emit('Gather', [shape, ctx.constInt64(node.attrs.axes.map((a) => normAxis(a, x.rank)!))], [dims]);
    const n = ctx.fresh('count');
    ctx.emit('ReduceProd', [dims], [n], { keepdims: { kind: 'int', value: 0 } });
    ctx.emit('Cast', [n], [ctx.outputName(node, 0)], {
      to: { kind: 'int', value: x.dtype === 'float64' ? 11 : 1 },
    });
  },
});

export function countAlong(x: Tensor, axes: readonly number[]): Tensor | number {
  const dims = axes.map((a) => x.shape[normAxis(a, x.rank)!]!);
  if (dims.every((d) => typeof d === 'number')) return (dims as number[]).reduce((a, b) => a * b, 1);
  return x.graph.apply(CountAlongOp, [x], { axes })[0]!;
}

/** Sums a broadcast cotangent back to `shape` (leading axes dropped, size-1 axes kept). */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  const lead = g.rank - shape.length;
  if (lead < 0)
    fail('sumToShape', `cannot sum ${formatShape(g.shape)} to higher rank ${formatShape(shape)}`, [g]);
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead) axes.push(i);
    else if (shape[i - lead] === 1 && g.shape[i] !== 1) axes.push(i);
    else if (shape[i - lead] !== g.shape[i])
      fail('sumToShape', `cotangent ${formatShape(g.shape)} does not match ${formatShape(shape)}`, [g]);
  }
  if (axes.length === 0) return g;
  const summed = sum(g, axes, true);
  return squeeze(summed, [...Array(lead).keys()]);
}

export const ZerosLikeOp = defineOp({
  name: 'ZerosLike',
  infer: ([x]) => [{ dtype: x!.dtype, shape: x!.shape }],
  // Zero derivative (a second pass reaches it through the zero gradient of an unused input).
  vjp: () => [null],
  lower: (node, ctx) => {
    const x = node.inputs[0]!;
    const shape = ctx.fresh('shape');
    ctx.emit('Shape', [ctx.name(x)], [shape]);
    ctx.emit('ConstantOfShape', [shape], [ctx.outputName(node, 0)], {
      value: { kind: 'tensor', dtype: x.dtype, dims: [1], data: [0] },
    });
  },
});

export function zerosLike(x: Tensor): Tensor {
  return x.graph.apply(ZerosLikeOp, [x], {})[0]!;
}

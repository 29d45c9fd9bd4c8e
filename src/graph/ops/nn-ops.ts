// Primitives specific to neural networks: softmax, embedding gather and its scatter-add gradient,
// distinct indices and row additions (sparse embedding updates), one-hot, seeded dropout, and position ranges.

import { isFloat, ONNX_DTYPE, type DType } from '../dtype.js';
import { fail, type LowerContext, type Tensor } from '../graph.js';
import { normAxis, type Dim } from '../shape.js';
import { cast } from './core.js';
import { exp, mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { defineOp } from './registry.js';

// ---- softmax ----

function softmaxInfer(op: string) {
  return (inputs: readonly Tensor[], { axis }: { axis: number }) => {
    const x = inputs[0]!;
    if (!isFloat(x.dtype)) fail(op, 'needs a float tensor', inputs);
    if (normAxis(axis, x.rank) === undefined)
      fail(op, `axis ${axis} out of range for rank ${x.rank}`, inputs);
    return [{ dtype: x.dtype, shape: x.shape }];
  };
}

export const SoftmaxOp = defineOp<{ axis: number }>({
  name: 'Softmax',
  infer: softmaxInfer('Softmax'),
  vjp: ({ outputs: [y], attrs }, [g]) => [mul(y!, sub(g!, sum(mul(g!, y!), [attrs.axis], true)))],
  lower: (node, ctx) =>
    ctx.emit('Softmax', [ctx.name(node.inputs[0]!)], [ctx.outputName(node, 0)], {
      axis: { kind: 'int', value: node.attrs.axis },
    }),
});

export const LogSoftmaxOp = defineOp<{ axis: number }>({
  name: 'LogSoftmax',
  infer: softmaxInfer('LogSoftmax'),
  vjp: ({ outputs: [y], attrs }, [g]) => [sub(g!, mul(exp(y!), sum(g!, [attrs.axis], true)))],
  lower: (node, ctx) =>
    ctx.emit('LogSoftmax', [ctx.name(node.inputs[0]!)], [ctx.outputName(node, 0)], {
      axis: { kind: 'int', value: node.attrs.axis },
    }),
});

export const softmax = (x: Tensor, axis = -1) => x.graph.apply(SoftmaxOp, [x], { axis })[0]!;
export const logSoftmax = (x: Tensor, axis = -1) => x.graph.apply(LogSoftmaxOp, [x], { axis })[0]!;

// ---- gather / scatter-add ----

function checkIndices(op: string, idx: Tensor, inputs: readonly Tensor[]): void {
  if (idx.dtype !== 'int64' && idx.dtype !== 'int32')
    fail(op, `indices must be int64 or int32, got ${idx.dtype}`, inputs);
}

/** Rows of `data` (axis 0) picked by integer indices of any shape: embedding lookup. */
export const GatherOp = defineOp({
  name: 'Gather',
  infer: (inputs) => {
    const [data, idx] = inputs as [Tensor, Tensor];
    checkIndices('Gather', idx, inputs);
    if (data.rank < 1) fail('Gather', 'data needs rank >= 1', inputs);
    return [{ dtype: data.dtype, shape: [...idx.shape, ...data.shape.slice(1)] }];
  },
  vjp: ({ inputs: [data, idx] }, [g]) => [scatterAdd(data!, idx!, g!), null],
  lower: (node, ctx) =>
    ctx.emit(
      'Gather',
      node.inputs.map((t) => ctx.name(t)),
      [ctx.outputName(node, 0)],
      { axis: { kind: 'int', value: 0 } },
    ),
});

export function gather(data: Tensor, indices: Tensor): Tensor {
  return data.graph.apply(GatherOp, [data, indices], {})[0]!;
}

/** [table, indices, updates] -> the table's type; updates must be rows of the table, one per index. */
function inferRowAdd(op: string, inputs: readonly Tensor[]) {
  const [table, idx, upd] = inputs as [Tensor, Tensor, Tensor];
  checkIndices(op, idx, inputs);
  const want = [...idx.shape, ...table.shape.slice(1)];
  if (upd.dtype !== table.dtype || upd.rank !== want.length || upd.shape.some((d, i) => d !== want[i]))
    fail(op, `updates must be ${table.dtype}[${want.join(', ')}]`, inputs);
  return [{ dtype: table.dtype, shape: table.shape }];
}

/** Zeros shaped like `like`, with `updates` rows added at `indices` (repeated indices accumulate). */
export const ScatterAddOp = defineOp({
  name: 'ScatterAdd',
  infer: (inputs) => inferRowAdd('ScatterAdd', inputs),
  vjp: ({ inputs: [, idx] }, [g]) => [null, null, gather(g!, idx!)],
  lower: (node, ctx) => {
    const [like, idx, upd] = node.inputs as [Tensor, Tensor, Tensor];
    const shape = ctx.fresh('shape');
    ctx.emit('Shape', [ctx.name(like)], [shape]);
    const zeros = ctx.fresh('zeros');
    ctx.emit('ConstantOfShape', [shape], [zeros], {
      value: { kind: 'tensor', dtype: like.dtype, dims: [1], data: [0] },
    });
    lowerRowAdd(ctx, zeros, idx, upd, ctx.outputName(node, 0));
  },
});

/**
 * Adds `upd` rows into `data` at `idx` (repeated indices accumulate) with ScatterElements, reduction
 * "add", over the rows flattened to [N, ...row] and the indices expanded to the same shape. ScatterND's
 * "add" is not used: ONNX Runtime's CPU kernel adds slices from several threads with no ordering, so
 * repeated indices lost updates (a 2% error in an embedding's gradient on 2 threads).
 */
function lowerRowAdd(ctx: LowerContext, data: string, idx: Tensor, upd: Tensor, out: string): void {
  const rowRank = upd.rank - idx.rank;
  let index = ctx.name(idx);
  if (idx.dtype !== 'int64') {
    const i64 = ctx.fresh('idx');
    ctx.emit('Cast', [index], [i64], { to: { kind: 'int', value: 7 } });
    index = i64;
  }
  // [N, 1, ..., 1] indices and [N, ...row] updates.
  const flatIdx = ctx.fresh('idx');
  ctx.emit('Reshape', [index, ctx.constInt64([-1, ...Array<number>(rowRank).fill(1)])], [flatIdx]);
  const rowShape = ctx.fresh('shape');
  ctx.emit('Shape', [data], [rowShape], { start: { kind: 'int', value: 1 } });
  const flatShape = ctx.fresh('shape');
  ctx.emit('Concat', [ctx.constInt64([-1]), rowShape], [flatShape], { axis: { kind: 'int', value: 0 } });
  const flatUpd = ctx.fresh('upd');
  ctx.emit('Reshape', [ctx.name(upd), flatShape], [flatUpd]);
  const updShape = ctx.fresh('shape');
  ctx.emit('Shape', [flatUpd], [updShape]);
  const fullIdx = ctx.fresh('idx');
  ctx.emit('Expand', [flatIdx, updShape], [fullIdx]);
  ctx.emit('ScatterElements', [data, fullIdx, flatUpd], [out], {
    axis: { kind: 'int', value: 0 },
    reduction: { kind: 'string', value: 'add' },
  });
}

export function scatterAdd(like: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return like.graph.apply(ScatterAddOp, [like, indices, updates], {})[0]!;
}

/** `data` with `updates` rows added at `indices` (axis 0, repeated indices accumulate), as torch.index_add. */
export const IndexAddOp = defineOp({
  name: 'IndexAdd',
  infer: (inputs) => inferRowAdd('IndexAdd', inputs),
  vjp: ({ inputs: [, idx] }, [g]) => [g!, null, gather(g!, idx!)],
  lower: (node, ctx) => {
    const [data, idx, upd] = node.inputs as [Tensor, Tensor, Tensor];
    lowerRowAdd(ctx, ctx.name(data), idx, upd, ctx.outputName(node, 0));
  },
});

export function indexAdd(data: Tensor, indices: Tensor, updates: Tensor): Tensor {
  return data.graph.apply(IndexAddOp, [data, indices, updates], {})[0]!;
}

/**
 * The distinct values of a 1-D integer tensor, ascending (int64, a run-time count named `dim`), and for
 * each element the position of its value among them: what turns an embedding's gradient into its rows.
 */
export const UniqueOp = defineOp<{ dim: string }>({
  name: 'Unique',
  infer: (inputs, { dim }) => {
    const x = inputs[0]!;
    checkIndices('Unique', x, inputs);
    if (x.rank !== 1) fail('Unique', `needs a 1-D tensor, got rank ${x.rank}`, inputs);
    return [
      { dtype: 'int64', shape: [dim] },
      { dtype: 'int64', shape: x.shape },
    ];
  },
  lower: (node, ctx) => {
    const x = node.inputs[0]!;
    let name = ctx.name(x);
    if (x.dtype !== 'int64') {
      name = ctx.fresh('idx');
      ctx.emit('Cast', [ctx.name(x)], [name], { to: { kind: 'int', value: 7 } });
    }
    ctx.emit('Unique', [name], [ctx.outputName(node, 0), ctx.fresh('first'), ctx.outputName(node, 1)], {
      sorted: { kind: 'int', value: 1 },
    });
  },
});

export function unique(x: Tensor): { values: Tensor; inverse: Tensor } {
  // A dimension name of its own, so that two unrelated counts never pass for equal shapes.
  const [values, inverse] = x.graph.apply(UniqueOp, [x], { dim: `unique${x.graph.nodes.length}` });
  return { values: values!, inverse: inverse! };
}

// ---- one-hot ----

export const OneHotOp = defineOp<{ depth: number; dtype: DType }>({
  name: 'OneHot',
  infer: (inputs, { depth, dtype }) => {
    checkIndices('OneHot', inputs[0]!, inputs);
    if (!(depth > 0)) fail('OneHot', `depth must be positive, got ${depth}`, inputs);
    return [{ dtype, shape: [...inputs[0]!.shape, depth] }];
  },
  // Integer input: no cotangent, even when the indices were cast from a differentiated float.
  vjp: () => [null],
  lower: (node, ctx) =>
    ctx.emit(
      'OneHot',
      [
        ctx.name(node.inputs[0]!),
        ctx.constInt64([node.attrs.depth], true),
        ctx.constVector([0, 1], node.attrs.dtype),
      ],
      [ctx.outputName(node, 0)],
      { axis: { kind: 'int', value: -1 } },
    ),
});

export function oneHot(indices: Tensor, depth: number, dtype: DType = 'float32'): Tensor {
  return indices.graph.apply(OneHotOp, [indices], { depth, dtype })[0]!;
}

// ---- dropout ----

/**
 * Inverted dropout in training mode. The mask comes from ONNX Runtime's Philox generator seeded by the
 * node's `seed` attribute, so a compiled function replays the same masks run after run from a fresh session.
 */
export const DropoutOp = defineOp<{ ratio: number; seed: number }>({
  name: 'Dropout',
  infer: (inputs, { ratio }) => {
    const x = inputs[0]!;
    if (!isFloat(x.dtype)) fail('Dropout', 'needs a float tensor', inputs);
    if (!(ratio > 0 && ratio < 1)) fail('Dropout', `ratio must be in (0, 1), got ${ratio}`, inputs);
    return [
      { dtype: x.dtype, shape: x.shape },
      { dtype: 'bool', shape: x.shape },
    ];
  },
  vjp: ({ inputs: [x], outputs: [, mask], attrs }, [g]) => [
    mul(g!, mul(cast(mask!, x!.dtype), 1 / (1 - attrs.ratio))),
  ],
  lower: (node, ctx) => {
    const x = node.inputs[0]!;
    const seed = ctx.seed(node.attrs.seed);
    if (!ctx.dropoutFromUniform) {
      ctx.emit(
        'Dropout',
        [ctx.name(x), ctx.constScalar(node.attrs.ratio, x.dtype), ctx.constBool(true)],
        [ctx.outputName(node, 0), ctx.outputName(node, 1)],
        { seed: { kind: 'int', value: seed } },
      );
      return;
    }
    // keep = u >= ratio for u ~ U[0, 1), y = x * keep / (1 - ratio): Dropout's definition.
    const u = ctx.fresh('uniform');
    const kept = ctx.fresh('kept');
    const mask = ctx.outputName(node, 1);
    ctx.emit('RandomUniformLike', [ctx.name(x)], [u], {
      dtype: { kind: 'int', value: ONNX_DTYPE[x.dtype] },
      // The attribute is a float32: seeds are cut to their low 24 bits, which it holds exactly (whole
      // 31-bit seeds would round, and neighbouring seeds would draw one mask).
      seed: { kind: 'float', value: seed & 0xffffff },
    });
    ctx.emit('GreaterOrEqual', [u, ctx.constScalar(node.attrs.ratio, x.dtype)], [mask]);
    ctx.emit('Where', [mask, ctx.name(x), ctx.constScalar(0, x.dtype)], [kept]);
    ctx.emit('Mul', [kept, ctx.constScalar(1 / (1 - node.attrs.ratio), x.dtype)], [ctx.outputName(node, 0)]);
  },
});

export function dropout(x: Tensor, ratio: number, seed: number): Tensor {
  if (ratio === 0) return x;
  return x.graph.apply(DropoutOp, [x], { ratio, seed })[0]!;
}

// ---- positions ----

/** 0..n-1 as int64, where n is x's (possibly symbolic) size along `axis`. */
export const ArangeOp = defineOp<{ axis: number }>({
  name: 'Arange',
  infer: (inputs, { axis }) => {
    const x = inputs[0]!;
    const ax = normAxis(axis, x.rank);
    if (ax === undefined) fail('Arange', `axis ${axis} out of range for rank ${x.rank}`, inputs);
    return [{ dtype: 'int64', shape: [x.shape[ax]! as Dim] }];
  },
  lower: (node, ctx) => {
    const x = node.inputs[0]!;
    const ax = normAxis(node.attrs.axis, x.rank)!;
    const shape = ctx.fresh('shape');
    ctx.emit('Shape', [ctx.name(x)], [shape]);
    const n = ctx.fresh('n');
    ctx.emit('Gather', [shape, ctx.constInt64([ax], true)], [n], { axis: { kind: 'int', value: 0 } });
    ctx.emit('Range', [ctx.constInt64([0], true), n, ctx.constInt64([1], true)], [ctx.outputName(node, 0)]);
  },
});

export function arangeAlong(x: Tensor, axis: number): Tensor {
  return x.graph.apply(ArangeOp, [x], { axis })[0]!;
}

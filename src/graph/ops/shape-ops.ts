// Primitives that move data without arithmetic: reshape, transpose, slice, concat, expand, (un)squeeze.
// Targets with symbolic dimensions are taken at run time from a reference tensor ("...Like" forms).

import { fail, type Tensor } from '../graph.js';
import { formatShape, isStatic, normAxis, sameShape, type Dim, type Shape } from '../shape.js';
import { scalar, shapeOf } from './core.js';
import { arangeAlong, scatterAdd } from './nn-ops.js';
import { defineOp, lowerAs } from './registry.js';

const BIG = 2 ** 62;

function symbolicProduct(dims: readonly Dim[]): Dim {
  const syms = dims.filter((d): d is string => typeof d === 'string').sort();
  const num = dims.filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
  if (syms.length === 0) return num;
  return [...(num === 1 ? [] : [String(num)]), ...syms].join('*');
}

/** Divides a product of dims by other dims, cancelling equal symbols; undefined when it does not divide. */
function divideDims(total: readonly Dim[], by: readonly Dim[]): Dim | undefined {
  const rest = [...total];
  let divisor = 1;
  for (const d of by) {
    if (typeof d === 'number') divisor *= d;
    else {
      const i = rest.indexOf(d);
      if (i < 0) return undefined;
      rest.splice(i, 1);
    }
  }
  const num = rest.filter((d): d is number => typeof d === 'number').reduce((a, b) => a * b, 1);
  if (num % divisor !== 0) return undefined;
  return symbolicProduct([num / divisor, ...rest.filter((d) => typeof d === 'string')]);
}

// ---- reshape ----

interface ReshapeAttrs {
  readonly target: readonly number[];
  [k: string]: unknown;
}

export const ReshapeOp = defineOp<ReshapeAttrs>({
  name: 'Reshape',
  infer: (inputs, { target }) => {
    const [x] = inputs as [Tensor];
    const out: (Dim | null)[] = target.map((d, i) => {
      if (d === 0) {
        if (i >= x.rank)
          fail('Reshape', `target ${formatShape(target)} copies axis ${i} beyond rank ${x.rank}`, inputs);
        return x.shape[i]!;
      }
      if (d === -1) return null;
      if (d < -1) fail('Reshape', `bad target dimension ${d}`, inputs);
      return d;
    });
    const free = out.filter((d) => d === null).length;
    if (free > 1) fail('Reshape', `target ${formatShape(target)} has more than one -1`, inputs);
    const known = out.filter((d): d is Dim => d !== null);
    if (free === 1) {
      const inferred = divideDims(x.shape, known);
      if (inferred === undefined) fail('Reshape', `cannot infer -1 in ${formatShape(target)}`, inputs);
      out[out.indexOf(null)] = inferred;
    } else if (String(symbolicProduct(x.shape)) !== String(symbolicProduct(known))) {
      fail('Reshape', `target ${formatShape(target)} does not hold the same number of elements`, inputs);
    }
    return [{ dtype: x.dtype, shape: out as Dim[] }];
  },
  vjp: ({ inputs: [x] }, [g]) => [reshapeLike(g!, x!)],
  lower: (node, ctx) =>
    ctx.emit(
      'Reshape',
      [ctx.name(node.inputs[0]!), ctx.constInt64(node.attrs.target)],
      [ctx.outputName(node, 0)],
    ),
});

/** Reshape with ONNX conventions: 0 copies the input dimension at that position, -1 is inferred. */
export function reshape(x: Tensor, target: readonly number[]): Tensor {
  return x.graph.apply(ReshapeOp, [x], { target })[0]!;
}

/** Reshape to a reference tensor's run-time shape (the pair is [x, shape-of-ref]). */
export const ReshapeToOp = defineOp<{ shape: Shape }>({
  name: 'ReshapeTo',
  infer: (inputs, { shape }) => [{ dtype: inputs[0]!.dtype, shape }],
  vjp: ({ inputs: [x] }, [g]) => [reshapeLike(g!, x!), null],
  lower: lowerAs('Reshape'),
});

export function reshapeLike(x: Tensor, ref: Tensor): Tensor {
  if (isStatic(ref.shape)) return reshape(x, ref.shape as number[]);
  return x.graph.apply(ReshapeToOp, [x, shapeOf(ref)], { shape: ref.shape })[0]!;
}

// ---- transpose ----

export const TransposeOp = defineOp<{ perm: readonly number[] }>({
  name: 'Transpose',
  infer: (inputs, { perm }) => {
    const x = inputs[0]!;
    const ok = perm.length === x.rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!ok) fail('Transpose', `perm ${formatShape(perm)} is not a permutation of rank ${x.rank}`, inputs);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  vjp: ({ attrs: { perm } }, [g]) => {
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [transpose(g!, inv)];
  },
  lower: lowerAs('Transpose', (n) => ({
    perm: { kind: 'ints', value: (n.attrs as { perm: number[] }).perm },
  })),
});

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  return x.graph.apply(TransposeOp, [x], { perm })[0]!;
}

/** Swaps the last two axes. */
export function transposeLast(x: Tensor): Tensor {
  const perm = [...Array(x.rank).keys()];
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

// ---- slice ----

interface SliceAttrs {
  readonly axes: readonly number[];
  readonly starts: readonly number[];
  readonly ends: readonly number[];
  /** One per axis; absent means all 1. A slice with a step other than 1 has one axis (see `slice`). */
  readonly steps?: readonly number[];
  [k: string]: unknown;
}

/** ONNX Slice's clamping of a static axis: the first index taken and how many, for either sign of step. */
function sliceRange(d: number, start: number, end: number, step = 1): { first: number; count: number } {
  const at = (v: number) => (v < 0 ? d + v : v);
  if (step > 0) {
    const s = Math.min(Math.max(at(start), 0), d);
    const e = Math.min(Math.max(at(end), 0), d);
    return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  const s = Math.min(Math.max(at(start), 0), d - 1);
  const e = Math.min(Math.max(at(end), -1), d - 1);
  return { first: s, count: Math.max(0, Math.ceil((s - e) / -step)) };
}

function sliceDim(d: Dim, start: number, end: number, step: number): Dim {
  if (typeof d === 'number') return sliceRange(d, start, end, step).count;
  const bound = (v: number) => (v >= BIG ? '' : v <= -BIG ? '' : String(v));
  if (step !== 1) return `${d}[${bound(start)}:${bound(end)}:${step}]`;
  // Assumes the run-time dim reaches `end`; an empty range is empty at any size.
  if (start >= 0 && end >= 0 && end < BIG) return Math.max(0, end - start);
  if (start < 0 && end >= BIG) return -start;
  if (start === 0 && end >= BIG) return d;
  return `${d}[${start}:${bound(end)}]`;
}

function sliceInfer(x: Tensor, a: SliceAttrs, inputs: readonly Tensor[]): Dim[] {
  if (a.axes.length !== a.starts.length || a.axes.length !== a.ends.length)
    fail('Slice', 'axes, starts and ends differ in length', inputs);
  if (a.steps && a.steps.length !== a.axes.length) fail('Slice', 'axes and steps differ in length', inputs);
  const shape = [...x.shape];
  a.axes.forEach((axis, i) => {
    const ax = normAxis(axis, x.rank);
    if (ax === undefined) fail('Slice', `axis ${axis} out of range for rank ${x.rank}`, inputs);
    const step = a.steps?.[i] ?? 1;
    if (!Number.isInteger(step) || step === 0)
      fail('Slice', `step ${step} along axis ${axis}: steps are non-zero integers`, inputs);
    shape[ax] = sliceDim(x.shape[ax]!, a.starts[i]!, a.ends[i]!, step);
  });
  return shape;
}

export const SliceOp = defineOp<SliceAttrs>({
  name: 'Slice',
  infer: (inputs, a) => [{ dtype: inputs[0]!.dtype, shape: sliceInfer(inputs[0]!, a, inputs) }],
  vjp: ({ inputs: [x], attrs }, [g]) => [
    attrs.steps?.some((s) => s !== 1)
      ? steppedSliceVjp(x!, attrs, g!)
      : x!.graph.apply(SliceGradOp, [g!, x!], attrs)[0]!,
  ],
  lower: (node, ctx) =>
    ctx.emit(
      'Slice',
      [
        ctx.name(node.inputs[0]!),
        ctx.constInt64(node.attrs.starts),
        ctx.constInt64(node.attrs.ends.map((e) => Math.max(Math.min(e, BIG), -BIG))),
        ctx.constInt64(node.attrs.axes),
        ...(node.attrs.steps ? [ctx.constInt64(node.attrs.steps)] : []),
      ],
      [ctx.outputName(node, 0)],
    ),
});

/**
 * Gradient of a one-axis slice with a step other than 1: the cotangent's rows added into zeros at the
 * indices the slice took, which are the same slice of 0..n-1 (so ONNX Runtime clamps them as it clamped
 * the values, on static and symbolic axes alike). The axis is moved to the front for the row scatter,
 * whose own gradient is a gather, so second derivatives work.
 */
function steppedSliceVjp(x: Tensor, a: SliceAttrs, g: Tensor): Tensor {
  const ax = normAxis(a.axes[0]!, x.rank)!;
  const idx = x.graph.apply(SliceOp, [arangeAlong(x, ax)], { ...a, axes: [0] })[0]!;
  if (ax === 0) return scatterAdd(x, idx, g);
  const perm = [ax, ...[...Array(x.rank).keys()].filter((i) => i !== ax)];
  const inv = perm.map((_, i) => perm.indexOf(i));
  return transpose(scatterAdd(transpose(x, perm), idx, transpose(g, perm)), inv);
}

/**
 * Gradient of Slice: pads the cotangent with zeros back to the input's shape. Pads for symbolic
 * dimensions are computed at run time from the input's shape.
 */
export const SliceGradOp = defineOp<SliceAttrs>({
  name: 'SliceGrad',
  infer: (inputs) => [{ dtype: inputs[0]!.dtype, shape: inputs[1]!.shape }],
  vjp: ({ attrs }, [g]) => [slice(g!, attrs.axes, attrs.starts, attrs.ends), null],
  lower: (node, ctx) => {
    const [g, x] = node.inputs as [Tensor, Tensor];
    const rank = x.rank;
    const begins: string[] = [];
    const endsPad: string[] = [];
    let shapeName: string | undefined;
    const dimOf = (axis: number): string => {
      if (!shapeName) {
        shapeName = ctx.fresh('shape');
        ctx.emit('Shape', [ctx.name(x)], [shapeName]);
      }
      const d = ctx.fresh('dim');
      ctx.emit('Slice', [shapeName, ctx.constInt64([axis]), ctx.constInt64([axis + 1])], [d]);
      return d;
    };
    for (let ax = 0; ax < rank; ax++) {
      const i = node.attrs.axes.findIndex((a) => normAxis(a, rank) === ax);
      if (i < 0) {
        begins.push(ctx.constInt64([0]));
        endsPad.push(ctx.constInt64([0]));
        continue;
      }
      const start = node.attrs.starts[i]!;
      const end = Math.min(node.attrs.ends[i]!, BIG);
      const d = x.shape[ax]!;
      if (typeof d === 'number') {
        const s = start < 0 ? Math.max(0, d + start) : Math.min(start, d);
        const e = end < 0 ? Math.max(0, d + end) : Math.min(end, d);
        begins.push(ctx.constInt64([s]));
        endsPad.push(ctx.constInt64([d - Math.max(s, e)]));
        continue;
      }
      // Symbolic dimension: clamp at run time. begin = clamp(start), pad_end = d - clamp(end).
      const dim = dimOf(ax);
      const clampIdx = (v: number): string => {
        const raw = v < 0 ? ctx.fresh('idx') : ctx.constInt64([v]);
        if (v < 0) ctx.emit('Add', [dim, ctx.constInt64([v])], [raw]);
        const lo = ctx.fresh('idx');
        ctx.emit('Max', [raw, ctx.constInt64([0])], [lo]);
        const hi = ctx.fresh('idx');
        ctx.emit('Min', [lo, dim], [hi]);
        return hi;
      };
      const s = clampIdx(start);
      const e = clampIdx(end);
      const pe = ctx.fresh('pad');
      ctx.emit('Sub', [dim, e], [pe]);
      begins.push(s);
      endsPad.push(pe);
    }
    const pads = ctx.fresh('pads');
    ctx.emit('Concat', [...begins, ...endsPad], [pads], { axis: { kind: 'int', value: 0 } });
    ctx.emit('Pad', [ctx.name(g), pads], [ctx.outputName(node, 0)]);
  },
});

/**
 * x[starts:ends:steps] along `axes`, with ONNX Slice's clamping (Python's, except that with a negative step
 * a start before the first element takes that element); an end may be Infinity (or -Infinity, with a
 * negative step, to run through index 0). Steps other than 1 make one Slice node per axis, so that each has
 * its own gradient.
 */
export function slice(
  x: Tensor,
  axes: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  steps?: readonly number[],
): Tensor {
  const bounded = ends.map((e) => (e === Infinity ? BIG : e === -Infinity ? -BIG : e));
  if (steps && steps.length !== axes.length) fail('Slice', 'axes and steps differ in length', [x]);
  if (!steps || steps.every((s) => s === 1))
    return x.graph.apply(SliceOp, [x], { axes, starts, ends: bounded })[0]!;
  return axes.reduce(
    (y, axis, i) =>
      y.graph.apply(SliceOp, [y], {
        axes: [axis],
        starts: [starts[i]!],
        ends: [bounded[i]!],
        ...(steps[i] === 1 ? {} : { steps: [steps[i]!] }),
      })[0]!,
    x,
  );
}

/** x[start:end:step] along one axis; `end` may be Infinity or, with a negative step, -Infinity. */
export function sliceAxis(x: Tensor, axis: number, start: number, end: number, step = 1): Tensor {
  return slice(x, [axis], [start], [end], [step]);
}

/** Pieces of static sizes that cover one axis, as one ONNX Split; its gradient is one Concat. */
export const SplitOp = defineOp<{ axis: number; sizes: readonly number[] }>({
  name: 'Split',
  infer: (inputs, { axis, sizes }) => {
    const x = inputs[0]!;
    const ax = normAxis(axis, x.rank);
    if (ax === undefined) fail('Split', `axis ${axis} out of range for rank ${x.rank}`, inputs);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (x.shape[ax] !== total || sizes.some((n) => !(Number.isInteger(n) && n > 0)))
      fail('Split', `sizes ${formatShape(sizes)} do not cover axis ${ax} of size ${x.shape[ax]}`, inputs);
    return sizes.map((n) => ({ dtype: x.dtype, shape: x.shape.map((d, i) => (i === ax ? n : d)) }));
  },
  // A piece without a gradient contributes zeros.
  vjp: ({ outputs, attrs }, gs) => [
    concat(
      gs.map((g, i) => g ?? expandLike(scalar(outputs[i]!.graph, 0, outputs[i]!.dtype), outputs[i]!)),
      attrs.axis,
    ),
  ],
  lower: (node, ctx) =>
    ctx.emit(
      'Split',
      [ctx.name(node.inputs[0]!), ctx.constInt64(node.attrs.sizes)],
      node.outputs.map((_, i) => ctx.outputName(node, i)),
      { axis: { kind: 'int', value: node.attrs.axis } },
    ),
});

/** Splits along an axis into pieces of the given static sizes (pieces that cover the axis: one Split). */
export function split(x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  const ax = normAxis(axis, x.rank);
  if (ax !== undefined && x.shape[ax] === sizes.reduce((a, b) => a + b, 0))
    return x.graph.apply(SplitOp, [x], { axis: ax, sizes });
  let offset = 0;
  return sizes.map((n) => sliceAxis(x, axis, offset, (offset += n)));
}

// ---- concat ----

export const ConcatOp = defineOp<{ axis: number }>({
  name: 'Concat',
  infer: (inputs, { axis }) => {
    if (inputs.length === 0) fail('Concat', 'needs at least one tensor');
    const first = inputs[0]!;
    const ax = normAxis(axis, first.rank);
    if (ax === undefined) fail('Concat', `axis ${axis} out of range for rank ${first.rank}`, inputs);
    for (const t of inputs) {
      if (t.dtype !== first.dtype) fail('Concat', 'dtypes differ', inputs);
      if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i]))
        fail('Concat', `shapes differ outside axis ${ax}`, inputs);
    }
    const dims = inputs.map((t) => t.shape[ax]!);
    const shape = [...first.shape];
    shape[ax] = dims.every((d) => typeof d === 'number')
      ? (dims as number[]).reduce((a, b) => a + b, 0)
      : dims.join('+');
    return [{ dtype: first.dtype, shape }];
  },
  vjp: ({ inputs, attrs }, [g]) => {
    const ax = normAxis(attrs.axis, inputs[0]!.rank)!;
    const sizes = inputs.map((t) => t.shape[ax]!);
    if (sizes.filter((d) => typeof d === 'string').length > 1)
      fail('Concat', 'gradient needs at most one piece of symbolic size along the axis', inputs);
    // Pieces before the symbolic one are addressed from the front, pieces after it from the back.
    const sym = sizes.findIndex((d) => typeof d === 'string');
    if (sym < 0) return split(g!, ax, sizes as number[]);
    const piece = (i: number): Tensor => {
      if (sym < 0 || i < sym) {
        const start = (sizes.slice(0, i) as number[]).reduce((a, b) => a + b, 0);
        return sliceAxis(g!, ax, start, start + (sizes[i] as number));
      }
      const after = (sizes.slice(i + 1) as number[]).reduce((a, b) => a + b, 0);
      if (i === sym) {
        const start = (sizes.slice(0, i) as number[]).reduce((a, b) => a + b, 0);
        return sliceAxis(g!, ax, start, after === 0 ? Infinity : -after);
      }
      return sliceAxis(g!, ax, -(after + (sizes[i] as number)), after === 0 ? Infinity : -after);
    };
    // A slice of the symbolic sum ("2+batch+1") gets a derived symbol; restate the piece's own shape.
    return inputs.map((t, i) => {
      const p = piece(i);
      return sameShape(p.shape, t.shape) ? p : reshapeLike(p, t);
    });
  },
  lower: lowerAs('Concat', (n) => ({ axis: { kind: 'int', value: (n.attrs as { axis: number }).axis } })),
});

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail('Concat', 'needs at least one tensor');
  return xs[0]!.graph.apply(ConcatOp, xs, { axis })[0]!;
}

// ---- expand ----

export const ExpandOp = defineOp<{ shape: Shape }>({
  name: 'Expand',
  infer: (inputs, { shape }) => {
    const x = inputs[0]!;
    if (shape.length < x.rank) fail('Expand', `target ${formatShape(shape)} has lower rank`, inputs);
    const off = shape.length - x.rank;
    x.shape.forEach((d, i) => {
      if (d !== 1 && d !== shape[i + off]) fail('Expand', `cannot expand to ${formatShape(shape)}`, inputs);
    });
    return [{ dtype: x.dtype, shape }];
  },
  // The cotangent has the expanded shape; the engine sums it back to the input shape.
  vjp: (node, [g]) => (node.inputs.length === 2 ? [g!, null] : [g!]),
  lower: (node, ctx) => {
    // ONNX Expand broadcasts both ways: a 1 in the target keeps the input's (symbolic) dimension.
    const target =
      node.inputs.length === 2
        ? ctx.name(node.inputs[1]!)
        : ctx.constInt64(node.attrs.shape.map((d) => (typeof d === 'string' ? 1 : d)));
    ctx.emit('Expand', [ctx.name(node.inputs[0]!), target], [ctx.outputName(node, 0)]);
  },
});

/** Broadcasts to `shape`; symbolic target dimensions must already be present in x at the same position. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const off = shape.length - x.rank;
  if (shape.some((d, i) => typeof d === 'string' && x.shape[i - off] !== d))
    fail('Expand', `symbolic target ${formatShape(shape)}: use expandLike with a reference tensor`, [x]);
  return x.graph.apply(ExpandOp, [x], { shape })[0]!;
}

export function expandLike(x: Tensor, ref: Tensor): Tensor {
  if (isStatic(ref.shape)) return expand(x, ref.shape);
  return x.graph.apply(ExpandOp, [x, shapeOf(ref)], { shape: ref.shape })[0]!;
}

// ---- unsqueeze / squeeze ----

export const UnsqueezeOp = defineOp<{ axes: readonly number[] }>({
  name: 'Unsqueeze',
  infer: (inputs, { axes }) => {
    const x = inputs[0]!;
    const rank = x.rank + axes.length;
    const norm = axes.map((a) => normAxis(a, rank));
    if (norm.some((a) => a === undefined))
      fail('Unsqueeze', `axes ${formatShape(axes)} out of range`, inputs);
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(norm.includes(i) ? 1 : x.shape[j++]!);
    return [{ dtype: x.dtype, shape }];
  },
  vjp: ({ attrs }, [g]) => [squeeze(g!, attrs.axes)],
  lower: (node, ctx) =>
    ctx.emit(
      'Unsqueeze',
      [ctx.name(node.inputs[0]!), ctx.constInt64(node.attrs.axes)],
      [ctx.outputName(node, 0)],
    ),
});

export const SqueezeOp = defineOp<{ axes: readonly number[] }>({
  name: 'Squeeze',
  infer: (inputs, { axes }) => {
    const x = inputs[0]!;
    const norm = axes.map((a) => normAxis(a, x.rank));
    norm.forEach((a, i) => {
      if (a === undefined || x.shape[a] !== 1) fail('Squeeze', `axis ${axes[i]} is not of size 1`, inputs);
    });
    return [{ dtype: x.dtype, shape: x.shape.filter((_, i) => !norm.includes(i)) }];
  },
  vjp: ({ inputs: [x], attrs }, [g]) => [
    unsqueeze(
      g!,
      attrs.axes.map((a) => normAxis(a, x!.rank)!),
    ),
  ],
  lower: (node, ctx) =>
    ctx.emit(
      'Squeeze',
      [ctx.name(node.inputs[0]!), ctx.constInt64(node.attrs.axes)],
      [ctx.outputName(node, 0)],
    ),
});

export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  return x.graph.apply(UnsqueezeOp, [x], { axes })[0]!;
}

export function squeeze(x: Tensor, axes: readonly number[]): Tensor {
  return axes.length === 0 ? x : x.graph.apply(SqueezeOp, [x], { axes })[0]!;
}

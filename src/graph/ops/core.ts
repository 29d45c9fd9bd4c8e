// Leaves of a graph (inputs, parameters, constants) and type-level ops (cast, identity, shape).

import { allocate, isFloat, ONNX_DTYPE, type DType, type TypedArray } from '../dtype.js';
import { fail, type Graph, type Tensor } from '../graph.js';
import { f32ToF16Bits } from '../../io/safetensors-format.js';
import { isStatic, type Shape } from '../shape.js';
import { defineOp, lowerAs } from './registry.js';

export type TensorLike = Tensor | number;

interface LeafAttrs {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: Shape;
  [k: string]: unknown;
}

function leafInfer(_: readonly Tensor[], a: LeafAttrs) {
  return [{ dtype: a.dtype, shape: a.shape }];
}

/** A value fed at run time. Its lowering is a graph input, made by the emitter. */
export const InputOp = defineOp<LeafAttrs>({ name: 'Input', infer: leafInfer, lower: () => {} });

/** A named weight: a graph input when trained, an initializer when frozen (decided at compile time). */
export const ParamOp = defineOp<LeafAttrs>({ name: 'Param', infer: leafInfer, lower: () => {} });

interface ConstAttrs {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
  [k: string]: unknown;
}

export const ConstantOp = defineOp<ConstAttrs>({
  name: 'Constant',
  infer: (_, a) => [{ dtype: a.dtype, shape: a.shape }],
  lower: (node, ctx) =>
    ctx.emit('Constant', [], [ctx.outputName(node, 0)], {
      value: {
        kind: 'tensor',
        dtype: node.attrs.dtype,
        dims: node.attrs.shape,
        data: node.attrs.data as ArrayLike<number>,
      },
    }),
});

export function input(g: Graph, name: string, dtype: DType, shape: Shape): Tensor {
  const t = g.apply(InputOp, [], { name, dtype, shape })[0]!;
  g.claimName(name, t);
  return t;
}

export function param(g: Graph, name: string, shape: readonly number[], dtype: DType = 'float32'): Tensor {
  if (!isStatic(shape))
    fail('param', `parameter "${name}" needs a static shape, got [${(shape as Shape).join(', ')}]`);
  const t = g.apply(ParamOp, [], { name, dtype, shape })[0]!;
  g.claimName(name, t);
  return t;
}

export function constant(
  g: Graph,
  data: ArrayLike<number> | TypedArray,
  shape: readonly number[],
  dtype: DType = 'float32',
): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) fail('constant', `${data.length} values for shape [${shape.join(', ')}]`);
  const store = allocate(dtype, size);
  // float16 values are stored as half bits: a Uint16Array is taken as such bits, numbers are converted.
  const halfBits = dtype === 'float16' && !(data instanceof Uint16Array);
  for (let i = 0; i < size; i++) {
    const v = (data as ArrayLike<number | bigint>)[i]!;
    (store as unknown as (number | bigint)[])[i] =
      dtype === 'int64' ? BigInt(v) : halfBits ? f32ToF16Bits(Number(v)) : Number(v);
  }
  return g.apply(ConstantOp, [], { dtype, shape, data: store })[0]!;
}

export function scalar(g: Graph, value: number, dtype: DType = 'float32'): Tensor {
  return constant(g, [value], [], dtype);
}

/** Turns a JS number into a scalar constant of the partner tensor's dtype. */
export function lift(x: TensorLike, like: Tensor): Tensor {
  return typeof x === 'number' ? scalar(like.graph, x, like.dtype) : x;
}

export const IdentityOp = defineOp({
  name: 'Identity',
  infer: ([x]) => [{ dtype: x!.dtype, shape: x!.shape }],
  vjp: (_, [g]) => [g ?? null],
  lower: lowerAs('Identity'),
});

/** Blocks gradients: the value passes, its derivative is zero. */
export const StopGradientOp = defineOp({
  name: 'StopGradient',
  infer: ([x]) => [{ dtype: x!.dtype, shape: x!.shape }],
  // A rule that returns no cotangent: without one the engine would reject a gradient reaching this node.
  vjp: () => [null],
  lower: lowerAs('Identity'),
});

export function identity(x: Tensor): Tensor {
  return x.graph.apply(IdentityOp, [x], {})[0]!;
}

export function stopGradient(x: Tensor): Tensor {
  return x.graph.apply(StopGradientOp, [x], {})[0]!;
}

export const CastOp = defineOp<{ to: DType }>({
  name: 'Cast',
  infer: ([x], a) => [{ dtype: a.to, shape: x!.shape }],
  vjp: (node, [g]) => {
    const from = node.inputs[0]!.dtype;
    return [g && isFloat(from) && isFloat(node.attrs.to) ? cast(g, from) : null];
  },
  lower: (node, ctx) =>
    ctx.emit('Cast', [ctx.name(node.inputs[0]!)], [ctx.outputName(node, 0)], {
      to: { kind: 'int', value: ONNX_DTYPE[node.attrs.to] },
    }),
});

export function cast(x: Tensor, to: DType): Tensor {
  return x.dtype === to ? x : x.graph.apply(CastOp, [x], { to })[0]!;
}

/** The run-time shape of a tensor as an int64 vector (for dynamic reshapes and expands). */
export const ShapeOp = defineOp({
  name: 'Shape',
  infer: ([x]) => [{ dtype: 'int64', shape: [x!.rank] }],
  lower: lowerAs('Shape'),
});

export function shapeOf(x: Tensor): Tensor {
  return x.graph.apply(ShapeOp, [x], {})[0]!;
}

// Elementwise primitives with numpy broadcasting. Each record: type rule, vector-Jacobian rule, ONNX lowering.
// Rules return cotangents in the broadcast output shape; the autodiff engine sums them back to input shapes.

import { isFloat, type DType } from '../dtype.js';
import { fail, type OpDef, type Tensor, type TensorType } from '../graph.js';
import { broadcastShapes } from '../shape.js';
import { lift, type TensorLike } from './core.js';
import { defineOp, lowerAs } from './registry.js';

function binaryType(op: string, out?: DType) {
  return (inputs: readonly Tensor[]): TensorType[] => {
    const [a, b] = inputs as [Tensor, Tensor];
    if (a.dtype !== b.dtype) fail(op, `dtypes differ: ${a.dtype} vs ${b.dtype}`, inputs);
    const shape = broadcastShapes(a.shape, b.shape);
    if (!shape) fail(op, 'shapes do not broadcast', inputs);
    return [{ dtype: out ?? a.dtype, shape }];
  };
}

function floatUnaryType(op: string) {
  return ([x]: readonly Tensor[]): TensorType[] => {
    if (!isFloat(x!.dtype)) fail(op, `needs a float tensor`, [x!]);
    return [{ dtype: x!.dtype, shape: x!.shape }];
  };
}

function pair(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') fail(op, 'needs at least one tensor operand');
  const ta = typeof a === 'number' ? lift(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? lift(b, ta) : b;
  return [ta, tb];
}

function binary(def: OpDef, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = pair(a, b, def.name);
  return ta.graph.apply(def, [ta, tb], {})[0]!;
}

function unary(def: OpDef, x: Tensor): Tensor {
  return x.graph.apply(def, [x], {})[0]!;
}

// ---- arithmetic ----

export const AddOp = defineOp({
  name: 'Add',
  infer: binaryType('Add'),
  vjp: (_, [g]) => [g!, g!],
  lower: lowerAs('Add'),
});
export const SubOp = defineOp({
  name: 'Sub',
  infer: binaryType('Sub'),
  vjp: (_, [g]) => [g!, neg(g!)],
  lower: lowerAs('Sub'),
});
export const MulOp = defineOp({
  name: 'Mul',
  infer: binaryType('Mul'),
  vjp: ({ inputs: [a, b] }, [g]) => [mul(g!, b!), mul(g!, a!)],
  lower: lowerAs('Mul'),
});
export const DivOp = defineOp({
  name: 'Div',
  infer: binaryType('Div'),
  vjp: ({ inputs: [, b], outputs: [y] }, [g]) => {
    const ga = div(g!, b!);
    return [ga, neg(mul(ga, y!))];
  },
  lower: lowerAs('Div'),
});
export const PowOp = defineOp({
  name: 'Pow',
  infer: binaryType('Pow'),
  // As PyTorch: d/dx is 0 where p = 0 (not 0 * x^-1, NaN at x = 0), and d/dp is 0 where x = 0 and p >= 0
  // (not 0 * log 0).
  vjp: ({ inputs: [x, p], outputs: [y] }, [g]) => [
    mul(g!, where(equal(p!, 0), 0, mul(p!, pow(x!, sub(p!, 1))))),
    mul(g!, where(and(equal(x!, 0), greaterOrEqual(p!, 0)), 0, mul(y!, log(x!)))),
  ],
  lower: lowerAs('Pow'),
});
export const MaxOp = defineOp({
  name: 'Max',
  infer: binaryType('Max'),
  // Ties send the gradient to the first operand, as PyTorch's maximum does not split it either.
  vjp: ({ inputs: [a, b] }, [g]) => {
    const takeA = greaterOrEqual(a!, b!);
    return [where(takeA, g!, 0), where(takeA, 0, g!)];
  },
  lower: lowerAs('Max'),
});
export const MinOp = defineOp({
  name: 'Min',
  infer: binaryType('Min'),
  vjp: ({ inputs: [a, b] }, [g]) => {
    const takeA = lessOrEqual(a!, b!);
    return [where(takeA, g!, 0), where(takeA, 0, g!)];
  },
  lower: lowerAs('Min'),
});

export const add = (a: TensorLike, b: TensorLike): Tensor => binary(AddOp, a, b);
export const sub = (a: TensorLike, b: TensorLike): Tensor => binary(SubOp, a, b);
export const mul = (a: TensorLike, b: TensorLike): Tensor => binary(MulOp, a, b);
export const div = (a: TensorLike, b: TensorLike): Tensor => binary(DivOp, a, b);
export const pow = (a: TensorLike, b: TensorLike): Tensor => binary(PowOp, a, b);
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binary(MaxOp, a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binary(MinOp, a, b);

// ---- comparisons and logic (no gradient) ----

function comparison(name: string, onnx: string) {
  return defineOp({ name, infer: binaryType(name, 'bool'), lower: lowerAs(onnx) });
}
export const EqualOp = comparison('Equal', 'Equal');
export const LessOp = comparison('Less', 'Less');
export const GreaterOp = comparison('Greater', 'Greater');
export const LessOrEqualOp = comparison('LessOrEqual', 'LessOrEqual');
export const GreaterOrEqualOp = comparison('GreaterOrEqual', 'GreaterOrEqual');
export const AndOp = comparison('And', 'And');
export const OrOp = comparison('Or', 'Or');
export const NotOp = defineOp({
  name: 'Not',
  infer: ([x]) => {
    if (x!.dtype !== 'bool') fail('Not', 'needs a bool tensor', [x!]);
    return [{ dtype: 'bool', shape: x!.shape }];
  },
  lower: lowerAs('Not'),
});

export const equal = (a: TensorLike, b: TensorLike): Tensor => binary(EqualOp, a, b);
export const less = (a: TensorLike, b: TensorLike): Tensor => binary(LessOp, a, b);
export const greater = (a: TensorLike, b: TensorLike): Tensor => binary(GreaterOp, a, b);
export const lessOrEqual = (a: TensorLike, b: TensorLike): Tensor => binary(LessOrEqualOp, a, b);
export const greaterOrEqual = (a: TensorLike, b: TensorLike): Tensor => binary(GreaterOrEqualOp, a, b);
export const and = (a: Tensor, b: Tensor): Tensor => binary(AndOp, a, b);
export const or = (a: Tensor, b: Tensor): Tensor => binary(OrOp, a, b);
export const not = (x: Tensor): Tensor => unary(NotOp, x);

// ---- selection ----

export const WhereOp = defineOp({
  name: 'Where',
  infer: (inputs) => {
    const [c, a, b] = inputs as [Tensor, Tensor, Tensor];
    if (c.dtype !== 'bool') fail('Where', `condition must be bool, got ${c.dtype}`, inputs);
    if (a.dtype !== b.dtype) fail('Where', `branch dtypes differ: ${a.dtype} vs ${b.dtype}`, inputs);
    const s = broadcastShapes(c.shape, a.shape);
    const shape = s && broadcastShapes(s, b.shape);
    if (!shape) fail('Where', 'shapes do not broadcast', inputs);
    return [{ dtype: a.dtype, shape }];
  },
  vjp: ({ inputs: [c] }, [g]) => [null, where(c!, g!, 0), where(c!, 0, g!)],
  lower: lowerAs('Where'),
});

export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = pair(a, b, 'Where');
  return cond.graph.apply(WhereOp, [cond, ta, tb], {})[0]!;
}

// ---- unary math ----

export const NegOp = defineOp({
  name: 'Neg',
  infer: floatUnaryType('Neg'),
  vjp: (_, [g]) => [neg(g!)],
  lower: lowerAs('Neg'),
});
export const ExpOp = defineOp({
  name: 'Exp',
  infer: floatUnaryType('Exp'),
  vjp: ({ outputs: [y] }, [g]) => [mul(g!, y!)],
  lower: lowerAs('Exp'),
});
export const LogOp = defineOp({
  name: 'Log',
  infer: floatUnaryType('Log'),
  vjp: ({ inputs: [x] }, [g]) => [div(g!, x!)],
  lower: lowerAs('Log'),
});
export const TanhOp = defineOp({
  name: 'Tanh',
  infer: floatUnaryType('Tanh'),
  vjp: ({ outputs: [y] }, [g]) => [mul(g!, sub(1, mul(y!, y!)))],
  lower: lowerAs('Tanh'),
});
export const SigmoidOp = defineOp({
  name: 'Sigmoid',
  infer: floatUnaryType('Sigmoid'),
  vjp: ({ outputs: [y] }, [g]) => [mul(g!, mul(y!, sub(1, y!)))],
  lower: lowerAs('Sigmoid'),
});
export const ErfOp = defineOp({
  name: 'Erf',
  infer: floatUnaryType('Erf'),
  vjp: ({ inputs: [x] }, [g]) => [mul(g!, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))],
  lower: lowerAs('Erf'),
});
export const SqrtOp = defineOp({
  name: 'Sqrt',
  infer: floatUnaryType('Sqrt'),
  vjp: ({ outputs: [y] }, [g]) => [div(mul(g!, 0.5), y!)],
  lower: lowerAs('Sqrt'),
});
export const AbsOp = defineOp({
  name: 'Abs',
  infer: floatUnaryType('Abs'),
  vjp: ({ inputs: [x] }, [g]) => [mul(g!, sign(x!))],
  lower: lowerAs('Abs'),
});
/** Zero derivative almost everywhere: the rule passes no cotangent (a second pass through Abs reaches it). */
export const SignOp = defineOp({
  name: 'Sign',
  infer: floatUnaryType('Sign'),
  vjp: () => [null],
  lower: lowerAs('Sign'),
});
export const ReluOp = defineOp({
  name: 'Relu',
  infer: floatUnaryType('Relu'),
  vjp: ({ inputs: [x] }, [g]) => [where(greater(x!, 0), g!, 0)],
  lower: lowerAs('Relu'),
});

export const neg = (x: Tensor): Tensor => unary(NegOp, x);
export const exp = (x: Tensor): Tensor => unary(ExpOp, x);
export const log = (x: Tensor): Tensor => unary(LogOp, x);
export const tanh = (x: Tensor): Tensor => unary(TanhOp, x);
export const sigmoid = (x: Tensor): Tensor => unary(SigmoidOp, x);
export const erf = (x: Tensor): Tensor => unary(ErfOp, x);
export const sqrt = (x: Tensor): Tensor => unary(SqrtOp, x);
export const abs = (x: Tensor): Tensor => unary(AbsOp, x);
export const sign = (x: Tensor): Tensor => unary(SignOp, x);
export const relu = (x: Tensor): Tensor => unary(ReluOp, x);

// ---- clip ----

interface ClipAttrs {
  readonly min: number;
  readonly max: number;
  [k: string]: unknown;
}
export const ClipOp = defineOp<ClipAttrs>({
  name: 'Clip',
  infer: ([x], a) => {
    if (!(a.min <= a.max)) fail('Clip', `min ${a.min} exceeds max ${a.max}`, [x!]);
    return floatUnaryType('Clip')([x!]);
  },
  vjp: ({ inputs: [x], attrs }, [g]) => [
    where(and(greaterOrEqual(x!, attrs.min), lessOrEqual(x!, attrs.max)), g!, 0),
  ],
  lower: (node, ctx) =>
    ctx.emit(
      'Clip',
      [
        ctx.name(node.inputs[0]!),
        ctx.constScalar(node.attrs.min, node.inputs[0]!.dtype),
        ctx.constScalar(node.attrs.max, node.inputs[0]!.dtype),
      ],
      [ctx.outputName(node, 0)],
    ),
});

export function clip(x: Tensor, min: number, max: number): Tensor {
  return x.graph.apply(ClipOp, [x], { min, max })[0]!;
}

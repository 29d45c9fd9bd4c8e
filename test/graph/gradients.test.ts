// Gradient check of every registered primitive against central finite differences.
// Each case feeds fresh seeded inputs, takes loss = sum(op(inputs) * R) for a fixed random R (so every
// output element counts), and compares the library's gradients with differences of that same compiled
// loss at perturbed feeds. Float64 throughout, except Erf: ONNX Runtime has no float64 kernel for it.
// Set GRADCHECK_SEED to draw other inputs; every failure names the seed that reproduces it.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it, test } from 'node:test';

import * as G from '../../src/graph/index.js';
import { neededNodes } from '../../src/graph/emit.js';
import { cumsum } from '../../src/graph/ops/scan.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32 } from '../helpers/host.js';
import type { HostTensor } from '../../src/runtime/ort.js';
import {
  avoiding,
  centralDifferences,
  distinct,
  lattice,
  mulberry32,
  seedFor,
  uniform,
  worstMismatch,
  type Rng,
  type Sampler,
  type Tolerance,
} from '../helpers/finite-diff.js';

const BASE_SEED = Number(process.env.GRADCHECK_SEED ?? 20240611);

// Load every primitive module, so an op defined in src/graph/ops but not re-exported by index.ts is
// still registered here and held to a case.
const OPS_DIR = new URL('../../src/graph/ops/', import.meta.url);
for (const file of readdirSync(OPS_DIR).filter((f) => f.endsWith('.ts'))) {
  await import(new URL(file.replace(/\.ts$/, '.js'), OPS_DIR).href);
}

type FloatType = 'float32' | 'float64';

/**
 * Step and tolerance per dtype. Float64: rounding noise in the differences is ~1e-16·|loss|/h ≈ 1e-10 and
 * truncation ~h²·f''' ≈ 1e-10, so 1e-6 leaves a wide margin while any wrong rule is off by O(0.1).
 * Float32: noise ~6e-8·|loss|/h ≈ 1e-5 dominates, hence the coarser step and looser bounds.
 */
const PRECISION: Record<FloatType, { h: number; tol: Tolerance }> = {
  float64: { h: 1e-5, tol: { atol: 1e-6, rtol: 1e-6 } },
  float32: { h: 1e-2, tol: { atol: 1e-3, rtol: 1e-2 } },
};

/** One threaded session per function: the tensors are tiny and the test runs on two cores. */
const SESSION = { threads: 1 } as const;

interface Operand {
  readonly shape: G.Shape;
  /** Default: uniform in [-1, 1]. */
  readonly sample?: Sampler;
  /** Default: the case's dtype. */
  readonly dtype?: FloatType;
}

interface Case {
  /** The registered primitive under test; the built graph must contain it. */
  readonly op: string;
  /** Tells several cases of one op apart. */
  readonly label?: string;
  /** Default float64. */
  readonly dtype?: FloatType;
  /** Float inputs, each differentiated (inputs an op ignores must get zero). */
  readonly inputs: readonly Operand[];
  /** Run-time sizes of symbolic dimensions. */
  readonly sizes?: Readonly<Record<string, number>>;
  readonly f: (xs: G.Tensor[]) => G.Tensor;
}

const DEFAULT_SIZES: Readonly<Record<string, number>> = { batch: 3 };

const positive = uniform(0.5, 2);
const awayFromZero = avoiding([0], 0.3, -2, 2);
const kinkFree = avoiding([0], 0.1);

const int64 = (g: G.Graph, values: number[], shape: number[]) => G.constant(g, values, shape, 'int64');

const CASES: readonly Case[] = [
  { op: 'Identity', inputs: [{ shape: [2, 3] }], f: ([x]) => G.identity(x!) },
  {
    op: 'Cast',
    label: 'float32 to float64',
    inputs: [{ shape: [2, 3], dtype: 'float32' }],
    f: ([x]) => G.cast(x!, 'float64'),
  },

  // Arithmetic, with broadcasting so the engine's sum back to input shapes is exercised.
  { op: 'Add', inputs: [{ shape: [2, 3] }, { shape: [3] }], f: ([a, b]) => G.add(a!, b!) },
  { op: 'Sub', inputs: [{ shape: [2, 1] }, { shape: [1, 3] }], f: ([a, b]) => G.sub(a!, b!) },
  { op: 'Mul', inputs: [{ shape: [2, 3] }, { shape: [2, 3] }], f: ([a, b]) => G.mul(a!, b!) },
  {
    op: 'Mul',
    label: 'scalar operand',
    inputs: [{ shape: [2, 3] }, { shape: [] }],
    f: ([a, b]) => G.mul(a!, b!),
  },
  {
    op: 'Div',
    inputs: [{ shape: [2, 3] }, { shape: [3], sample: awayFromZero }],
    f: ([a, b]) => G.div(a!, b!),
  },
  {
    op: 'Pow',
    inputs: [
      { shape: [2, 3], sample: positive },
      { shape: [2, 3], sample: uniform(-2, 2) },
    ],
    f: ([x, p]) => G.pow(x!, p!),
  },
  {
    op: 'Pow',
    label: 'constant exponent',
    inputs: [{ shape: [2, 3], sample: positive }],
    f: ([x]) => G.pow(x!, 3),
  },
  {
    op: 'Max',
    inputs: [
      { shape: [2, 3], sample: lattice(0) },
      { shape: [3], sample: lattice(0.5) },
    ],
    f: ([a, b]) => G.maximum(a!, b!),
  },
  {
    op: 'Min',
    inputs: [
      { shape: [2, 3], sample: lattice(0) },
      { shape: [3], sample: lattice(0.5) },
    ],
    f: ([a, b]) => G.minimum(a!, b!),
  },
  {
    op: 'Where',
    inputs: [{ shape: [2, 3] }, { shape: [3] }],
    f: ([a, b]) => G.where(G.constant(a!.graph, [1, 0, 1, 0, 0, 1], [2, 3], 'bool'), a!, b!),
  },

  // Unary math, sampled where each function is smooth.
  { op: 'Neg', inputs: [{ shape: [2, 3] }], f: ([x]) => G.neg(x!) },
  { op: 'Exp', inputs: [{ shape: [2, 3] }], f: ([x]) => G.exp(x!) },
  { op: 'Log', inputs: [{ shape: [2, 3], sample: positive }], f: ([x]) => G.log(x!) },
  { op: 'Tanh', inputs: [{ shape: [2, 3], sample: uniform(-1.5, 1.5) }], f: ([x]) => G.tanh(x!) },
  { op: 'Sigmoid', inputs: [{ shape: [2, 3], sample: uniform(-2, 2) }], f: ([x]) => G.sigmoid(x!) },
  // ONNX Runtime's CPU provider implements Erf for float32 only.
  {
    op: 'Erf',
    dtype: 'float32',
    inputs: [{ shape: [2, 3], sample: uniform(-1.5, 1.5) }],
    f: ([x]) => G.erf(x!),
  },
  {
    op: 'Gelu',
    label: 'erf',
    dtype: 'float32',
    inputs: [{ shape: [2, 3], sample: uniform(-2, 2) }],
    f: ([x]) => G.gelu(x!),
  },
  {
    op: 'Gelu',
    label: 'tanh',
    dtype: 'float32',
    inputs: [{ shape: [2, 3], sample: uniform(-2, 2) }],
    f: ([x]) => G.geluTanh(x!),
  },
  { op: 'Sqrt', inputs: [{ shape: [2, 3], sample: positive }], f: ([x]) => G.sqrt(x!) },
  { op: 'Abs', inputs: [{ shape: [2, 3], sample: kinkFree }], f: ([x]) => G.abs(x!) },
  { op: 'Relu', inputs: [{ shape: [2, 3], sample: kinkFree }], f: ([x]) => G.relu(x!) },
  {
    op: 'Clip',
    inputs: [{ shape: [3, 3], sample: avoiding([-0.5, 0.5], 0.1) }],
    f: ([x]) => G.clip(x!, -0.5, 0.5),
  },
  // Zero derivative almost everywhere: the x· factor checks the zero joins the other path cleanly.
  { op: 'Sign', inputs: [{ shape: [2, 3], sample: kinkFree }], f: ([x]) => G.mul(x!, G.sign(x!)) },

  // Matrix products: plain, shared 2-D weight under a batched operand, and broadcast batch dimensions.
  { op: 'MatMul', inputs: [{ shape: [2, 3] }, { shape: [3, 4] }], f: ([a, b]) => G.matmul(a!, b!) },
  {
    op: 'MatMul',
    label: 'shared weight',
    inputs: [{ shape: [2, 2, 3] }, { shape: [3, 2] }],
    f: ([a, b]) => G.matmul(a!, b!),
  },
  {
    op: 'MatMul',
    label: 'broadcast batch',
    inputs: [{ shape: [2, 3] }, { shape: [2, 3, 2] }],
    f: ([a, b]) => G.matmul(a!, b!),
  },

  // Reductions.
  { op: 'ReduceSum', inputs: [{ shape: [2, 3, 2] }], f: ([x]) => G.sum(x!, [1]) },
  {
    op: 'ReduceSum',
    label: 'keepdims',
    inputs: [{ shape: [2, 3, 2] }],
    f: ([x]) => G.sum(x!, [0, -1], true),
  },
  { op: 'ReduceMean', inputs: [{ shape: [2, 3, 2] }], f: ([x]) => G.mean(x!, [-1]) },
  {
    op: 'ReduceMean',
    label: 'symbolic axis',
    inputs: [{ shape: ['batch', 3] }],
    f: ([x]) => G.mean(x!, [0]),
  },
  { op: 'ReduceMax', inputs: [{ shape: [2, 4], sample: distinct }], f: ([x]) => G.max(x!, [1]) },
  {
    op: 'ReduceMax',
    label: 'keepdims',
    inputs: [{ shape: [3, 2, 2], sample: distinct }],
    f: ([x]) => G.max(x!, [0, 2], true),
  },
  {
    // Each maximum is tied with its copy: they share the cotangent, as the max of x itself has it.
    op: 'ReduceMax',
    label: 'ties',
    inputs: [{ shape: [2, 3], sample: distinct }],
    f: ([x]) => G.max(G.concat([x!, x!], 1), [1]),
  },
  // The run-time count is a constant of the shape: zero derivative, and the x· path must still flow.
  {
    op: 'CountAlong',
    inputs: [{ shape: ['batch', 3] }],
    f: ([x]) => G.mul(x!, G.countAlong(x!, [0])),
  },
  { op: 'ZerosLike', inputs: [{ shape: [2, 3] }], f: ([x]) => G.add(x!, G.zerosLike(x!)) },

  // Softmax family.
  // ONNX Runtime's CPU provider implements LayerNormalization for float32 only.
  {
    op: 'LayerNorm',
    dtype: 'float32',
    inputs: [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }],
    f: ([x, w, b]) => G.layerNorm(x!, w!, b!, 1e-5),
  },
  {
    op: 'LayerNorm',
    label: 'symbolic batch',
    dtype: 'float32',
    inputs: [{ shape: ['batch', 5] }, { shape: [5] }, { shape: [5] }],
    f: ([x, w, b]) => G.layerNorm(x!, w!, b!, 1e-5),
  },
  { op: 'Softmax', inputs: [{ shape: [2, 4] }], f: ([x]) => G.softmax(x!, -1) },
  { op: 'Softmax', label: 'axis 0', inputs: [{ shape: [3, 2] }], f: ([x]) => G.softmax(x!, 0) },
  { op: 'LogSoftmax', inputs: [{ shape: [2, 4] }], f: ([x]) => G.logSoftmax(x!, -1) },
  { op: 'LogSoftmax', label: 'middle axis', inputs: [{ shape: [2, 3, 2] }], f: ([x]) => G.logSoftmax(x!, 1) },

  // Data movement.
  { op: 'Transpose', inputs: [{ shape: [2, 3, 2] }], f: ([x]) => G.transpose(x!, [1, 2, 0]) },
  { op: 'Reshape', inputs: [{ shape: [2, 6] }], f: ([x]) => G.reshape(x!, [3, -1]) },
  {
    op: 'Reshape',
    label: 'symbolic, copied dim',
    inputs: [{ shape: ['batch', 6] }],
    f: ([x]) => G.reshape(x!, [0, 2, 3]),
  },
  {
    op: 'Reshape',
    label: 'symbolic, inferred dim',
    inputs: [{ shape: ['batch', 6] }],
    f: ([x]) => G.reshape(x!, [-1, 3]),
  },
  {
    op: 'ReshapeTo',
    label: 'symbolic reference',
    inputs: [{ shape: ['batch', 6] }, { shape: ['batch', 2, 3] }],
    f: ([x, ref]) => G.reshapeLike(x!, ref!),
  },
  {
    op: 'Slice',
    label: 'two axes, negative bounds',
    inputs: [{ shape: [3, 5] }],
    f: ([x]) => G.slice(x!, [0, 1], [1, -4], [3, -1]),
  },
  {
    op: 'Slice',
    label: 'symbolic axis, negative start',
    inputs: [{ shape: ['batch', 3] }],
    f: ([x]) => G.sliceAxis(x!, 0, -2, Infinity),
  },
  {
    op: 'Slice',
    label: 'symbolic axis, positive start',
    inputs: [{ shape: [2, 'batch'] }],
    f: ([x]) => G.sliceAxis(x!, 1, 1, Infinity),
  },
  {
    op: 'Slice',
    label: 'symbolic axis, negative start and end',
    inputs: [{ shape: ['batch', 2] }],
    sizes: { batch: 4 },
    f: ([x]) => G.sliceAxis(x!, 0, -3, -1),
  },
  {
    op: 'Slice',
    label: 'step 2 from 1 to the end',
    inputs: [{ shape: [3, 7] }],
    f: ([x]) => G.sliceAxis(x!, 1, 1, Infinity, 2),
  },
  {
    op: 'Slice',
    label: 'step -1 (reversed axis)',
    inputs: [{ shape: [4, 3] }],
    f: ([x]) => G.sliceAxis(x!, 0, -1, -Infinity, -1),
  },
  {
    op: 'Slice',
    label: 'step -2, end before the start clamped',
    inputs: [{ shape: [8] }],
    f: ([x]) => G.sliceAxis(x!, 0, 6, -100, -2),
  },
  {
    op: 'Slice',
    label: 'steps on two axes, one of 1',
    inputs: [{ shape: [5, 8, 2] }],
    f: ([x]) => G.slice(x!, [1, 0, 2], [-2, 0, 1], [0, Infinity, Infinity], [-3, 2, 1]),
  },
  {
    op: 'Slice',
    label: 'step 3 on a static axis beside a symbolic one',
    inputs: [{ shape: ['batch', 7] }],
    f: ([x]) => G.sliceAxis(x!, -1, 0, Infinity, 3),
  },
  {
    op: 'Slice',
    label: 'step -2 on a symbolic axis',
    inputs: [{ shape: ['batch', 2] }],
    sizes: { batch: 5 },
    f: ([x]) => G.sliceAxis(x!, 0, -2, -Infinity, -2),
  },
  {
    op: 'SliceGrad',
    inputs: [{ shape: [2, 2] }, { shape: [3, 5] }],
    f: ([g, x]) =>
      x!.graph.apply(G.SliceGradOp, [g!, x!], { axes: [0, 1], starts: [1, -4], ends: [3, -2] })[0]!,
  },
  {
    op: 'SliceGrad',
    label: 'symbolic axis',
    inputs: [{ shape: [2, 3] }, { shape: ['batch', 3] }],
    f: ([g, x]) => x!.graph.apply(G.SliceGradOp, [g!, x!], { axes: [0], starts: [-2], ends: [Infinity] })[0]!,
  },
  {
    op: 'Concat',
    inputs: [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }],
    f: (xs) => G.concat(xs, 1),
  },
  {
    op: 'Concat',
    label: 'symbolic axis, symbolic piece in the middle',
    inputs: [{ shape: [2, 3] }, { shape: ['batch', 3] }, { shape: [1, 3] }],
    f: (xs) => G.concat(xs, 0),
  },
  {
    op: 'Split',
    label: 'a piece unused (its gradient is zeros)',
    inputs: [{ shape: [2, 6] }],
    f: ([x]) => {
      const [a, b] = G.split(x!, 1, [2, 3, 1]);
      return G.concat([b!, a!], 1);
    },
  },
  {
    op: 'Split',
    label: 'symbolic batch, negative axis',
    inputs: [{ shape: ['batch', 6] }],
    f: ([x]) => {
      const [a, b] = G.split(x!, -1, [3, 3]);
      return G.add(G.mul(a!, 2), b!);
    },
  },
  { op: 'Expand', inputs: [{ shape: [1, 3] }], f: ([x]) => G.expand(x!, [2, 3]) },
  { op: 'Expand', label: 'new leading axes', inputs: [{ shape: [3] }], f: ([x]) => G.expand(x!, [2, 2, 3]) },
  {
    op: 'Expand',
    label: 'expandLike, symbolic reference',
    inputs: [{ shape: [1, 3] }, { shape: ['batch', 3] }],
    f: ([x, ref]) => G.expandLike(x!, ref!),
  },
  {
    op: 'Expand',
    label: 'expandLike, symbolic reference of higher rank',
    inputs: [{ shape: [2, 1] }, { shape: ['batch', 2, 3] }],
    f: ([x, ref]) => G.expandLike(x!, ref!),
  },
  { op: 'CumSum', inputs: [{ shape: [2, 4] }], f: ([x]) => cumsum(x!, 1) },
  {
    op: 'CumSum',
    label: 'reverse, symbolic axis',
    inputs: [{ shape: ['batch', 2] }],
    f: ([x]) => cumsum(x!, 0, true),
  },
  { op: 'Unsqueeze', inputs: [{ shape: [2, 3] }], f: ([x]) => G.unsqueeze(x!, [-1, 0]) },
  { op: 'Squeeze', inputs: [{ shape: [2, 1, 3, 1] }], f: ([x]) => G.squeeze(x!, [1, -1]) },

  // Embedding lookup and its transpose, with repeated indices so accumulation matters.
  {
    op: 'Gather',
    inputs: [{ shape: [4, 3] }],
    f: ([x]) => G.gather(x!, int64(x!.graph, [0, 2, 2, 3], [2, 2])),
  },
  {
    op: 'Gather',
    label: 'int32 indices',
    inputs: [{ shape: [4, 2] }],
    f: ([x]) => G.gather(x!, G.constant(x!.graph, [3, 1, 3], [3], 'int32')),
  },
  {
    op: 'ScatterAdd',
    inputs: [{ shape: [4, 3] }, { shape: [3, 3] }],
    f: ([like, upd]) => G.scatterAdd(like!, int64(like!.graph, [1, 3, 1], [3]), upd!),
  },
  {
    op: 'IndexAdd',
    inputs: [{ shape: [4, 3] }, { shape: [2, 2, 3] }],
    f: ([data, upd]) => G.indexAdd(data!, int64(data!.graph, [2, 0, 2, 1], [2, 2]), upd!),
  },
];

/**
 * Registered ops with no finite-difference case, and why. Anything registered that is neither here nor
 * in CASES fails the coverage test, so a new primitive cannot ship without a checked gradient.
 */
const EXEMPT: Readonly<Record<string, string>> = {
  Input: 'leaf',
  Param: 'leaf',
  Constant: 'leaf',
  Equal: 'bool result',
  Less: 'bool result',
  Greater: 'bool result',
  LessOrEqual: 'bool result',
  GreaterOrEqual: 'bool result',
  And: 'bool result',
  Or: 'bool result',
  Not: 'bool result',
  Shape: 'int64 result',
  Arange: 'int64 result',
  Unique: 'int64 results',
  OneHot: 'integer input; zero cotangent checked below',
  StopGradient: 'zero derivative by definition, which differences cannot see; checked below',
  Dropout: 'random; its gradient is checked against the forward mask below',
};

/**
 * Cases whose second derivative is checked: d/dx of sum(grad(sum(f(x)·R), x)·V) against central
 * differences of that first gradient.
 */
const SECOND_ORDER: readonly Case[] = [
  {
    op: 'Mul',
    label: 'broadcast',
    inputs: [{ shape: [2, 3] }, { shape: [3] }],
    f: ([a, b]) => G.mul(a!, b!),
  },
  {
    op: 'Div',
    inputs: [{ shape: [2, 3] }, { shape: [2, 3], sample: awayFromZero }],
    f: ([a, b]) => G.div(a!, b!),
  },
  {
    op: 'Pow',
    inputs: [
      { shape: [2, 3], sample: positive },
      { shape: [2, 3], sample: uniform(-2, 2) },
    ],
    f: ([x, p]) => G.pow(x!, p!),
  },
  { op: 'Tanh', inputs: [{ shape: [2, 3] }], f: ([x]) => G.tanh(x!) },
  { op: 'Exp', inputs: [{ shape: [2, 3] }], f: ([x]) => G.exp(x!) },
  // Second derivative 2·sign(x): the rule for |x| differentiates through Sign.
  { op: 'Abs', inputs: [{ shape: [2, 3], sample: kinkFree }], f: ([x]) => G.mul(x!, G.abs(x!)) },
  { op: 'MatMul', inputs: [{ shape: [2, 3] }, { shape: [3, 2] }], f: ([a, b]) => G.matmul(a!, b!) },
  {
    op: 'MatMul',
    label: 'shared weight',
    inputs: [{ shape: [2, 2, 3] }, { shape: [3, 2] }],
    f: ([a, b]) => G.matmul(a!, b!),
  },
  // The second pass goes through the saved mean and inverse standard deviation (float32 only).
  {
    op: 'LayerNorm',
    dtype: 'float32',
    inputs: [{ shape: [2, 4] }, { shape: [4] }, { shape: [4] }],
    f: ([x, w, b]) => G.layerNorm(x!, w!, b!, 1e-5),
  },
  { op: 'Softmax', inputs: [{ shape: [2, 4] }], f: ([x]) => G.softmax(x!, -1) },
  { op: 'LogSoftmax', inputs: [{ shape: [2, 4] }], f: ([x]) => G.logSoftmax(x!, -1) },
  // The mean's divisor over a symbolic axis is a CountAlong node, which the second pass reaches.
  {
    op: 'ReduceMean',
    label: 'symbolic axis',
    inputs: [{ shape: ['batch', 3] }],
    f: ([x]) => G.mean(G.mul(x!, x!), [0]),
  },
  // Slice and Gather are linear: squaring gives them a second derivative (through SliceGrad and ScatterAdd).
  {
    op: 'Slice',
    inputs: [{ shape: [3, 4] }],
    f: ([x]) => {
      const s = G.slice(x!, [0, 1], [1, -3], [Infinity, -1]);
      return G.mul(s, s);
    },
  },
  {
    op: 'Slice',
    label: 'symbolic axis, negative start',
    inputs: [{ shape: ['batch', 3] }],
    f: ([x]) => {
      const s = G.sliceAxis(x!, 0, -2, Infinity);
      return G.mul(s, s);
    },
  },
  {
    op: 'Slice',
    label: 'steps 2 and -1, through ScatterAdd',
    inputs: [{ shape: [5, 3] }],
    f: ([x]) => {
      const s = G.slice(x!, [0, 1], [0, -1], [Infinity, -Infinity], [2, -1]);
      return G.mul(s, s);
    },
  },
  {
    op: 'Slice',
    label: 'step 2 on a symbolic axis, through ScatterAdd',
    inputs: [{ shape: ['batch', 3] }],
    sizes: { batch: 5 },
    f: ([x]) => {
      const s = G.sliceAxis(x!, 0, 1, Infinity, 2);
      return G.mul(s, s);
    },
  },
  {
    op: 'Gather',
    label: 'through ScatterAdd',
    inputs: [{ shape: [4, 3] }],
    f: ([x]) => {
      const e = G.gather(x!, int64(x!.graph, [0, 2, 2], [3]));
      return G.mul(e, e);
    },
  },
  // The unused input's first gradient is ZerosLike, which the second pass reaches.
  {
    op: 'ZerosLike',
    label: 'unused input',
    inputs: [{ shape: [2, 3] }, { shape: [3] }],
    f: ([x]) => G.mul(x!, x!),
  },
];

// ---- machinery ----

function caseLabel(c: Case): string {
  return c.label ? `${c.op} (${c.label})` : c.op;
}

function concreteDims(shape: G.Shape, sizes: Readonly<Record<string, number>>): number[] {
  return shape.map((d) => {
    if (typeof d === 'number') return d;
    const n = sizes[d];
    if (n === undefined) throw new Error(`no run-time size for symbolic dimension "${d}"`);
    return n;
  });
}

function randomFeed(dtype: FloatType, dims: readonly number[], sample: Sampler, rng: Rng): HostTensor {
  const size = dims.reduce((a, b) => a * b, 1);
  const values = sample(rng, size);
  return { dtype, dims, data: dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values) };
}

/** Run-time dims of `y`: its static shape, or one forward run when some dimension is symbolic. */
async function runtimeDims(
  y: G.Tensor,
  xs: readonly G.Tensor[],
  feeds: Record<string, HostTensor>,
): Promise<number[]> {
  if (G.isStatic(y.shape)) return [...y.shape];
  const probe = await compile({ inputs: xs, outputs: { y }, session: SESSION });
  try {
    return [...(await probe.run(feeds)).y!.dims];
  } finally {
    await probe.release();
  }
}

const show = (a: ArrayLike<number>): string => `[${Array.from(a, (v) => v.toPrecision(7)).join(', ')}]`;

/**
 * Builds the case's graph and checks d(loss)/d(input) against central differences of the loss, where loss
 * is sum(f(x)·R) (order 1) or sum over inputs of sum(grad_i(that loss)·V_i) (order 2). One compiled function
 * yields loss and gradients; the differences evaluate the same function at perturbed feeds.
 */
async function check(c: Case, order: 1 | 2): Promise<void> {
  const label = `${caseLabel(c)}${order === 2 ? ', second order' : ''}`;
  const seed = seedFor(BASE_SEED, label);
  const rng = mulberry32(seed);
  const sizes = c.sizes ?? DEFAULT_SIZES;
  const g = new G.Graph();
  const xs = c.inputs.map((o, i) => G.input(g, `x${i}`, o.dtype ?? c.dtype ?? 'float64', o.shape));
  const feeds: Record<string, HostTensor> = {};
  xs.forEach((x, i) => {
    feeds[`x${i}`] = randomFeed(
      x.dtype as FloatType,
      concreteDims(x.shape, sizes),
      c.inputs[i]!.sample ?? uniform(-1, 1),
      rng,
    );
  });

  const y = c.f(xs);
  // Fed but not differentiated: the random weights R (and V) that make every element count.
  const fixed: G.Tensor[] = [];
  const fixedLike = (name: string, like: G.Tensor, dims: readonly number[]): G.Tensor => {
    const t = G.input(g, name, like.dtype, like.shape);
    feeds[name] = randomFeed(like.dtype as FloatType, dims, uniform(-1, 1), rng);
    fixed.push(t);
    return t;
  };
  const r = fixedLike('r', y, await runtimeDims(y, xs, feeds));
  let loss = G.sum(G.mul(y, r));
  if (order === 2) {
    const first = G.grad(loss, xs);
    const terms = xs.map((x, i) => G.sum(G.mul(first[i]!, fixedLike(`v${i}`, x, feeds[`x${i}`]!.dims))));
    loss = terms.reduce((a, b) => G.add(a, b));
  }
  // Order 1: the op must be in f itself; order 2 may name an op that only the first gradient uses.
  assert.ok(
    neededNodes(order === 1 ? [y] : [y, loss]).some((n) => n.op.name === c.op),
    `${label}: the case's graph does not use ${c.op}`,
  );
  const grads = G.grad(loss, xs);

  const outputs: Record<string, G.Tensor> = { loss };
  grads.forEach((t, i) => (outputs[`grad${i}`] = t));
  const fn = await compile({ inputs: [...xs, ...fixed], outputs, session: SESSION });
  try {
    const base = await fn.run(feeds);
    const lossAt = async (): Promise<number> => Number((await fn.run(feeds, ['loss'])).loss!.data[0]);
    for (const [i, x] of xs.entries()) {
      const feed = feeds[`x${i}`]!;
      const analytic = base[`grad${i}`]!;
      assert.deepEqual(analytic.dims, feed.dims, `${label}: gradient of x${i} has the wrong shape`);
      const { h, tol } = PRECISION[x.dtype as FloatType];
      const numeric = await centralDifferences(lossAt, feed.data as Float32Array | Float64Array, h);
      const bad = worstMismatch(analytic.data as Float64Array, numeric, tol);
      if (bad) {
        assert.fail(
          `${label}: d loss/d x${i}[${bad.index}] is ${bad.actual} by autodiff but ${bad.expected} by ` +
            `central differences (h ${h}, atol ${tol.atol}, rtol ${tol.rtol}); ` +
            `case seed ${seed}, GRADCHECK_SEED=${BASE_SEED}\n` +
            `  x${i}:      ${show(feed.data as Float64Array)}\n` +
            `  autodiff: ${show(analytic.data as Float64Array)}\n` +
            `  numeric:  ${show(numeric)}`,
        );
      }
    }
  } finally {
    await fn.release();
  }
}

// ---- tests ----

describe('gradients: coverage', () => {
  it('every registered op has a finite-difference case or a stated reason for none', () => {
    const registered = G.registeredOps().map((op) => op.name);
    const covered = new Set([...CASES.map((c) => c.op), ...Object.keys(EXEMPT)]);
    const missing = registered.filter((name) => !covered.has(name));
    assert.deepEqual(
      missing,
      [],
      `registered ops with neither a case in CASES nor a reason in EXEMPT: ${missing.join(', ')}`,
    );
    const stale = [...covered].filter((name) => !registered.includes(name));
    assert.deepEqual(stale, [], `CASES or EXEMPT name ops that are not registered: ${stale.join(', ')}`);
    const both = CASES.map((c) => c.op).filter((name) => name in EXEMPT);
    assert.deepEqual(both, [], `ops both checked and exempt: ${both.join(', ')}`);
  });
});

describe('gradients: first order against central differences', () => {
  for (const c of CASES) it(caseLabel(c), () => check(c, 1));
});

describe('gradients: second order against central differences of the gradient', () => {
  for (const c of SECOND_ORDER) it(caseLabel(c), () => check(c, 2));
});

describe('gradients: ops that differences cannot check', () => {
  // Both ways of writing Dropout: ONNX's op, and the RandomUniformLike mask that builds without a
  // training-mode Dropout kernel need (EmitSpec.dropoutFromUniform).
  for (const dropoutFromUniform of [false, true])
    it(`Dropout${dropoutFromUniform ? ' from a uniform mask' : ''}: the gradient is R · mask / (1 - ratio), with the mask read from y != 0`, async () => {
      const ratio = 0.25;
      const seed = seedFor(BASE_SEED, 'Dropout');
      const rng = mulberry32(seed);
      const g = new G.Graph();
      const x = G.input(g, 'x', 'float64', [6, 8]);
      const r = G.input(g, 'r', 'float64', [6, 8]);
      const y = G.dropout(x, ratio, 17);
      const [gx] = G.grad(G.sum(G.mul(y, r)), [x]);
      const fn = await compile({
        inputs: [x, r],
        outputs: { y, gx: gx! },
        session: SESSION,
        dropoutFromUniform,
      });
      try {
        // Inputs away from zero, so y == 0 exactly where the mask dropped.
        const xs = randomFeed('float64', [6, 8], avoiding([0], 0.1), rng);
        const rs = randomFeed('float64', [6, 8], uniform(-1, 1), rng);
        const out = await fn.run({ x: xs, r: rs });
        const yv = out.y!.data as Float64Array;
        const gv = out.gx!.data as Float64Array;
        const kept = Array.from(yv, (v) => v !== 0);
        const nKept = kept.filter(Boolean).length;
        assert.ok(
          nKept > 0 && nKept < kept.length,
          `Dropout kept ${nKept} of ${kept.length}: no mask to check`,
        );
        const scale = 1 / (1 - ratio);
        const at = `(case seed ${seed}, GRADCHECK_SEED=${BASE_SEED})`;
        kept.forEach((k, i) => {
          const xi = xs.data[i] as number;
          const ri = rs.data[i] as number;
          assert.ok(
            !k || Math.abs(yv[i]! - xi * scale) <= 1e-12,
            `y[${i}] = ${yv[i]} but x·scale = ${xi * scale} ${at}`,
          );
          const want = k ? ri * scale : 0;
          assert.ok(
            Math.abs(gv[i]! - want) <= 1e-12,
            `grad[${i}] = ${gv[i]} but mask·R/(1-ratio) = ${want} ${at}`,
          );
        });
      } finally {
        await fn.release();
      }
    });

  it('Dropout from a uniform mask drops its ratio of elements, and the same seed gives the same mask', async () => {
    const g = new G.Graph();
    const x = G.input(g, 'x', 'float32', [100, 100]);
    const y = G.dropout(x, 0.3, 5);
    const masks: Uint8Array[] = [];
    for (let i = 0; i < 2; i++) {
      const fn = await compile({ inputs: [x], outputs: { y }, session: SESSION, dropoutFromUniform: true });
      try {
        const out = await fn.run({
          x: { dtype: 'float32', dims: [100, 100], data: new Float32Array(10000).fill(1) },
        });
        masks.push(Uint8Array.from(out.y!.data as Float32Array, (v) => (v === 0 ? 0 : 1)));
      } finally {
        await fn.release();
      }
    }
    const dropped = masks[0]!.filter((k) => k === 0).length / 10000;
    // 0.3 ± 5 standard deviations of a binomial proportion over 10,000 draws.
    assert.ok(
      Math.abs(dropped - 0.3) < 5 * Math.sqrt((0.3 * 0.7) / 10000),
      `dropped ${dropped} of the elements`,
    );
    assert.deepEqual(masks[1], masks[0]);
  });

  it('StopGradient and OneHot pass a zero cotangent instead of failing', async () => {
    const seed = seedFor(BASE_SEED, 'zero cotangents');
    const rng = mulberry32(seed);
    const g = new G.Graph();
    const x = G.input(g, 'x', 'float64', [2, 3]);
    const r = G.input(g, 'r', 'float64', [2, 3]);
    // x + stop(x²) has derivative 1 by definition; the one-hot of int(x) has derivative 0.
    const y = G.add(x, G.stopGradient(G.mul(x, x)));
    const hot = G.oneHot(G.cast(x, 'int64'), 4, 'float64');
    const loss = G.add(G.sum(G.mul(y, r)), G.sum(G.mul(hot, G.unsqueeze(r, [-1]))));
    const [gx] = G.grad(loss, [x]);
    const fn = await compile({ inputs: [x, r], outputs: { gx: gx! }, session: SESSION });
    try {
      const xs = randomFeed(
        'float64',
        [2, 3],
        (rr, n) => uniform(0.2, 0.8)(rr, n).map((v, i) => v + (i % 4)),
        rng,
      );
      const rs = randomFeed('float64', [2, 3], uniform(-1, 1), rng);
      const out = await fn.run({ x: xs, r: rs });
      assert.deepEqual(
        Array.from(out.gx!.data as Float64Array),
        Array.from(rs.data as Float64Array),
        `case seed ${seed}`,
      );
    } finally {
      await fn.release();
    }
  });
});

test('edge values: pow(x, 0) and pow(0, p) have finite gradients, as in PyTorch; reversed symbolic slices are empty', async () => {
  const g = new G.Graph();
  const x = G.input(g, 'x', 'float32', [3]);
  const p = G.input(g, 'p', 'float32', [3]);
  const [gx, gp] = G.grad(G.sum(G.pow(x, p)), [x, p]);
  const fn = await compile({ inputs: [x, p], outputs: { gx: gx!, gp: gp! } });
  const out = await fn.run({ x: f32([3], [0, 0, 2]), p: f32([3], [0, 2, 0]) });
  // d/dx x^p = p x^(p-1): 0 where p = 0; at x = 0, p = 2: 0. d/dp = x^p log x: 0 at x = 0, log 2 at x = 2.
  assert.deepEqual([...(out.gx!.data as Float32Array)], [0, 0, 0]);
  const gpv = [...(out.gp!.data as Float32Array)];
  assert.deepEqual(gpv.slice(0, 2), [0, 0]);
  assert.ok(Math.abs(gpv[2]! - Math.log(2)) < 1e-6, `${gpv[2]}`);
  await fn.release();
  assert.deepEqual(G.sliceAxis(G.input(g, 'b', 'float32', ['batch', 3]), 0, 3, 1).shape, [0, 3]);
});

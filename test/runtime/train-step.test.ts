import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add, crossEntropy, input, linear, mean, mul, sqrt, sub, sum, tanh } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { dense } from '../../src/nn/layers.js';
import { Rng } from '../../src/runtime/random.js';
import { NonFiniteLossError, TrainStep, type StepResult } from '../../src/runtime/train-step.js';
import { trainEncoder } from '../helpers/toy-encoder.js';
import { FeedError } from '../../src/runtime/compiled.js';
import { f32, i64 } from '../helpers/host.js';

/** XOR-like toy task for an MLP: y = sign(x0 * x1). */
async function trainMlp(seed: number, steps: number): Promise<number[]> {
  const b = new ModelBuilder({ training: true, dropoutSeed: seed });
  const x = input(b.graph, 'x', 'float32', ['batch', 2]);
  const y = input(b.graph, 'y', 'int64', ['batch']);
  const h = tanh(dense(b, 'fc1', x, 2, 16, { kind: 'normal', std: 1 }));
  const logits = dense(b, 'fc2', h, 16, 2, { kind: 'normal', std: 0.5 });
  const loss = crossEntropy(logits, y);
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: [...b.params.values()].map((p) => p.tensor),
    batch: [x, y],
    optimizer: { kind: 'adamw', weightDecay: 0 },
  });
  const state = step.initState(b.initialValues(seed));
  const rng = new Rng(seed);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < 64; i++) {
    const a = rng.next() * 2 - 1;
    const c = rng.next() * 2 - 1;
    xs.push(a, c);
    ys.push(a * c > 0 ? 1 : 0);
  }
  const losses: number[] = [];
  for (let i = 0; i < steps; i++)
    losses.push((await step.run(state, { x: f32([64, 2], xs), y: i64([64], ys) }, 0.03)).loss);
  await step.release();
  return losses;
}

test('an MLP fits a toy task to near-zero loss, and the same seed gives bitwise the same losses', async () => {
  const a = await trainMlp(3, 300);
  assert.ok(a[0]! > 0.5, `initial loss ${a[0]}`);
  assert.ok(a[a.length - 1]! < 0.05, `final loss ${a[a.length - 1]}`);
  const b = await trainMlp(3, 300);
  assert.deepEqual(b, a);
  const c = await trainMlp(4, 300);
  assert.notDeepEqual(c, a);
});

// On GPU providers the embedding gradient's scatter-add sums rows in no fixed order, so runs agree only
// to rounding (test/runtime/execution-providers.test.ts checks that, and the first steps against the CPU).
const onGpu = /webgpu|cuda|tensorrt/.test(process.env['PLMKIT_EXECUTION_PROVIDERS'] ?? '');

test(
  'a 2-layer transformer encoder fits a toy task, reproducibly',
  { skip: onGpu && 'not bitwise on GPU providers' },
  async () => {
    const a = await trainEncoder(1, 300);
    assert.ok(a[a.length - 1]! < 0.05, `final loss ${a[a.length - 1]}`);
    assert.deepEqual(await trainEncoder(1, 300), a);
  },
);

test('a non-finite loss stops training, names the step and terms, and keeps the last good parameters', async () => {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', [4]);
  const w = b.param('w', [4], { kind: 'ones' });
  const err = sum(mul(sub(x, w), sub(x, w)));
  // A NaN in the batch poisons the loss on purpose.
  const loss = mean(mul(err, 1));
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    terms: { err },
    trainable: [w],
    batch: [x],
    optimizer: { kind: 'sgd' },
  });
  const state = step.initState(b.initialValues(0));
  await step.run(state, { x: f32([4], [1, 2, 3, 4]) }, 0.1);
  const before = state.params.get('w')!.slice();
  await assert.rejects(
    step.run(state, { x: f32([4], [1, 2, Number.NaN, 4]) }, 0.1),
    (e: unknown) =>
      e instanceof NonFiniteLossError &&
      e.step === 2 &&
      /loss=NaN/.test(e.message) &&
      /err=NaN/.test(e.message),
  );
  assert.deepEqual(state.params.get('w'), before);
  assert.equal(state.step, 1);
  await step.release();
});

test('a finite loss with a non-finite gradient stops training too, keeping the parameters', async () => {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', [2]);
  const w = b.param('w', [2], { kind: 'zeros' });
  // d sqrt(|w|^2) / dw is 0/0 at w = 0: the loss is 5, its gradient NaN.
  const loss = add(sqrt(sum(mul(w, w))), sum(mul(x, x)));
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: [w],
    batch: [x],
    optimizer: { kind: 'sgd' },
  });
  const state = step.initState(b.initialValues(0));
  for (const run of [
    () => step.run(state, { x: f32([2], [1, 2]) }, 0.1),
    () => step.runMany(state, [{ x: f32([2], [1, 2]) }, { x: f32([2], [1, 2]) }], [0.1, 0.1]),
  ])
    await assert.rejects(
      run(),
      (e: unknown) =>
        e instanceof NonFiniteLossError &&
        e.step === 1 &&
        /non-finite gradient at step 1: loss=5, grad_norm=NaN/.test(e.message),
    );
  assert.deepEqual(state.params.get('w'), new Float32Array([0, 0]));
  assert.equal(state.step, 0);
  await step.release();
});

test('feeds are checked: unknown names, missing inputs, wrong dtypes and shapes', async () => {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', ['batch', 3]);
  const w = b.param('w', [3, 2], { kind: 'ones' });
  const loss = sum(linear(x, w));
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: [w],
    batch: [x],
    optimizer: { kind: 'sgd' },
  });
  const state = step.initState(b.initialValues(0));
  await assert.rejects(
    step.run(state, { x: f32([2, 3], [1, 2, 3, 4, 5, 6]), y: f32([1], [0]) }, 0.1),
    (e: unknown) => e instanceof FeedError && /unknown input "y"/.test(e.message),
  );
  await assert.rejects(step.run(state, {}, 0.1), /missing input "x"/);
  await assert.rejects(
    step.run(state, { x: i64([2, 3], [1, 2, 3, 4, 5, 6]) }, 0.1),
    /input "x": expected float32, got int64/,
  );
  await assert.rejects(
    step.run(state, { x: f32([2, 4], new Array(8).fill(0)) }, 0.1),
    /expected shape \[batch, 3\], got \[2, 4\]/,
  );
  await assert.rejects(
    step.run(state, { x: f32([2, 3], [1, 2, 3, 4, 5, 6]), w: f32([3, 2], new Array(6).fill(0)) }, 0.1),
    (e: unknown) => e instanceof FeedError && /batch input "w" is a trained parameter/.test(e.message),
  );
  assert.throws(() => step.initState(new Map()), /no initial value for trainable parameter "w"/);
  assert.throws(
    () => step.initState(new Map([['w', new Float32Array(5)]])),
    /"w": 5 values for shape \[3, 2\]/,
  );
  await step.release();
});

test('several steps in one ONNX Loop call match the same steps run one by one', async () => {
  const build = async () => {
    const b = new ModelBuilder({ training: false });
    const x = input(b.graph, 'x', 'float32', ['batch', 2]);
    const y = input(b.graph, 'y', 'int64', ['batch']);
    const h = tanh(dense(b, 'fc1', x, 2, 8, { kind: 'normal', std: 1 }));
    const loss = crossEntropy(dense(b, 'fc2', h, 8, 2, { kind: 'normal', std: 0.5 }), y);
    const step = await TrainStep.create({
      graph: b.graph,
      loss,
      terms: { double: mul(loss, 2) },
      trainable: [...b.params.values()].map((p) => p.tensor),
      batch: [x, y],
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      clipNorm: 1,
    });
    return { step, state: step.initState(b.initialValues(11)) };
  };
  const rng = new Rng(5);
  const batches = Array.from({ length: 5 }, () => ({
    x: f32(
      [4, 2],
      Array.from({ length: 8 }, () => rng.next() * 2 - 1),
    ),
    y: i64(
      [4],
      Array.from({ length: 4 }, () => rng.int(2)),
    ),
  }));
  const lrs = [0.01, 0.02, 0.03, 0.02, 0.01];
  const one = await build();
  const single: StepResult[] = [];
  for (let i = 0; i < 5; i++) single.push(await one.step.run(one.state, batches[i]!, lrs[i]!));
  const many = await build();
  const fused = await many.step.runMany(many.state, batches, lrs);
  assert.equal(many.state.step, 5);
  fused.forEach((r, i) => {
    assert.equal(r.step, i + 1);
    assert.ok(Math.abs(r.loss - single[i]!.loss) < 1e-6, `step ${i + 1}: ${r.loss} vs ${single[i]!.loss}`);
    assert.ok(Math.abs(r.terms['double']! - 2 * r.loss) < 1e-6);
  });
  for (const [k, v] of one.state.params) {
    const w = many.state.params.get(k)!;
    v.forEach((a, j) => assert.ok(Math.abs(a - w[j]!) < 1e-6, `${k}[${j}]: ${a} vs ${w[j]}`));
  }
  // A non-finite step inside a fused call is found exactly, with the parameters of the step before it.
  const bad = batches.map((bt, i) =>
    i === 3 ? { ...bt, x: f32([4, 2], [Number.NaN, 0, 0, 0, 0, 0, 0, 0]) } : bt,
  );
  const third = await build();
  const before = await build();
  await before.step.runMany(before.state, batches.slice(0, 3), lrs.slice(0, 3));
  await assert.rejects(
    third.step.runMany(third.state, bad, lrs),
    (e: unknown) => e instanceof NonFiniteLossError && e.step === 4,
  );
  assert.equal(third.state.step, 3);
  for (const [k, v] of before.state.params) assert.deepEqual(third.state.params.get(k), v);
  await assert.rejects(
    many.step.runMany(
      many.state,
      [batches[0]!, { x: f32([2, 2], [0, 0, 0, 0]), y: i64([2], [0, 1]) }],
      [0.1, 0.1],
    ),
    /batch 1: input "x" must match batch 0/,
  );
  await Promise.all([one.step.release(), many.step.release(), third.step.release(), before.step.release()]);
});

test('the multi-step Loop takes the frozen map the single step takes, in any order; a failed compile is not kept', async () => {
  const { createHash } = await import('node:crypto');
  const { layerNorm } = await import('../../src/graph/index.js');
  const loopModel = async (frozen: Map<string, Float32Array>) => {
    const b = new ModelBuilder({ training: false });
    const x = input(b.graph, 'x', 'float32', ['batch', 3]);
    const w = b.param('w', [3, 2], { kind: 'ones' });
    const v = b.param('v', [2], { kind: 'ones' });
    const u = b.param('u', [2], { kind: 'ones' });
    const step = await TrainStep.create({
      graph: b.graph,
      loss: sum(add(add(linear(x, w), v), u)),
      trainable: [w],
      frozen,
      batch: [x],
      optimizer: { kind: 'sgd' },
    });
    const state = step.initState(b.initialValues(0));
    const batch = { x: f32([2, 3], [1, 2, 3, 4, 5, 6]) };
    // An unused frozen entry is ignored by both, as compile() ignores it.
    const [r] = await step.runMany(state, [batch], [0.1]);
    assert.equal(r!.loss, (await step.run(step.initState(b.initialValues(0)), batch, 0.1)).loss);
    const bytes = (await (step as unknown as { loop(): Promise<{ model: Uint8Array }> }).loop()).model;
    await step.release();
    return createHash('sha256').update(bytes).digest('hex');
  };
  const entries: [string, Float32Array][] = [
    ['v', Float32Array.of(1, 2)],
    ['u', Float32Array.of(3, 4)],
    ['unused.weight', new Float32Array(4)],
  ];
  assert.equal(await loopModel(new Map(entries)), await loopModel(new Map([...entries].reverse())));

  // float64 LayerNorm has no CPU kernel: each use reports it, and release() still resolves.
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float64', ['batch', 4]);
  const w = input(b.graph, 'w', 'float64', [4]);
  const p = b.param('p', [4], { kind: 'ones' });
  const { cast } = await import('../../src/graph/index.js');
  const step = await TrainStep.create({
    graph: b.graph,
    loss: cast(sum(layerNorm(mul(x, cast(p, 'float64')), w, w, 1e-5)), 'float32'),
    trainable: [p],
    batch: [x, w],
    optimizer: { kind: 'sgd' },
  });
  const state = step.initState(b.initialValues(0));
  const feeds = {
    x: { dtype: 'float64' as const, dims: [1, 4], data: Float64Array.of(1, 2, 3, 4) },
    w: { dtype: 'float64' as const, dims: [4], data: Float64Array.of(1, 1, 1, 1) },
  };
  for (let i = 0; i < 2; i++) {
    await assert.rejects(step.runMany(state, [feeds], [0.1]), /LayerNorm .* has no ONNX Runtime kernel/);
    await assert.rejects(step.run(state, feeds, 0.1), /LayerNorm .* has no ONNX Runtime kernel/);
  }
  await step.release();
});

// The engine features later methods rely on: several losses' per-layer gradients in one step,
// block-by-block execution with an exit, recompiling a physically pruned model, gradient x weight.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import {
  abs,
  add,
  crossEntropy,
  grad,
  input,
  linear,
  mul,
  relu,
  tanh,
  type Tensor,
} from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { dense } from '../../src/nn/layers.js';
import { compile } from '../../src/runtime/compiled.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { f32, i64 } from '../helpers/host.js';

function twoLayerNet(b: ModelBuilder, x: Tensor, hidden: number): { h1: Tensor; logits: Tensor } {
  const h1 = tanh(dense(b, 'l0', x, 3, hidden, { kind: 'normal', std: 0.5 }));
  return { h1, logits: dense(b, 'l1', h1, hidden, 2, { kind: 'normal', std: 0.5 }) };
}

test('per-layer gradients of two losses come out of one step, and a custom combination trains', async () => {
  const b = new ModelBuilder({ training: false });
  const xc = input(b.graph, 'x_clean', 'float32', ['n', 3]);
  const yc = input(b.graph, 'y_clean', 'int64', ['n']);
  const xp = input(b.graph, 'x_poison', 'float32', ['m', 3]);
  const yp = input(b.graph, 'y_poison', 'int64', ['m']);
  const clean = crossEntropy(twoLayerNet(b, xc, 4).logits, yc);
  const params = [...b.params.values()].map((p) => p.tensor);
  // The poisoned batch goes through the same parameters, looked up by name.
  const w0 = b.graph.byName('l0.weight')!;
  const bias0 = b.graph.byName('l0.bias')!;
  const w1 = b.graph.byName('l1.weight')!;
  const bias1 = b.graph.byName('l1.bias')!;
  const poison = crossEntropy(linear(tanh(linear(xp, w0, bias0)), w1, bias1), yp);
  const gc = grad(clean, params);
  const gp = grad(poison, params);
  const sumLoss = grad(add(clean, poison), params);
  const combined = gc.map((g, i) => add(g, mul(gp[i]!, 2)));
  const extra: Record<string, Tensor> = {};
  params.forEach((_, i) => {
    extra[`gc:${i}`] = gc[i]!;
    extra[`gp:${i}`] = gp[i]!;
    extra[`gsum:${i}`] = sumLoss[i]!;
  });
  const step = await TrainStep.create({
    graph: b.graph,
    loss: add(clean, poison),
    terms: { clean, poison },
    trainable: params,
    grads: combined,
    batch: [xc, yc, xp, yp],
    optimizer: { kind: 'sgd' },
    extraOutputs: extra,
  });
  const state = step.initState(b.initialValues(5));
  const batch = {
    x_clean: f32([2, 3], [1, 0, -1, 0.5, 0.2, 0.1]),
    y_clean: i64([2], [0, 1]),
    x_poison: f32([1, 3], [0.3, -0.7, 0.9]),
    y_poison: i64([1], [1]),
  };
  const before = new Map([...state.params].map(([k, v]) => [k, v.slice()]));
  const r = await step.run(state, batch, 0.1);
  // The two losses' gradients are separate outputs and add up to the gradient of their sum.
  params.forEach((_, i) => {
    const c = r.extras[`gc:${i}`]!.data as Float32Array;
    const p = r.extras[`gp:${i}`]!.data as Float32Array;
    const s = r.extras[`gsum:${i}`]!.data as Float32Array;
    s.forEach((v, j) => assert.ok(Math.abs(v - (c[j]! + p[j]!)) < 1e-6));
  });
  // SGD applied the custom combination g_c + 2 g_p, not the plain gradient.
  const name = step.paramNames[0]!;
  const c0 = r.extras['gc:0']!.data as Float32Array;
  const p0 = r.extras['gp:0']!.data as Float32Array;
  state.params
    .get(name)!
    .forEach((v, j) => assert.ok(Math.abs(v - (before.get(name)![j]! - 0.1 * (c0[j]! + 2 * p0[j]!))) < 1e-6));
  await step.release();
});

test('a model runs block by block and can stop at an exit; functions save as loadable .onnx files', async () => {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', ['n', 3]);
  const { h1, logits } = twoLayerNet(b, x, 4);
  const values = b.initialValues(1);
  const whole = await compile({ inputs: [x], outputs: { logits }, frozen: values });
  // Block 2 alone: its input is a new leaf standing for block 1's output.
  const b2 = new ModelBuilder({ training: false });
  const hIn = input(b2.graph, 'h', 'float32', ['n', 4]);
  const logits2 = dense(b2, 'l1', hIn, 4, 2, { kind: 'zeros' });
  const block1 = await compile({ inputs: [x], outputs: { h: h1 }, frozen: values });
  const block2 = await compile({ inputs: [hIn], outputs: { logits: logits2 }, frozen: values });
  const feed = { x: f32([2, 3], [1, 2, 3, -1, 0, 1]) };
  const direct = (await whole.run(feed))['logits']!.data;
  const h = (await block1.run(feed))['h']!;
  const staged = (await block2.run({ h }))['logits']!.data;
  assert.deepEqual(staged, direct);

  const dir = await mkdtemp(join(tmpdir(), 'plmkit-'));
  await whole.save(join(dir, 'whole.onnx'));
  const session = await ort.InferenceSession.create(await readFile(join(dir, 'whole.onnx')));
  const out = await session.run({ x: new ort.Tensor('float32', feed.x.data as Float32Array, [2, 3]) });
  assert.deepEqual(out['logits']!.data, direct);
  await Promise.all([whole.release(), block1.release(), block2.release(), session.release()]);
});

test('a physically pruned model is rebuilt with its new sizes and recompiled', async () => {
  const build = (hidden: number) => {
    const b = new ModelBuilder({ training: false });
    const x = input(b.graph, 'x', 'float32', ['n', 3]);
    const h = relu(dense(b, 'up', x, 3, hidden, { kind: 'normal', std: 1 }));
    return { b, x, y: dense(b, 'down', h, hidden, 2, { kind: 'normal', std: 1 }) };
  };
  const full = build(6);
  const values = full.b.initialValues(2);
  const keep = [0, 2, 5];
  // Zeroing units 1, 3, 4 of the full model must equal removing them.
  const zeroed = new Map(values);
  const down = values.get('down.weight')!.slice();
  for (const j of [1, 3, 4]) down.fill(0, j * 2, j * 2 + 2);
  zeroed.set('down.weight', down);
  const pruned = build(keep.length);
  const sliced = new Map<string, Float32Array>([
    [
      'up.weight',
      Float32Array.from(
        { length: 9 },
        (_, k) => values.get('up.weight')![Math.floor(k / 3) * 6 + keep[k % 3]!]!,
      ),
    ],
    ['up.bias', Float32Array.from(keep, (j) => values.get('up.bias')![j]!)],
    [
      'down.weight',
      Float32Array.from(
        { length: 6 },
        (_, k) => values.get('down.weight')![keep[Math.floor(k / 2)]! * 2 + (k % 2)]!,
      ),
    ],
    ['down.bias', values.get('down.bias')!],
  ]);
  const fFull = await compile({ inputs: [full.x], outputs: { y: full.y }, frozen: zeroed });
  const fPruned = await compile({ inputs: [pruned.x], outputs: { y: pruned.y }, frozen: sliced });
  const feed = { x: f32([2, 3], [0.5, -1, 2, 1, 1, -0.5]) };
  const a = (await fFull.run(feed))['y']!.data as Float32Array;
  const p = (await fPruned.run(feed))['y']!.data as Float32Array;
  a.forEach((v, i) => assert.ok(Math.abs(v - p[i]!) < 1e-5, `${v} vs ${p[i]}`));
  await Promise.all([fFull.release(), fPruned.release()]);
});

test('gradient x weight (first-order Taylor importance) accumulates over batches in the graph', async () => {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', ['n', 3]);
  const y = input(b.graph, 'y', 'int64', ['n']);
  const { logits } = twoLayerNet(b, x, 4);
  const w = b.graph.byName('l0.weight')!;
  const [gw] = grad(crossEntropy(logits, y), [w]);
  // The running sum is an input and an output: each call adds one batch's |g * w| to what it is fed.
  const acc = input(b.graph, 'importance_in', 'float32', [3, 4]);
  const importance = add(acc, abs(mul(gw!, w)));
  const values = b.initialValues(3);
  const frozen = new Map([...values].filter(([k]) => k !== 'l0.weight'));
  const f = await compile({ inputs: [x, y, w, acc], outputs: { importance, gw: gw! }, frozen });
  const wv = values.get('l0.weight')!;
  const batches = [
    { x: f32([2, 3], [1, 2, 3, 0, 1, 0]), y: i64([2], [1, 0]) },
    { x: f32([3, 3], [-1, 0.5, 2, 1, 1, 1, 0, -2, 0.5]), y: i64([3], [0, 0, 1]) },
  ];
  // Expected: the sum over batches of |g_b * w|, with each batch's gradient taken on its own.
  const expected = new Float64Array(12);
  const firstBatch: number[] = [];
  let running = f32([3, 4], new Float32Array(12));
  for (const batch of batches) {
    const out = await f.run({ ...batch, 'l0.weight': f32([3, 4], wv), importance_in: running });
    const g = out['gw']!.data as Float32Array;
    g.forEach((gi, i) => (expected[i] += Math.abs(gi * wv[i]!)));
    if (firstBatch.length === 0) firstBatch.push(...expected);
    running = f32([3, 4], out['importance']!.data as Float32Array);
  }
  const got = running.data as Float32Array;
  expected.forEach((e, i) => assert.ok(Math.abs(got[i]! - e) < 1e-6 * (1 + e), `${got[i]} vs ${e}`));
  // The second batch added something: the sum is not the first batch's importance alone.
  assert.ok(firstBatch.some((e, i) => Math.abs(got[i]! - e) > 1e-3));
  await f.release();
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, crossEntropy, input, mean, tanh } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { dense, embedding } from '../../src/nn/layers.js';
import type { OptimizerConfig } from '../../src/runtime/optimizer.js';
import { Rng } from '../../src/runtime/random.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { i64 } from '../helpers/host.js';

const VOCAB = 40;

/** Embedding + mean pooling + head, trained a few steps; the batch repeats tokens and leaves most rows out. */
async function train(opts: {
  dense: boolean;
  optimizer: OptimizerConfig;
  clipNorm?: number;
  idDtype?: 'int64' | 'int32';
}): Promise<{ state: Map<string, Float32Array>; gradNorms: number[]; model: Uint8Array }> {
  const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
  const ids = input(b.graph, 'ids', 'int64', ['batch', 'seq']);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const x = embedding(b, 'emb', opts.idDtype === 'int32' ? cast(ids, 'int32') : ids, VOCAB, 8, {
    kind: 'normal',
    std: 0.5,
  });
  const logits = dense(b, 'head', tanh(mean(x, [1])), 8, 2, { kind: 'normal', std: 0.3 });
  const step = await TrainStep.create({
    graph: b.graph,
    loss: crossEntropy(logits, labels),
    trainable: [...b.params.values()].map((p) => p.tensor),
    batch: [ids, labels],
    optimizer: opts.optimizer,
    ...(opts.clipNorm ? { clipNorm: opts.clipNorm } : {}),
    denseGradients: opts.dense,
  });
  const state = step.initState(b.initialValues(0));
  const rng = new Rng(5);
  const gradNorms: number[] = [];
  for (let s = 0; s < 6; s++) {
    // Tokens from a third of the vocabulary, with repeats within and across rows.
    const idv = Array.from({ length: 4 * 5 }, () => 3 + rng.int(13));
    const lv = Array.from({ length: 4 }, () => rng.int(2));
    gradNorms.push((await step.run(state, { ids: i64([4, 5], idv), labels: i64([4], lv) }, 0.05)).gradNorm);
  }
  const model = await step.model();
  await step.release();
  return { state: new Map([...state.params, ...state.slots]), gradNorms, model };
}

/** Largest |a - b| over every parameter and optimizer slot. */
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let d = 0;
  for (const [k, x] of a) {
    const y = b.get(k)!;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

const hasOp = (model: Uint8Array, op: string) => Buffer.from(model).includes(Buffer.from(op));

test("AdamW from an embedding gradient's rows gives exactly the dense update", async () => {
  const optimizer: OptimizerConfig = { kind: 'adamw', weightDecay: 0.01 };
  const rows = await train({ dense: false, optimizer });
  const full = await train({ dense: true, optimizer });
  // The row path is taken (Unique in the graph), the dense one has none.
  assert.ok(hasOp(rows.model, 'Unique') && !hasOp(full.model, 'Unique'));
  // Same values (=== also equates the signed zeros that untouched rows may differ in).
  assert.equal(maxDiff(rows.state, full.state), 0);
  // The moments moved off zero only at the looked-up rows; the others decayed from what they held.
  const v = rows.state.get('emb.weight:exp_avg_sq')!;
  assert.ok(v.slice(3 * 8, 16 * 8).every((x) => x > 0));
  assert.ok(v.slice(16 * 8).every((x) => x === 0));
  // The gradient norm sums the same squares in another order.
  rows.gradNorms.forEach((n, i) => assert.ok(Math.abs(n - full.gradNorms[i]!) <= 1e-6 * n, `${n}`));
});

test('row gradients with clipping, int32 indices and SGD stay within rounding of the dense update', async () => {
  for (const [optimizer, idDtype] of [
    [{ kind: 'adamw', weightDecay: 0.01 }, 'int32'],
    [{ kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }, 'int64'],
  ] as const) {
    const a = await train({ dense: false, optimizer, clipNorm: 0.05, idDtype });
    const b = await train({ dense: true, optimizer, clipNorm: 0.05, idDtype });
    assert.ok(
      a.gradNorms.every((n) => n > 0.05),
      'clipping is active',
    );
    const d = maxDiff(a.state, b.state);
    assert.ok(d < 1e-6, `${optimizer.kind}: max difference ${d}`);
  }
});

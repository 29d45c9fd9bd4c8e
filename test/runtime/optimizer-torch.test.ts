// The in-graph optimizers against trajectories recorded from PyTorch itself
// (scripts/make_optimizer_fixtures.py): AdamW with Hugging Face's no-decay groups, SGD with momentum, and
// clip_grad_norm_, over six steps of a loss with an embedding lookup (repeated rows) and a nonlinear term.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { add, gather, input, mul, sum } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import type { OptimizerConfig } from '../../src/runtime/optimizer.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { f32, i64 } from '../helpers/host.js';

interface Batch {
  w: number[];
  bias: number[];
  ln: number[];
  ids: number[];
  emb: number[];
}
interface Case {
  optimizer: 'adamw' | 'sgd';
  options: { weight_decay?: number; eps?: number; momentum?: number };
  clip_norm: number | null;
  losses: number[];
  grad_norms: number[];
  params: Record<string, number[]>;
}
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'optimizer', 'torch-trajectories.json'), 'utf8'),
) as { lrs: number[]; init: Record<string, number[]>; batches: Batch[]; cases: Record<string, Case> };

async function trainStep(c: Case) {
  const b = new ModelBuilder({ training: false });
  const g = b.graph;
  const xw = input(g, 'xw', 'float32', [4, 3]);
  const xb = input(g, 'xb', 'float32', [3]);
  const xl = input(g, 'xl', 'float32', [3]);
  const ids = input(g, 'ids', 'int64', [5]);
  const xe = input(g, 'xe', 'float32', [5, 3]);
  const w = b.param('dense.weight', [4, 3], { kind: 'zeros' });
  const bias = b.param('dense.bias', [3], { kind: 'zeros' });
  const ln = b.param('encoder.LayerNorm.weight', [3], { kind: 'zeros' });
  const emb = b.param('embeddings.weight', [6, 3], { kind: 'zeros' });
  const loss = [
    sum(mul(bias, xb)),
    sum(mul(ln, xl)),
    sum(mul(gather(emb, ids), xe)),
    mul(sum(mul(w, w)), 0.5),
  ].reduce((a, t) => add(a, t), sum(mul(w, xw)));
  const o = c.options;
  const optimizer: OptimizerConfig =
    c.optimizer === 'adamw'
      ? { kind: 'adamw', weightDecay: o.weight_decay ?? 0, ...(o.eps !== undefined ? { eps: o.eps } : {}) }
      : { kind: 'sgd', momentum: o.momentum ?? 0, weightDecay: o.weight_decay ?? 0 };
  return TrainStep.create({
    graph: g,
    loss,
    trainable: [w, bias, ln, emb],
    batch: [xw, xb, xl, ids, xe],
    optimizer,
    ...(c.clip_norm !== null ? { clipNorm: c.clip_norm } : {}),
  });
}

const feeds = (x: Batch) => ({
  xw: f32([4, 3], x.w),
  xb: f32([3], x.bias),
  xl: f32([3], x.ln),
  ids: i64([5], x.ids),
  xe: f32([5, 3], x.emb),
});

/** Largest |a - b| / max(|b|, floor) over paired values. */
function worst(a: ArrayLike<number>, b: readonly number[], floor: number): number {
  let m = 0;
  b.forEach((v, i) => (m = Math.max(m, Math.abs(a[i]! - v) / Math.max(Math.abs(v), floor))));
  return m;
}

for (const [name, c] of Object.entries(fixture.cases))
  test(`${name}: six steps match PyTorch (parameters, losses, pre-clip gradient norms)`, async () => {
    const step = await trainStep(c);
    const state = step.initState(
      new Map(Object.entries(fixture.init).map(([k, v]) => [k, Float32Array.from(v)])),
    );
    const results = [];
    for (const [t, batch] of fixture.batches.entries())
      results.push(await step.run(state, feeds(batch), fixture.lrs[t]!));
    await step.release();
    // float32 on both sides: a few units in the last place, accumulated over six steps.
    const close = (got: ArrayLike<number>, want: readonly number[]) => worst(got, want, 1e-3) < 2e-6;
    assert.ok(
      close(
        results.map((r) => r.loss),
        c.losses,
      ),
      'losses',
    );
    assert.ok(
      close(
        results.map((r) => r.gradNorm),
        c.grad_norms,
      ),
      'gradient norms',
    );
    for (const [k, v] of Object.entries(c.params)) {
      const got = state.params.get(k)!;
      const err = worst(got, v, 1e-3);
      assert.ok(err < 2e-6, `${k}: ${err.toExponential(2)} relative`);
    }
  });

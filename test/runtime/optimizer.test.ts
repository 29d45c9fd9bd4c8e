// The in-graph optimizers against a direct transcription of PyTorch's AdamW and SGD update rules.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { input, mul, sum } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import type { OptimizerConfig } from '../../src/runtime/optimizer.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { f32 } from '../helpers/host.js';

/** loss = sum(w * x): the gradient with respect to w is x, so the update rule is all that is tested. */
async function run(cfg: OptimizerConfig, xs: number[][], lrs: number[], clipNorm?: number) {
  const b = new ModelBuilder({ training: false });
  const x = input(b.graph, 'x', 'float32', [3]);
  const w = b.param('w', [3], { kind: 'ones' });
  const step = await TrainStep.create({
    graph: b.graph,
    loss: sum(mul(w, x)),
    trainable: [w],
    batch: [x],
    optimizer: cfg,
    ...(clipNorm ? { clipNorm } : {}),
  });
  const state = step.initState(new Map([['w', Float32Array.from([0.5, -1, 2])]]));
  for (let i = 0; i < xs.length; i++) await step.run(state, { x: f32([3], xs[i]!) }, lrs[i]!);
  await step.release();
  return Array.from(state.params.get('w')!);
}

function reference(
  cfg: { b1: number; b2: number; eps: number; wd: number },
  xs: number[][],
  lrs: number[],
  clip?: number,
) {
  const p = [0.5, -1, 2];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  xs.forEach((g0, t) => {
    const norm = Math.sqrt(g0.reduce((a, g) => a + g * g, 0));
    const scale = clip ? Math.min(1, clip / (norm + 1e-6)) : 1;
    const lr = lrs[t]!;
    for (let i = 0; i < 3; i++) {
      const g = g0[i]! * scale;
      p[i]! *= 1 - lr * cfg.wd;
      m[i] = cfg.b1 * m[i]! + (1 - cfg.b1) * g;
      v[i] = cfg.b2 * v[i]! + (1 - cfg.b2) * g * g;
      const mh = m[i]! / (1 - cfg.b1 ** (t + 1));
      const vh = v[i]! / (1 - cfg.b2 ** (t + 1));
      p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + cfg.eps);
    }
  });
  return p;
}

const xs = [
  [0.3, -2, 5],
  [1, 0.5, -0.25],
  [-4, 2, 0.1],
  [0.2, 0.2, 0.2],
];
const lrs = [0.1, 0.05, 0.02, 0.01];

test('AdamW matches PyTorch AdamW (decoupled weight decay, bias correction)', async () => {
  const got = await run({ kind: 'adamw', weightDecay: 0.1, noDecay: () => false }, xs, lrs);
  const want = reference({ b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 }, xs, lrs);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5, `w[${i}]: ${g} vs ${want[i]}`));
});

test('global-norm clipping scales the gradient before AdamW sees it', async () => {
  const got = await run({ kind: 'adamw', weightDecay: 0, beta2: 0.99 }, xs, lrs, 1);
  // clip_grad_norm_ uses max_norm / (norm + 1e-6); the graph uses max_norm / max(norm, max_norm): equal to 1e-6.
  const want = reference({ b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0 }, xs, lrs, 1);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-5, `w[${i}]: ${g} vs ${want[i]}`));
});

test('SGD with momentum and weight decay matches PyTorch SGD', async () => {
  const got = await run({ kind: 'sgd', momentum: 0.9, weightDecay: 0.01 }, xs, lrs);
  const p = [0.5, -1, 2];
  const buf = [0, 0, 0];
  xs.forEach((g0, t) => {
    for (let i = 0; i < 3; i++) {
      const g = g0[i]! + 0.01 * p[i]!;
      buf[i] = t === 0 ? g : 0.9 * buf[i]! + g;
      p[i] = p[i]! - lrs[t]! * buf[i]!;
    }
  });
  got.forEach((g, i) => assert.ok(Math.abs(g - p[i]!) < 1e-6, `w[${i}]: ${g} vs ${p[i]}`));
});

// PLMKIT_PROFILE=DIR makes each ONNX Runtime session write its trace when released, and
// `plmkit bench profile` sums that trace by op and by output size, with the matrix products' FLOPs.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { matrixProductFlops, summarizeProfile } from '../../bench/profile.js';
import { crossEntropy, Graph, input, matmul, sum, tanh, transpose } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { dense } from '../../src/nn/layers.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32, i64 } from '../helpers/host.js';

/**
 * Runs `body` with PLMKIT_PROFILE set to a directory that does not exist yet (the engine makes it); returns
 * the trace files written there.
 */
async function profiled(body: () => Promise<void>): Promise<{ dir: string; files: string[] }> {
  const dir = join(await mkdtemp(join(tmpdir(), 'plmkit-profile-')), 'traces');
  const before = process.env['PLMKIT_PROFILE'];
  process.env['PLMKIT_PROFILE'] = dir;
  try {
    await body();
  } finally {
    if (before === undefined) delete process.env['PLMKIT_PROFILE'];
    else process.env['PLMKIT_PROFILE'] = before;
  }
  return { dir, files: (await readdir(dir)).filter((f) => f.endsWith('.json')).map((f) => join(dir, f)) };
}

type Summary = {
  runs: number;
  ms_per_run: number;
  kernel_ms_per_run: number;
  matrix_products: { gflop_per_run: number; calls_per_run: number; calls_without_shapes: number };
  by_op: Record<string, { calls_per_run: number; share_of_kernel_time: number }>;
};

test('a profiled session writes its trace on release, summed by op with one entry per run', async () => {
  const { dir, files } = await profiled(async () => {
    const g = new Graph();
    const a = input(g, 'a', 'float32', [64, 64]);
    const fn = await compile({ inputs: [a], outputs: { s: sum(tanh(matmul(a, a))) } });
    const feeds = {
      a: f32(
        [64, 64],
        Array.from({ length: 64 * 64 }, (_, i) => Math.sin(i)),
      ),
    };
    for (let i = 0; i < 3; i++) await fn.run(feeds);
    await fn.release();
  });
  try {
    assert.equal(files.length, 1, files.join(', '));
    const p = (await summarizeProfile(files[0]!)) as Summary;
    assert.equal(p.runs, 3);
    assert.equal(p.by_op['MatMul']?.calls_per_run, 1);
    assert.equal(p.by_op['Tanh']?.calls_per_run, 1);
    const shares = Object.values(p.by_op).reduce((s, o) => s + o.share_of_kernel_time, 0);
    assert.ok(Math.abs(shares - 1) < 1e-3, `shares sum to ${shares}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file that is not an ONNX Runtime trace is refused by name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-profile-'));
  try {
    const file = join(dir, 'x.json');
    await writeFile(file, '{"not": "a trace"}');
    await assert.rejects(summarizeProfile(file), /x\.json: not an ONNX Runtime profile/);
    await writeFile(file, '[]');
    await assert.rejects(summarizeProfile(file), /x\.json: no model_run or kernel events/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('matrix products are counted from the shapes in the trace, transposed operands included', async () => {
  // a^T a with a 32 x 48: ONNX Runtime fuses the transpose into FusedMatMul, whose trace shows a as it is.
  const { dir, files } = await profiled(async () => {
    const g = new Graph();
    const a = input(g, 'a', 'float32', [32, 48]);
    const fn = await compile({ inputs: [a], outputs: { s: sum(matmul(transpose(a, [1, 0]), a)) } });
    for (let i = 0; i < 2; i++)
      await fn.run({
        a: f32(
          [32, 48],
          Array.from({ length: 32 * 48 }, (_, i) => Math.sin(i)),
        ),
      });
    await fn.release();
  });
  try {
    assert.equal(files.length, 1);
    const p = (await summarizeProfile(files[0]!)) as Summary;
    assert.equal(p.matrix_products.calls_per_run, 1, JSON.stringify(p.by_op));
    assert.equal(p.matrix_products.calls_without_shapes, 0);
    assert.equal(p.matrix_products.gflop_per_run, +((2 * 48 * 48 * 32) / 1e9).toFixed(4));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const event = (a: number[], b: number[], out: number[]) => ({
    args: { input_type_shape: [{ float: a }, { float: b }], output_type_shape: [{ float: out }] },
  });
  assert.equal(matrixProductFlops(event([4, 5, 3], [3, 7], [4, 5, 7])), 2 * 4 * 5 * 7 * 3);
  assert.equal(matrixProductFlops(event([3, 5], [7, 3], [5, 7])), 2 * 5 * 7 * 3); // both transposed
  assert.equal(matrixProductFlops(event([5], [5, 7], [7])), undefined); // a vector operand
  assert.equal(matrixProductFlops(event([4, 5], [6, 7], [4, 7])), undefined); // inconsistent shapes
});

test("a Loop's kernel time is not counted on top of its body's kernels", async () => {
  const { dir, files } = await profiled(async () => {
    const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
    const x = input(b.graph, 'x', 'float32', ['batch', 8]);
    const y = input(b.graph, 'y', 'int64', ['batch']);
    const loss = crossEntropy(dense(b, 'fc', x, 8, 2, { kind: 'normal', std: 0.5 }), y);
    const step = await TrainStep.create({
      graph: b.graph,
      loss,
      trainable: [...b.params.values()].map((p) => p.tensor),
      batch: [x, y],
      optimizer: { kind: 'adamw' },
    });
    const state = step.initState(b.initialValues(0));
    const batch = {
      x: f32(
        [4, 8],
        Array.from({ length: 32 }, (_, i) => Math.cos(i)),
      ),
      y: i64([4], [0, 1, 1, 0]),
    };
    await step.runMany(state, [batch, batch, batch], [0.1, 0.1, 0.1]);
    await step.release();
  });
  try {
    // Each session's trace is named by its graph: the Loop's is train_steps.
    const loops = files.filter((f) => /[/\\]ort-train_steps_[^/\\]*\.json$/.test(f));
    assert.equal(loops.length, 1, files.join(', '));
    const p = (await summarizeProfile(loops[0]!)) as Summary;
    assert.equal(p.by_op['Loop'], undefined);
    // Three steps, each with the forward product and the weight's gradient product at least.
    assert.ok(p.matrix_products.calls_per_run >= 6, JSON.stringify(p.by_op));
    assert.ok(
      p.kernel_ms_per_run <= p.ms_per_run,
      `${p.kernel_ms_per_run} ms of kernels in ${p.ms_per_run} ms`,
    );
    const shares = Object.values(p.by_op).reduce((s, o) => s + o.share_of_kernel_time, 0);
    assert.ok(Math.abs(shares - 1) < 1e-3, `shares sum to ${shares}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

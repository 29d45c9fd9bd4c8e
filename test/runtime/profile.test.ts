// PLMKIT_PROFILE=DIR makes each ONNX Runtime session write its trace when released, and
// `plmkit bench profile` sums that trace by op and by output size.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summarizeProfile } from '../../bench/profile.js';
import { Graph, input, matmul, sum, tanh } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32 } from '../helpers/host.js';

test('a profiled session writes its trace on release, summed by op with one entry per run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-profile-'));
  const before = process.env['PLMKIT_PROFILE'];
  process.env['PLMKIT_PROFILE'] = dir;
  try {
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
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1, files.join(', '));
    const p = (await summarizeProfile(join(dir, files[0]!))) as {
      runs: number;
      by_op: Record<string, { calls_per_run: number; share_of_kernel_time: number }>;
    };
    assert.equal(p.runs, 3);
    assert.equal(p.by_op['MatMul']?.calls_per_run, 1);
    assert.equal(p.by_op['Tanh']?.calls_per_run, 1);
    const shares = Object.values(p.by_op).reduce((s, o) => s + o.share_of_kernel_time, 0);
    assert.ok(Math.abs(shares - 1) < 1e-3, `shares sum to ${shares}`);
  } finally {
    if (before === undefined) delete process.env['PLMKIT_PROFILE'];
    else process.env['PLMKIT_PROFILE'] = before;
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

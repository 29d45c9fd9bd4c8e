// ONNX emission: names the caller chose never collide with generated ones; float16 constants hold their
// values; frozen values are converted by value or refused by size.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as G from '../../src/graph/index.js';
import { f16BitsToF32 } from '../../src/io/safetensors-format.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32 } from '../helpers/host.js';

test('inputs and outputs named like generated values ("c1", "v2") are kept apart from them', async () => {
  const g = new G.Graph();
  const a = G.input(g, 'v2', 'float32', [3]);
  const k = G.input(g, 'c1', 'float32', []);
  const y = G.add(G.clip(a, -0.5, 0.5), k);
  const fn = await compile({ inputs: [a, k], outputs: { c0: y, v1: G.mul(y, 2) } });
  const out = await fn.run({ v2: f32([3], [-2, 0, 2]), c1: f32([], [10]) });
  assert.deepEqual([...(out.c0!.data as Float32Array)], [9.5, 10, 10.5]);
  assert.deepEqual([...(out.v1!.data as Float32Array)], [19, 20, 21]);
  await fn.release();
});

test('float16 scalars are converted to half bits; zeros of a float16 tensor emit', async () => {
  const g = new G.Graph();
  const x = G.input(g, 'x', 'float16', [2]);
  const fn = await compile({ inputs: [x], outputs: { y: G.mul(x, 2), z: G.zerosLike(x) } });
  // 1.0 and 2.0 as half bits.
  const out = await fn.run({ x: { dtype: 'float16', dims: [2], data: Uint16Array.from([0x3c00, 0x4000]) } });
  assert.deepEqual([...(out.y!.data as Uint16Array)].map(f16BitsToF32), [2, 4]);
  assert.deepEqual([...(out.z!.data as Uint16Array)].map(f16BitsToF32), [0, 0]);
  await fn.release();
});

test('frozen values: another float array type is converted by value, a wrong size is refused by name', async () => {
  const g = new G.Graph();
  const x = G.input(g, 'x', 'float32', [2]);
  const w = G.param(g, 'w', [2]);
  const y = G.mul(x, w);
  const fn = await compile({
    inputs: [x],
    outputs: { y },
    frozen: new Map([['w', Float64Array.from([3, 4])]]),
  });
  assert.deepEqual([...((await fn.run({ x: f32([2], [1, 1]) })).y!.data as Float32Array)], [3, 4]);
  await fn.release();
  await assert.rejects(
    compile({ inputs: [x], outputs: { y }, frozen: new Map([['w', new Float32Array(3)]]) }),
    /tensor "w" has 3 values, its shape \[2\] needs 2/,
  );
});

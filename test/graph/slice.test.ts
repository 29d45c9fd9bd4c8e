// Slices with steps: values and shapes against the ONNX Slice specification's clamping, on static and
// symbolic axes; and the errors for a zero step and for a stepped gradient along a symbolic axis. Their
// gradients are in the finite-difference table (gradients.test.ts).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, grad, input, sliceAxis, sum, type Tensor } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32 } from '../helpers/host.js';

/**
 * The indices x[start:end:step] takes from a length-d axis under the ONNX Slice specification: Python's
 * rule, except that with a negative step a start before the first element is clamped to it (Python takes
 * nothing there, ONNX the first element).
 */
function onnxIndices(d: number, start: number, end: number, step: number): number[] {
  const at = (v: number) => (v < 0 ? v + d : v);
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = step > 0 ? clamp(at(start), 0, d) : clamp(at(start), 0, d - 1);
  const e = step > 0 ? clamp(at(end), 0, d) : clamp(at(end), -1, d - 1);
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

const D = 7;
const STARTS = [-9, -3, -1, 0, 2, 6, 9];
const ENDS = [-Infinity, -9, -1, 0, 3, 7, 9, Infinity];
const STEPS = [1, 2, 3, -1, -2, -3];

test('slices with steps take the elements the ONNX specification names, with the shape inferred at build time', async () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', [D]);
  const outputs: Record<string, Tensor> = {};
  const expected: Record<string, number[]> = {};
  for (const step of STEPS)
    for (const start of STARTS)
      for (const end of ENDS) {
        if (step > 0 && end === -Infinity) continue; // -Infinity is the end of a reversed run only
        const key = `x[${start}:${end}:${step}]`;
        outputs[key] = sliceAxis(x, 0, start, end, step);
        expected[key] = onnxIndices(D, start, end === Infinity ? D : end === -Infinity ? -D - 1 : end, step);
        assert.deepEqual(outputs[key].shape, [expected[key].length], `${key}: inferred shape`);
      }
  const fn = await compile({ inputs: [x], outputs });
  const values = [10, 11, 12, 13, 14, 15, 16];
  const out = await fn.run({ x: f32([D], values) });
  for (const [key, idx] of Object.entries(expected)) {
    assert.deepEqual(out[key]!.dims, [idx.length], key);
    assert.deepEqual(
      Array.from(out[key]!.data as Float32Array),
      idx.map((i) => values[i]!),
      key,
    );
  }
});

test('a stepped slice of a symbolic axis runs and names its length; its gradient needs a static axis', async () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', ['n', 2]);
  const y = sliceAxis(x, 0, -1, -Infinity, -2);
  assert.equal(y.shape[0], 'n[-1::-2]');
  const fn = await compile({ inputs: [x], outputs: { y } });
  const out = await fn.run({ x: f32([5, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) });
  assert.deepEqual(out['y']!.dims, [3, 2]);
  assert.deepEqual(Array.from(out['y']!.data as Float32Array), [8, 9, 4, 5, 0, 1]);
  assert.throws(
    () => grad(sum(y), [x]),
    /Slice: the gradient of a slice with step -2 needs a static axis 0; it is n/,
  );
});

test('a zero or fractional step is refused when the graph is built', () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', [4]);
  assert.throws(() => sliceAxis(x, 0, 0, 4, 0), /Slice: step 0 along axis 0: steps are non-zero integers/);
  assert.throws(() => sliceAxis(x, 0, 0, 4, 1.5), /Slice: step 1.5 along axis 0/);
});

// Slices with steps: values and shapes against the ONNX Slice specification's clamping, on static and
// symbolic axes; a gradient along a symbolic axis; and the error for a zero step. Their gradients are
// checked against finite differences in gradients.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, grad, input, mul, sliceAxis, sum, type Tensor } from '../../src/graph/index.js';
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

test('a stepped slice of a symbolic axis runs, names its length, and has a gradient', async () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', ['n', 2]);
  const y = sliceAxis(x, 0, -1, -Infinity, -2);
  assert.equal(y.shape[0], 'n[-1::-2]');
  const empty = sliceAxis(x, 0, 1, 0, 3); // nothing: the start is past the end
  const [gx] = grad(sum(mul(y, y)), [x]);
  const [gEmpty] = grad(sum(empty), [x]);
  const fn = await compile({ inputs: [x], outputs: { y, gx: gx!, gEmpty: gEmpty! } });
  const out = await fn.run({ x: f32([5, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) });
  assert.deepEqual(out['y']!.dims, [3, 2]);
  assert.deepEqual(Array.from(out['y']!.data as Float32Array), [8, 9, 4, 5, 0, 1]);
  // d/dx of the sum of squares of rows 4, 2, 0: twice those rows, zero elsewhere.
  assert.deepEqual(Array.from(out['gx']!.data as Float32Array), [0, 2, 0, 0, 8, 10, 0, 0, 16, 18]);
  assert.deepEqual(Array.from(out['gEmpty']!.data as Float32Array), new Array(10).fill(0));
});

test('a zero or fractional step is refused when the graph is built', () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', [4]);
  assert.throws(() => sliceAxis(x, 0, 0, 4, 0), /Slice: step 0 along axis 0: steps are non-zero integers/);
  assert.throws(() => sliceAxis(x, 0, 0, 4, 1.5), /Slice: step 1.5 along axis 0/);
});

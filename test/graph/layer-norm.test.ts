// The fused LayerNorm primitive against its composition from primitives (which the float64 gradient
// table checks): same values, same gradients with respect to input, weight and bias.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, grad, input, layerNorm, layerNormComposed, mul, sum } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/compiled.js';
import { Rng } from '../../src/runtime/random.js';
import { f32 } from '../helpers/host.js';

test('LayerNorm primitive equals the composed layer norm in value and gradient', async () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', ['batch', 7, 16]);
  const w = input(g, 'w', 'float32', [16]);
  const b = input(g, 'b', 'float32', [16]);
  const r = input(g, 'r', 'float32', ['batch', 7, 16]);
  const outputs: Record<string, import('../../src/graph/index.js').Tensor> = {};
  for (const [name, f] of [
    ['fused', layerNorm],
    ['composed', layerNormComposed],
  ] as const) {
    const y = f(x, w, b, 1e-5);
    const [gx, gw, gb] = grad(sum(mul(y, r)), [x, w, b]);
    Object.assign(outputs, {
      [`${name}_y`]: y,
      [`${name}_gx`]: gx!,
      [`${name}_gw`]: gw!,
      [`${name}_gb`]: gb!,
    });
  }
  const fn = await compile({ inputs: [x, w, b, r], outputs });
  const rng = new Rng(3);
  const rand = (n: number, scale = 1) => Array.from({ length: n }, () => (rng.next() * 2 - 1) * scale);
  const out = await fn.run({
    x: f32([3, 7, 16], rand(336, 3)),
    w: f32([16], rand(16)),
    b: f32([16], rand(16)),
    r: f32([3, 7, 16], rand(336)),
  });
  for (const k of ['y', 'gx', 'gw', 'gb']) {
    const a = out[`fused_${k}`]!.data as Float32Array;
    const c = out[`composed_${k}`]!.data as Float32Array;
    a.forEach((v, i) =>
      assert.ok(Math.abs(v - c[i]!) < 1e-4 * (1 + Math.abs(c[i]!)), `${k}[${i}]: ${v} vs ${c[i]}`),
    );
  }
  await fn.release();
});

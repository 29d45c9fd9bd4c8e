// Gather's gradient adds rows at repeated indices (an embedding table's tokens, positions, token types):
// on several threads every update must land. ONNX Runtime's ScatterND "add" lost some (a 2% error on 2
// threads), so rows are added with ScatterElements.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gather, grad, Graph, input, mul, sum } from '../../src/graph/index.js';
import { compile } from '../../src/runtime/compiled.js';

test('an embedding gradient with heavily repeated indices is the exact sum of its rows, on 2 threads', async () => {
  const [V, D, N] = [8, 256, 4096];
  const g = new Graph();
  const table = input(g, 'table', 'float32', [V, D]);
  const idx = input(g, 'idx', 'int64', [4, N / 4]);
  const r = input(g, 'r', 'float32', [4, N / 4, D]);
  const [gTable] = grad(sum(mul(gather(table, idx), r)), [table]);
  const fn = await compile({ inputs: [table, idx, r], outputs: { g: gTable! }, session: { threads: 2 } });
  const rows = Float32Array.from({ length: N * D }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const exact = new Float64Array(V * D);
  for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) exact[(n % V) * D + d]! += rows[n * D + d]!;
  try {
    for (let run = 0; run < 3; run++) {
      const out = (
        await fn.run({
          table: { dtype: 'float32', dims: [V, D], data: new Float32Array(V * D) },
          idx: {
            dtype: 'int64',
            dims: [4, N / 4],
            data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % V)),
          },
          r: { dtype: 'float32', dims: [4, N / 4, D], data: rows },
        })
      )['g']!.data as Float32Array;
      let worst = 0;
      out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - exact[i]!) / exact[i]!)));
      assert.ok(worst < 1e-5, `run ${run}: ${worst.toExponential(2)} relative error`);
    }
  } finally {
    await fn.release();
  }
});

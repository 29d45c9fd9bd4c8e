// Whether a seeded run repeats bitwise on onnxruntime-node's WebGPU provider (a GPU's adapter, or Mesa's
// lavapipe): the toy encoder of the engine's tests trained twice with the same seed, and the embedding
// gradient's scatter-add (Gather's rule) run repeatedly on the same inputs. Prints one JSON object.
// Usage: npx tsx scripts/webgpu-determinism.ts [STEPS] [REPEATS]
import process from 'node:process';
import { gather, grad, Graph, input, mul, sum } from '../src/graph/index.js';
import { compile } from '../src/runtime/compiled.js';
import { trainEncoder } from '../test/helpers/toy-encoder.js';

const steps = Number(process.argv[2] ?? 30);
const repeats = Number(process.argv[3] ?? 10);
const webgpu = { executionProviders: ['webgpu'] };

const a = await trainEncoder(1, steps, webgpu);
const b = await trainEncoder(1, steps, webgpu);
const firstDiff = a.findIndex((v, i) => v !== b[i]);

// 512 rows added into 8: every row of the table receives 64 updates.
const [V, D, N] = [8, 32, 512];
const g = new Graph();
const table = input(g, 'table', 'float32', [V, D]);
const idx = input(g, 'idx', 'int64', [N]);
const r = input(g, 'r', 'float32', [N, D]);
const [gTable] = grad(sum(mul(gather(table, idx), r)), [table]);
const fn = await compile({ inputs: [table, idx, r], outputs: { g: gTable! }, session: webgpu });
const feed = {
  table: { dtype: 'float32' as const, dims: [V, D], data: new Float32Array(V * D) },
  idx: {
    dtype: 'int64' as const,
    dims: [N],
    data: BigInt64Array.from({ length: N }, (_, i) => BigInt(i % V)),
  },
  r: {
    dtype: 'float32' as const,
    dims: [N, D],
    data: Float32Array.from({ length: N * D }, (_, i) => Math.sin(i)),
  },
};
const outs: Float32Array[] = [];
for (let i = 0; i < repeats; i++) outs.push(((await fn.run(feed))['g']!.data as Float32Array).slice());
await fn.release();

console.log(
  JSON.stringify({
    encoder: { steps, first_differing_step: firstDiff < 0 ? null : firstDiff + 1 },
    scatter_add: {
      repeats,
      differing_from_first: outs.filter((o) => o.some((v, i) => v !== outs[0]![i])).length,
    },
  }),
);

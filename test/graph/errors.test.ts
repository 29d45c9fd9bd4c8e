import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  add,
  concat,
  SplitOp,
  emitModel,
  Graph,
  GraphError,
  grad,
  input,
  matmul,
  param,
  reshape,
  slice,
  squeeze,
  expand,
  sum,
  transpose,
  where,
} from '../../src/graph/index.js';

test('shape errors are raised at build time, naming the op, the shapes and the caller', () => {
  const g = new Graph();
  const a = input(g, 'a', 'float32', ['batch', 3]);
  const w = param(g, 'w', [4, 2]);
  assert.throws(
    () => matmul(a, w),
    (e: unknown) =>
      e instanceof GraphError &&
      /^MatMul: inner dimensions differ: 3 vs 4/.test(e.message) &&
      e.message.includes('float32[batch, 3], float32[4, 2]') &&
      e.message.includes('errors.test.ts'),
  );
  const b = input(g, 'b', 'float32', ['batch', 4]);
  assert.throws(
    () => add(a, b),
    /Add: shapes do not broadcast \(inputs: float32\[batch, 3\], float32\[batch, 4\]\)/,
  );
  assert.throws(() => reshape(a, [5, -1]), /Reshape: cannot infer -1/);
  assert.throws(() => transpose(a, [0, 0]), /Transpose: perm \[0, 0\] is not a permutation/);
  assert.throws(() => concat([a, b], 0), /Concat: shapes differ outside axis 0/);
  assert.throws(
    () => g.apply(SplitOp, [b], { axis: 1, sizes: [2, 1] }),
    /Split: sizes \[2, 1\] do not cover axis 1 of size 4/,
  );
});

test('dtype errors name both dtypes', () => {
  const g = new Graph();
  const a = input(g, 'a', 'float32', [2]);
  const i = input(g, 'i', 'int64', [2]);
  assert.throws(() => add(a, i), /Add: dtypes differ: float32 vs int64/);
  assert.throws(() => where(a, a, a), /Where: condition must be bool, got float32/);
  assert.throws(() => grad(sum(a), [i]), /cannot differentiate with respect to int64/);
});

test('names are unique, and emission refuses parameters that are neither fed nor frozen', () => {
  const g = new Graph();
  const x = input(g, 'x', 'float32', [2]);
  assert.throws(() => input(g, 'x', 'float32', [2]), /"x" is already used/);
  const w = param(g, 'w', [2]);
  assert.throws(
    () => emitModel({ inputs: [x], outputs: { y: add(x, w) } }),
    /parameter "w" is needed but neither fed nor frozen/,
  );
  assert.throws(() => grad(add(x, w), [w]), /needs a scalar, got shape \[2\]/);
});

test('ops that check inside a built-in callback (Array.forEach) still name the model code as the caller', () => {
  const g = new Graph();
  const a = input(g, 'a', 'float32', ['batch', 3]);
  for (const [op, build] of [
    ['Slice', () => slice(a, [5], [0], [1])],
    ['Expand', () => expand(a, [2, 4])],
    ['Squeeze', () => squeeze(a, [1])],
  ] as const)
    assert.throws(build, (e: unknown) => {
      const m = (e as Error).message;
      return m.startsWith(`${op}:`) && /called from .*errors\.test\.ts:\d+:\d+/.test(m);
    });
});

test('an op on a dtype ONNX Runtime has no kernel for is named, with its types, when compiled', async () => {
  const { compile } = await import('../../src/runtime/compiled.js');
  const { layerNorm } = await import('../../src/graph/index.js');
  const g = new Graph();
  const x = input(g, 'x', 'float64', [2, 4]);
  const w = input(g, 'w', 'float64', [4]);
  const b = input(g, 'b', 'float64', [4]);
  await assert.rejects(
    compile({ inputs: [x, w, b], outputs: { y: layerNorm(x, w, b, 1e-5) } }),
    /^Error: LayerNorm \(inputs: float64\[2, 4\], float64\[4\], float64\[4\]; outputs: float64\[2, 4\].*\) has no ONNX Runtime kernel/,
  );
});

test('the caller is named when its path holds parentheses ("Program Files (x86)")', async () => {
  const { mkdtemp, writeFile, symlink } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const dir = join(await mkdtemp(join(tmpdir(), 'plmkit-caller-')), 'proj (1)');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dir);
  const graph = join(import.meta.dirname, '..', '..', 'src', 'graph', 'index.js');
  await writeFile(join(dir, 'package.json'), '{"type": "module"}');
  await symlink(join(import.meta.dirname, '..', '..', 'node_modules'), join(dir, 'node_modules'));
  await writeFile(
    join(dir, 'model.ts'),
    `import { Graph, input, param, matmul } from ${JSON.stringify(graph)};\n` +
      `const g = new Graph();\nfunction myModel() { return matmul(input(g, 'a', 'float32', [2, 3]), param(g, 'w', [4, 2])); }\n` +
      `try { myModel(); } catch (e) { console.log((e as Error).message); }\n`,
  );
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(dir, 'model.ts')], {
    cwd: dir,
  });
  assert.match(stdout, /called from myModel \(.*proj \(1\)[\\/]model\.ts:3:\d+\)/);
});

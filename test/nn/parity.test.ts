// Parity with an independent PyTorch implementation of Hugging Face's sequence classifiers
// (fixtures made by scripts/make_parity_fixtures.py).

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bindWeights, readPretrained } from '../../src/io/checkpoint.js';
import { sequenceClassifier, textInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { compile } from '../../src/runtime/compiled.js';
import { i64 } from '../helpers/host.js';

interface Reference {
  input_ids: number[];
  attention_mask: number[];
  token_type_ids: number[];
  batch: number;
  seq: number;
  logits: number[];
  hidden_states: number[][];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const kind of ['bert', 'roberta']) {
  test(`tiny ${kind}: logits and every hidden state match the PyTorch reference within 1e-4`, async () => {
    const dir = join(import.meta.dirname, '..', 'fixtures', 'models', `tiny-${kind}`);
    const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8')) as Reference;
    const pre = await readPretrained(dir);
    const b = new ModelBuilder({ training: false });
    const x = textInputs(b, kind === 'bert');
    const out = sequenceClassifier(b, x, pre.config);
    const { values, initialised, unused } = bindWeights(b, pre);
    assert.deepEqual(initialised, []);
    assert.deepEqual(unused, []);
    const outputs = Object.fromEntries([
      ['logits', out.logits],
      ...out.hiddenStates.map((h, i) => [`hidden_${i}`, h]),
    ]);
    const inputs = x.tokenTypeIds
      ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
      : [x.inputIds, x.attentionMask];
    const fn = await compile({ inputs, outputs, frozen: values });
    const dims = [ref.batch, ref.seq];
    const feeds = {
      input_ids: i64(dims, ref.input_ids),
      attention_mask: i64(dims, ref.attention_mask),
      ...(kind === 'bert' ? { token_type_ids: i64(dims, ref.token_type_ids) } : {}),
    };
    const res = await fn.run(feeds);
    assert.ok(maxAbsDiff(res['logits']!.data as Float32Array, ref.logits) < 1e-4, 'logits');
    ref.hidden_states.forEach((h, i) => {
      const d = maxAbsDiff(res[`hidden_${i}`]!.data as Float32Array, h);
      assert.ok(d < 1e-4, `hidden state ${i}: max |diff| ${d}`);
    });
    await fn.release();
  });
}

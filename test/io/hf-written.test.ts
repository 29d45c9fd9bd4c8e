// Directories written by Hugging Face transformers' own save_pretrained (fp32, fp16 shards with an index,
// bf16; fast-tokenizer files) load here and give transformers' token ids and logits
// (fixtures made by scripts/make_hf_fixtures.py with transformers 5.18.0 and PEFT 0.21.0).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { TextClassifier } from '../../src/classify/classifier.js';
import { HF_WRITTEN as root, hfWrittenRows } from '../helpers/hf-written.js';

for (const name of ['bert', 'bert-fp16-sharded', 'roberta', 'roberta-bf16']) {
  test(`${name} saved by transformers: same token ids, logits within 1e-4`, async () => {
    const dir = join(root, name);
    const ref = { rows: await hfWrittenRows(name) };
    const clf = await TextClassifier.load(dir);
    const examples = ref.rows.map((r) =>
      r.text_pair === null ? { text: r.text } : { text: r.text, textPair: r.text_pair },
    );
    const enc = await clf.encode(examples, 512);
    enc.forEach((e, i) =>
      assert.deepEqual(e.ids, ref.rows[i]!.input_ids, `token ids of "${ref.rows[i]!.text}"`),
    );
    const preds = await clf.predict(examples);
    preds.forEach((p, i) => {
      const want = ref.rows[i]!.logits;
      const d = Math.max(...p.logits.map((v, j) => Math.abs(v - want[j]!)));
      assert.ok(d < 1e-4, `logits of "${ref.rows[i]!.text}": max |diff| ${d}`);
    });
    if (name.startsWith('bert'))
      assert.deepEqual(clf.labelNames, ['negative', 'neutral', 'positive'], 'labels from config.json');
    await clf.release();
  });
}

test('a text longer than the position table is cut to it (RoBERTa: max_position_embeddings - 2)', async () => {
  const clf = await TextClassifier.load(join(root, 'roberta'));
  const long = { text: 'the quick brown fox jumps over the lazy dog '.repeat(12) };
  const [enc] = await clf.encode([long], 512);
  assert.equal(enc!.ids.length, 64);
  const [p] = await clf.predict([long]);
  assert.equal(p!.logits.length, 2);
  assert.ok(p!.logits.every(Number.isFinite));
  await clf.release();
});

test('a LoRA module saved by PEFT loads onto its base with PEFT logits within 1e-4', async () => {
  const dir = join(root, 'bert-lora-peft');
  const ref = { rows: await hfWrittenRows('bert-lora-peft') };
  const clf = await TextClassifier.load(join(root, 'bert'), { adapter: dir });
  const preds = await clf.predict(
    ref.rows.map((r) => (r.text_pair === null ? { text: r.text } : { text: r.text, textPair: r.text_pair })),
  );
  preds.forEach((p, i) => {
    const want = ref.rows[i]!.logits;
    const d = Math.max(...p.logits.map((v, j) => Math.abs(v - want[j]!)));
    assert.ok(d < 1e-4, `logits of "${ref.rows[i]!.text}": max |diff| ${d}`);
  });
  await clf.release();
});

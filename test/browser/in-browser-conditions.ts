// Run by browser.test.ts in a child process under test/helpers/browser-only.mjs (no onnxruntime-node, no
// native tokenizers, no Node built-ins for src/): the browser entry loads model directories that
// transformers wrote, through fetchModelFiles, and gives transformers' token ids and logits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrowserClassifier, fetchModelFiles, fetchPetFiles } from '../../src/browser.js';
import { serveFiles } from '../helpers/serve-files.js';
import { HF_WRITTEN as root, hfWrittenRows } from '../helpers/hf-written.js';

/** A fetch that serves files from the fixture directory, as a web server would (404 for a missing one). */
const localFetch = serveFiles(root);

for (const name of ['bert', 'roberta', 'roberta-bf16', 'bert-fp16-sharded']) {
  test(`${name}: the browser entry gives transformers' token ids and logits within 1e-4`, async () => {
    const ref = { rows: await hfWrittenRows(name) };
    const clf = await BrowserClassifier.load(
      await fetchModelFiles(`https://example.org/${name}`, localFetch),
    );
    const inputs = ref.rows.map((r) =>
      r.text_pair === null ? r.text : { text: r.text, textPair: r.text_pair },
    );
    inputs.forEach((x, i) => assert.deepEqual(clf.encode(x).ids, ref.rows[i]!.input_ids, `ids of row ${i}`));
    const preds = await clf.predict(inputs);
    preds.forEach((p, i) => {
      const d = Math.max(...p.logits.map((v, j) => Math.abs(v - ref.rows[i]!.logits[j]!)));
      assert.ok(d < 1e-4, `row ${i}: max |diff| ${d}`);
    });
    await clf.release();
  });
}

test('a long text, alone or beside a pair, is cut to the position table, keeping the special tokens', async () => {
  const clf = await BrowserClassifier.load(await fetchModelFiles('https://example.org/roberta', localFetch));
  const sentence = 'the quick brown fox jumps over the lazy dog ';
  const cut = clf.encode(sentence.repeat(12));
  assert.equal(cut.ids.length, 64);
  // <s>, then the text's first tokens (words are tokenized one by one), then </s>.
  const one = clf.encode(sentence).ids;
  const head = one.slice(1, -2); // (the trailing space joins the next word in the long text)
  assert.ok(head.length < 62);
  assert.equal(cut.ids[0], one[0]);
  assert.equal(cut.ids[63], one.at(-1));
  assert.deepEqual(cut.ids.slice(1, 1 + head.length), head);
  // A long text beside a short pair: the text alone is cut (longest first), the pair kept whole.
  const pair = clf.encode({ text: sentence.repeat(12), textPair: 'a pair' }).ids;
  const whole = clf.encode({ text: sentence, textPair: 'a pair' }).ids;
  assert.equal(pair.length, 64);
  const tail = whole.slice(whole.length - 5); // </s></s> a pair </s>
  assert.deepEqual(pair.slice(-5), tail);
  await clf.release();
});

test("a LoRA module that PEFT wrote, fetched beside its base, gives PEFT's logits within 1e-4", async () => {
  const ref = { rows: await hfWrittenRows('bert-lora-peft') };
  const clf = await BrowserClassifier.load(await fetchModelFiles('https://example.org/bert', localFetch), {
    adapter: await fetchPetFiles('https://example.org/bert-lora-peft', localFetch),
  });
  const preds = await clf.predict(
    ref.rows.map((r) => (r.text_pair === null ? r.text : { text: r.text, textPair: r.text_pair })),
  );
  preds.forEach((p, i) => {
    const d = Math.max(...p.logits.map((v, j) => Math.abs(v - ref.rows[i]!.logits[j]!)));
    assert.ok(d < 1e-4, `row ${i}: max |diff| ${d}`);
  });
  await clf.release();
});

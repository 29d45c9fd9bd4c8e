// The browser entry's tokenizer (@huggingface/tokenizers, pure JavaScript) gives the ids of the native
// `tokenizers` package, which the Node commands use, on every SST-2 dev sentence shipped in data/, with
// the bundled model's vocabulary.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { loadTokenizer } from '../../src/io/tokenizer/index.js';

const root = join(import.meta.dirname, '..', '..');

test('@huggingface/tokenizers and the native tokenizer agree on the bundled model, sentences and pairs', async () => {
  const dir = join(root, 'models', 'plmkit-bert-mini');
  const js = new JsTokenizer(
    JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')),
  );
  const native = await loadTokenizer(dir);
  const texts = (await readFile(join(root, 'data', 'sst2-sentence', 'dev.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);
  assert.equal(texts.length, 872);
  for (const [i, t] of texts.entries()) {
    const pair: string | undefined = i % 10 === 0 ? texts[(i + 1) % texts.length] : undefined;
    const a: { ids: number[]; token_type_ids: number[] } = js.encode(t, {
      text_pair: pair ?? null,
      return_token_type_ids: true,
    });
    const b = await native.encode(t, pair);
    assert.deepEqual(a.ids, [...b.ids], `ids of dev sentence ${i}`);
    assert.deepEqual(a.token_type_ids, [...b.typeIds], `type ids of dev sentence ${i}`);
  }
});

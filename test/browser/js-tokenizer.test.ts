// The browser entry's tokenizer (@huggingface/tokenizers, pure JavaScript) gives the ids of the native
// `tokenizers` package, which the Node commands use, on every SST-2 dev sentence shipped in data/, with
// the bundled model's vocabulary; and the browser's truncation (encodeInput) cuts texts and pairs as the
// native tokenizer's does, from either side.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { copyFile, writeFile } from 'node:fs/promises';
import { encodeInput, longestFirst, truncationSide } from '../../src/browser/encode.js';
import { fetchTokenizerFiles } from '../../src/browser/model-files.js';
import { parseHfConfig } from '../../src/io/hf-config-schema.js';
import { loadTokenizer } from '../../src/io/tokenizer/index.js';
import { modelConfigFromHf } from '../../src/io/weights.js';
import { HF_WRITTEN } from '../helpers/hf-written.js';
import { scratchDirs } from '../helpers/scratch.js';
import { SERVED, serveFiles } from '../helpers/serve-files.js';

const root = join(import.meta.dirname, '..', '..');
const scratch = scratchDirs('plmkit-js-tokenizer-');
const readJson = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8'));
const devSentences = async (): Promise<string[]> =>
  (await readFile(join(root, 'data', 'sst2-sentence', 'dev.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { text: string }).text);

test('@huggingface/tokenizers and the native tokenizer agree on the bundled model, sentences and pairs', async () => {
  const dir = join(root, 'models', 'plmkit-bert-mini');
  const js = new JsTokenizer(
    JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')),
    JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')),
  );
  const native = await loadTokenizer(dir);
  const texts = await devSentences();
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

test('longest-first lengths: the shorter keeps its length when the longer can make room, else halves', () => {
  assert.deepEqual(longestFirst(3, 4, 10), [3, 4]);
  assert.deepEqual(longestFirst(3, 20, 10), [3, 7]);
  assert.deepEqual(longestFirst(20, 3, 10), [7, 3]);
  assert.deepEqual(longestFirst(8, 9, 10), [5, 5]);
  assert.deepEqual(longestFirst(9, 8, 11), [6, 5]);
  assert.deepEqual(longestFirst(8, 8, 11), [5, 6]);
  assert.deepEqual(longestFirst(12, 30, 11), [5, 6]);
});

for (const [name, dir] of [
  ['the bundled BERT', join(root, 'models', 'plmkit-bert-mini')],
  ['the RoBERTa that transformers wrote', join(HF_WRITTEN, 'roberta')],
] as const)
  test(`an empty text pair is a pair with no tokens in the browser too (${name})`, async () => {
    const js = new JsTokenizer(
      (await readJson(join(dir, 'tokenizer.json'))) as object,
      (await readJson(join(dir, 'tokenizer_config.json'))) as object,
    );
    const native = await loadTokenizer(dir);
    const config = modelConfigFromHf(parseHfConfig(await readJson(join(dir, 'config.json'))));
    for (const text of ['a fine and moving film', 'the plot never quite comes together, sadly'])
      for (const maxLength of [64, 6]) {
        const mine = encodeInput(js, config, { text, textPair: '' }, maxLength);
        const theirs = await native.encode(text, '', { truncation: true, maxLength });
        assert.deepEqual(mine.ids, [...theirs.ids], `${JSON.stringify(text)} at ${maxLength}`);
        // RoBERTa takes no token type ids (the JavaScript library numbers its pair 1, the native one 0).
        if (config.modelType === 'bert')
          assert.deepEqual(mine.typeIds, [...theirs.typeIds], `type ids of ${JSON.stringify(text)}`);
        // Longer than the same text alone: the pair's closing special tokens are there.
        assert.ok(maxLength === 6 || mine.ids.length > (await native.encode(text)).ids.length);
      }
  });

for (const [name, dir] of [
  ['the bundled BERT', join(root, 'models', 'plmkit-bert-mini')],
  ['the RoBERTa that transformers wrote', join(HF_WRITTEN, 'roberta')],
] as const)
  for (const side of ['right', 'left'] as const)
    test(`truncation in the browser against the native tokenizer (${name}, ${side} side)`, async () => {
      // A copy of the tokenizer files with the side to test in tokenizer_config.json.
      const at = await scratch();
      await copyFile(join(dir, 'tokenizer.json'), join(at, 'tokenizer.json'));
      const tokConfig = {
        ...((await readJson(join(dir, 'tokenizer_config.json'))) as object),
        truncation_side: side,
      };
      await writeFile(join(at, 'tokenizer_config.json'), JSON.stringify(tokConfig));
      const js = new JsTokenizer((await readJson(join(at, 'tokenizer.json'))) as object, tokConfig);
      assert.equal(truncationSide(tokConfig), side);
      const native = await loadTokenizer(at);
      const config = modelConfigFromHf(parseHfConfig(await readJson(join(dir, 'config.json'))));
      const texts = (await devSentences()).slice(0, 150);
      const content = (t: string) => js.encode(t, { add_special_tokens: false }).ids.length;
      let singles = 0;
      let pairs = 0;
      let moved = 0;
      for (const [i, t] of texts.entries()) {
        const maxLength = [7, 12, 16, 23, 32][i % 5]!;
        const pair = i % 3 === 0 ? undefined : texts[(i * 7 + 1) % texts.length]!;
        if (js.encode(t, { text_pair: pair ?? null }).ids.length <= maxLength) continue;
        const mine = encodeInput(
          js,
          config,
          pair === undefined ? t : { text: t, textPair: pair },
          maxLength,
          0,
          side,
        );
        const theirs = await native.encode(t, pair, { truncation: true, maxLength });
        assert.equal(mine.ids.length, theirs.ids.length, `length of row ${i}`);
        const kept = [0, 1].map((s) => theirs.sequenceIds.filter((x) => x === s).length);
        const [na, nb] =
          pair === undefined ? [kept[0]!, 0] : longestFirst(content(t), content(pair), kept[0]! + kept[1]!);
        if (pair !== undefined && (na !== kept[0] || nb !== kept[1])) {
          // The one difference allowed: a halved odd budget's extra token on the other text.
          assert.equal(Math.abs(na - kept[0]!), 1, `row ${i}: ${na}/${nb} against ${kept.join('/')}`);
          assert.equal((kept[0]! + kept[1]!) % 2, 1, `row ${i}: an even budget split otherwise`);
          moved++;
          continue;
        }
        assert.deepEqual(mine.ids, [...theirs.ids], `ids of row ${i} at maxLength ${maxLength}`);
        if (config.modelType === 'bert')
          assert.deepEqual(mine.typeIds, [...theirs.typeIds], `type ids of row ${i}`);
        if (pair === undefined) singles++;
        else pairs++;
      }
      // Every single text cut as the native tokenizer cuts it, and most pairs.
      assert.ok(singles >= 25 && pairs >= 60, `${singles} single texts and ${pairs} pairs matched`);
      assert.ok(moved <= pairs / 3, `${moved} pairs with the odd token on the other text, ${pairs} the same`);
    });

test('without tokenizer.json the browser builds the tokenizer from vocab.txt or vocab.json + merges.txt, as Node does', async () => {
  // The bundled model's vocabulary alone, and the WordPiece and byte-level BPE fixtures.
  const bundled = await scratch();
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json'])
    await copyFile(join(root, 'models', 'plmkit-bert-mini', f), join(bundled, f));
  const fixtures = join(root, 'test', 'fixtures', 'tokenizers');
  const texts = (await devSentences()).slice(0, 200);
  for (const dir of [bundled, join(fixtures, 'bert-wordpiece'), join(fixtures, 'roberta-bpe')]) {
    const files = await fetchTokenizerFiles(SERVED, serveFiles(dir));
    const js = new JsTokenizer(files.tokenizer as object, files.tokenizerConfig as object);
    const native = await loadTokenizer(dir);
    for (const [i, t] of texts.entries()) {
      const pair = i % 4 === 0 ? texts[(i + 1) % texts.length] : undefined;
      const a: { ids: number[] } = js.encode(t, { text_pair: pair ?? null });
      assert.deepEqual(a.ids, [...(await native.encode(t, pair)).ids], `${dir}: ids of dev sentence ${i}`);
    }
  }
  await assert.rejects(
    fetchTokenizerFiles(SERVED, serveFiles(fixtures)),
    /no tokenizer found: expected tokenizer\.json/,
  );
});

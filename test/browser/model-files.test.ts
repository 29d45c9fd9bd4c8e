// The browser's model files: fetched JSON that does not parse, a directory without weights and a failing
// labels file are errors naming the URL; a tokenizer with ids beyond the model's table is refused before
// anything runs; batch sizes are checked where the batches are made.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkTokenizerFitsModel, fetchModelFiles, fetchPetFiles } from '../../src/browser/model-files.js';
import { sequentialBatches } from '../../src/classify/batching.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

/** A fetch that serves `files` (name -> body or HTTP status) under http://x/m/. */
function serve(files: Record<string, string | Uint8Array | number>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const name = String(input).replace('http://x/m/', '');
    const body = files[name];
    if (body === undefined) return new Response('', { status: 404 });
    if (typeof body === 'number') return new Response('', { status: body });
    return new Response(body as BodyInit);
  }) as typeof fetch;
}

test('fetched files that fail are errors naming their URL', async () => {
  const model = join(fixtures, 'models', 'tiny-bert');
  const tokenizer = await readFile(join(fixtures, 'tokenizers', 'bert-wordpiece', 'vocab.txt'), 'utf8');
  const weights = new Uint8Array(await readFile(join(model, 'model.safetensors')));
  await assert.rejects(
    fetchModelFiles(
      'http://x/m',
      serve({
        'config.json': '{ "model_type": "bert", ',
        'model.safetensors': weights,
        'vocab.txt': tokenizer,
      }),
    ),
    /http:\/\/x\/m\/config\.json: not valid JSON/,
  );
  await assert.rejects(
    fetchModelFiles(
      'http://x/m',
      serve({ 'config.json': '{}', 'pytorch_model.bin': 'x', 'vocab.txt': tokenizer }),
    ),
    /http:\/\/x\/m: no model\.safetensors or model\.safetensors\.index\.json/,
  );
  await assert.rejects(
    fetchModelFiles(
      'http://x/m',
      serve({
        'config.json': '{}',
        'model.safetensors.index.json': '{"weight_map": ',
        'vocab.txt': tokenizer,
      }),
    ),
    /model\.safetensors\.index\.json: not valid JSON/,
  );
  const pet = { 'adapter_config.json': '{}', 'adapter_model.safetensors': weights };
  await assert.rejects(
    fetchPetFiles('http://x/m', serve({ ...pet, 'plmkit_labels.json': 500 })),
    /plmkit_labels\.json: HTTP 500/,
  );
  assert.equal((await fetchPetFiles('http://x/m', serve(pet))).id2label, undefined);
});

test('a tokenizer with ids beyond the word-embedding table is refused', () => {
  const tok = { model: { vocab: { a: 0, b: 1 } }, added_tokens: [{ id: 120 }] };
  assert.throws(() => checkTokenizerFitsModel(tok, 99), /ids up to 120 but config\.json's vocab_size is 99/);
  checkTokenizerFitsModel(tok, 121);
});

test('batch sizes that would never end a loop are refused', () => {
  const rows = [{ ids: [1, 2], label: 0 }];
  for (const size of [0, -1, Number.NaN, 1.5])
    assert.throws(() => sequentialBatches(rows, size), /batch size must be a positive integer/);
});

test('an input that is neither a string nor { text, textPair? } is refused by name', async () => {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const { fetchTokenizerFiles } = await import('../../src/browser/model-files.js');
  const { encodeInput } = await import('../../src/browser/encode.js');
  const { BERT_MINI } = await import('../../src/nn/config.js');
  const vocab = await readFile(join(fixtures, 'tokenizers', 'bert-wordpiece', 'vocab.txt'), 'utf8');
  const files = await fetchTokenizerFiles('http://x/m', serve({ 'vocab.txt': vocab }));
  const tok = new Tokenizer(files.tokenizer as object, files.tokenizerConfig as object);
  assert.ok(encodeInput(tok, BERT_MINI, 'hello world').ids.length > 2);
  for (const bad of [undefined, 3, { text: 1 }, { text: 'a', textPair: 2 }])
    assert.throws(() => encodeInput(tok, BERT_MINI, bad as never), /an input is a string or \{ text: string/);
});

// Loading and saving tokenizer directories: vocab.txt / vocab.json + merges.txt -> tokenizer.json round trips,
// the files transformers expects, tokenizer_config.json handling, and file errors.

import assert from 'node:assert/strict';
import { copyFile, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { scratchDirs } from '../../helpers/scratch.js';
import {
  type Tokenizer,
  TokenizerFileError,
  loadTokenizer,
  parseMergesTxt,
  parseVocabJson,
  parseVocabTxt,
  saveTokenizer,
} from '../../../src/io/tokenizer/index.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'tokenizers');
const BERT = join(FIXTURES, 'bert-wordpiece');
const ROBERTA = join(FIXTURES, 'roberta-bpe');

const freshDir = scratchDirs('plmkit-tokenizer-');
async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

const TEXTS = [
  'unaffable',
  'Héllo, world!',
  'The quick brown fox jumps over the lazy dog.',
  'xyzzy [MASK] café',
  'hello 😀 world',
  'Hello world, the cat sat.',
  'café naïve',
  'Hello <mask>',
  '',
];
const PAIRS = ['hello world', 'the cat sat', 'world', 'jumps', 'a', 'b', 'c', 'd', 'e'];

/** Everything the two tokenizers produce on the test texts, for comparison. */
async function fingerprint(tok: Tokenizer): Promise<unknown> {
  const singles = await Promise.all(TEXTS.map((t) => tok.encode(t)));
  const pairs = await Promise.all(TEXTS.map((t, i) => tok.encode(t, PAIRS[i]!)));
  const batch = await tok.encodeBatch(TEXTS, PAIRS, {
    truncation: true,
    maxLength: 9,
    padding: 'max_length',
  });
  return {
    singles,
    pairs,
    batch: {
      ...batch,
      inputIds: [...batch.inputIds],
      attentionMask: [...batch.attentionMask],
      tokenTypeIds: [...batch.tokenTypeIds],
    },
    decoded: await Promise.all(singles.map((e) => tok.decode(e.ids))),
    ids: [
      tok.vocabSize,
      tok.padId,
      tok.clsId,
      tok.sepId,
      tok.maskId,
      tok.unkId,
      tok.bosId,
      tok.eosId,
      tok.specialIds,
    ],
    max: tok.modelMaxLength,
  };
}

describe('WordPiece directory round trip', () => {
  test('vocab.txt -> save -> tokenizer.json -> identical encodings', async () => {
    const fromVocab = await loadTokenizer(BERT);
    const dir = await freshDir();
    const written = await saveTokenizer(fromVocab, dir);
    const names = (await readdir(dir)).sort();
    // Nothing else (no leftover temporary files).
    assert.deepEqual(names, [
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    assert.deepEqual(written.map((p) => p.slice(dir.length + 1)).sort(), names);
    // vocab.txt is written back unchanged.
    assert.equal(
      await readFile(join(dir, 'vocab.txt'), 'utf8'),
      await readFile(join(BERT, 'vocab.txt'), 'utf8'),
    );

    const reloaded = await loadTokenizer(dir); // uses tokenizer.json
    assert.deepEqual(await fingerprint(reloaded), await fingerprint(fromVocab));

    // The tokenizer.json loads without its config too (structure alone), and still tokenizes the same way.
    const only = await freshDir();
    await copyFile(join(dir, 'tokenizer.json'), join(only, 'tokenizer.json'));
    const bare = await loadTokenizer(only);
    assert.deepEqual(
      await bare.encode('Héllo, world! unaffable'),
      await fromVocab.encode('Héllo, world! unaffable'),
    );
    assert.equal(bare.modelMaxLength, undefined);
  });

  test('written tokenizer.json has the BertTokenizerFast structure', async () => {
    const dir = await freshDir();
    await saveTokenizer(await loadTokenizer(BERT), dir);
    const json = await readJson(join(dir, 'tokenizer.json'));
    assert.deepEqual(json['normalizer'], {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    });
    assert.deepEqual(json['pre_tokenizer'], { type: 'BertPreTokenizer' });
    const post = json['post_processor'] as Record<string, unknown>;
    assert.equal(post['type'], 'TemplateProcessing');
    assert.deepEqual(post['special_tokens'], {
      '[CLS]': { id: '[CLS]', ids: [4], tokens: ['[CLS]'] },
      '[SEP]': { id: '[SEP]', ids: [5], tokens: ['[SEP]'] },
    });
    assert.deepEqual(json['decoder'], { type: 'WordPiece', prefix: '##', cleanup: true });
    const model = json['model'] as Record<string, unknown>;
    assert.equal(model['type'], 'WordPiece');
    assert.equal(model['unk_token'], '[UNK]');
    assert.equal(model['continuing_subword_prefix'], '##');
    assert.equal((model['vocab'] as Record<string, number>)['##able'], 28);
    assert.deepEqual(
      (json['added_tokens'] as { id: number; content: string; special: boolean; normalized: boolean }[]).map(
        (t) => [t.id, t.content, t.special, t.normalized],
      ),
      [
        [0, '[PAD]', true, false],
        [3, '[UNK]', true, false],
        [4, '[CLS]', true, false],
        [5, '[SEP]', true, false],
        [6, '[MASK]', true, false],
      ],
    );
    const cfg = await readJson(join(dir, 'tokenizer_config.json'));
    assert.equal(cfg['tokenizer_class'], 'BertTokenizer');
    assert.equal(cfg['do_lower_case'], true);
    assert.equal(cfg['strip_accents'], null);
    assert.equal(cfg['tokenize_chinese_chars'], true);
    assert.equal(cfg['model_max_length'], 32);
    for (const [k, v] of Object.entries({
      cls: '[CLS]',
      sep: '[SEP]',
      pad: '[PAD]',
      unk: '[UNK]',
      mask: '[MASK]',
    })) {
      assert.equal(cfg[`${k}_token`], v);
    }
    assert.equal(cfg['bos_token'], undefined);
    assert.deepEqual(Object.keys(cfg['added_tokens_decoder'] as object), ['0', '3', '4', '5', '6']);
    const map = await readJson(join(dir, 'special_tokens_map.json'));
    assert.deepEqual(map['mask_token'], {
      content: '[MASK]',
      lstrip: false,
      normalized: false,
      rstrip: false,
      single_word: false,
    });
  });

  test('do_lower_case: false in tokenizer_config.json (vocab.txt) -> cased, and it survives a save', async () => {
    const dir = await freshDir();
    await copyFile(join(BERT, 'vocab.txt'), join(dir, 'vocab.txt'));
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ do_lower_case: false, model_max_length: 16 }),
    );
    const tok = await loadTokenizer(dir);
    assert.deepEqual(await tok.tokenize('Hello World café'), ['Hello', 'World', 'caf', '##é']);
    assert.equal(tok.modelMaxLength, 16);
    const out = await freshDir();
    await saveTokenizer(tok, out);
    assert.equal((await readJson(join(out, 'tokenizer_config.json')))['do_lower_case'], false);
    const norm = (await readJson(join(out, 'tokenizer.json')))['normalizer'] as Record<string, unknown>;
    assert.equal(norm['lowercase'], false);
    const back = await loadTokenizer(out);
    assert.deepEqual(await back.tokenize('Hello World café'), ['Hello', 'World', 'caf', '##é']);
  });

  test("tokenizer_config.json's do_lower_case overrides tokenizer.json's normalizer (as BertTokenizerFast does)", async () => {
    const dir = await freshDir();
    await saveTokenizer(await loadTokenizer(BERT), dir);
    const cfg = await readJson(join(dir, 'tokenizer_config.json'));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, do_lower_case: false }));
    const tok = await loadTokenizer(dir);
    assert.deepEqual(await tok.tokenize('Hello hello'), ['Hello', 'hello']);
    assert.equal(tok.json.normalizer?.['lowercase'], false);
  });

  test('special tokens named in the config that are missing from vocab.txt are added after it', async () => {
    const dir = await freshDir();
    await copyFile(join(BERT, 'vocab.txt'), join(dir, 'vocab.txt'));
    await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify({ mask_token: '[MSK]' }));
    const tok = await loadTokenizer(dir);
    assert.equal(tok.maskId, 97);
    assert.equal(tok.vocabSize, 98);
    assert.deepEqual(await tok.tokenize('hello [MSK]'), ['hello', '[MSK]']);
  });

  test("tokenizer_config.json's added_tokens_decoder adds tokens with their ids and flags (vocab files only)", async () => {
    const dir = await freshDir();
    await copyFile(join(BERT, 'vocab.txt'), join(dir, 'vocab.txt'));
    const entry = { single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
    await writeFile(
      join(dir, 'tokenizer_config.json'),
      JSON.stringify({ added_tokens_decoder: { '97': { content: '<ent>', ...entry } } }),
    );
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, 98);
    assert.deepEqual((await tok.encode('the <ent> fox')).tokens, ['[CLS]', 'the', '<ent>', 'fox', '[SEP]']);
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: { x: {} } }));
    await assert.rejects(
      loadTokenizer(dir),
      /"added_tokens_decoder" > "x": needs an integer id and a "content" string/,
    );
  });
});

describe('byte-level BPE directory round trip', () => {
  test('vocab.json + merges.txt -> save -> tokenizer.json -> identical encodings', async () => {
    const fromVocab = await loadTokenizer(ROBERTA);
    const dir = await freshDir();
    await saveTokenizer(fromVocab, dir);
    assert.deepEqual((await readdir(dir)).sort(), [
      'merges.txt',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.json',
    ]);
    assert.deepEqual(
      parseMergesTxt(await readFile(join(dir, 'merges.txt'), 'utf8')),
      parseMergesTxt(await readFile(join(ROBERTA, 'merges.txt'), 'utf8')),
    );
    assert.deepEqual(
      parseVocabJson(await readFile(join(dir, 'vocab.json'), 'utf8')),
      parseVocabJson(await readFile(join(ROBERTA, 'vocab.json'), 'utf8')),
    );
    const reloaded = await loadTokenizer(dir);
    assert.deepEqual(await fingerprint(reloaded), await fingerprint(fromVocab));

    // And from the written vocab.json + merges.txt alone (tokenizer.json removed).
    await rm(join(dir, 'tokenizer.json'));
    assert.deepEqual(await fingerprint(await loadTokenizer(dir)), await fingerprint(fromVocab));

    // The flags written in added_tokens_decoder are the ones read back: <mask> without lstrip stays so.
    const config = await readJson(join(dir, 'tokenizer_config.json'));
    const decoder = config['added_tokens_decoder'] as Record<string, { content: string; lstrip: boolean }>;
    for (const e of Object.values(decoder)) if (e.content === '<mask>') e.lstrip = false;
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
    const noStrip = await loadTokenizer(dir);
    assert.deepEqual((await noStrip.encode('Hello <mask>', undefined)).tokens.slice(1, -1), [
      'Hello',
      'Ġ',
      '<mask>',
    ]);
  });

  test('written files have the RobertaTokenizerFast structure', async () => {
    const dir = await freshDir();
    await saveTokenizer(await loadTokenizer(ROBERTA), dir);
    const json = await readJson(join(dir, 'tokenizer.json'));
    assert.equal(json['normalizer'], null);
    assert.deepEqual(json['pre_tokenizer'], {
      type: 'ByteLevel',
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    });
    assert.deepEqual(json['post_processor'], {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    });
    assert.equal((json['decoder'] as Record<string, unknown>)['type'], 'ByteLevel');
    const model = json['model'] as Record<string, unknown>;
    assert.equal(model['type'], 'BPE');
    assert.equal((model['merges'] as unknown[]).length, 20);
    const mask = (json['added_tokens'] as { content: string; lstrip: boolean }[]).find(
      (t) => t.content === '<mask>',
    );
    assert.equal(mask?.lstrip, true);
    const cfg = await readJson(join(dir, 'tokenizer_config.json'));
    assert.equal(cfg['tokenizer_class'], 'RobertaTokenizer');
    assert.equal(cfg['add_prefix_space'], false);
    assert.equal(cfg['trim_offsets'], true);
    assert.equal(cfg['bos_token'], '<s>');
    assert.equal(cfg['eos_token'], '</s>');
    assert.equal(cfg['mask_token'], '<mask>');
    assert.equal(cfg['model_max_length'], 32);
    const map = await readJson(join(dir, 'special_tokens_map.json'));
    assert.deepEqual(map['mask_token'], {
      content: '<mask>',
      lstrip: true,
      normalized: false,
      rstrip: false,
      single_word: false,
    });
  });

  test('add_prefix_space from tokenizer_config.json', async () => {
    const dir = await freshDir();
    for (const f of ['vocab.json', 'merges.txt']) await copyFile(join(ROBERTA, f), join(dir, f));
    await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ add_prefix_space: true }));
    const tok = await loadTokenizer(dir);
    // With a prefix space the first word is encoded like a later one: "world" -> "Ġworld", offsets still [0,5).
    const e = await tok.encode('world', undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['Ġworld']);
    assert.deepEqual(e.offsets, [[0, 5]]);
  });
});

describe('file parsing and errors', () => {
  test('parseVocabTxt: ids are line numbers, CRLF tolerated, final newline optional', () => {
    assert.deepEqual({ ...parseVocabTxt('[PAD]\r\na\n##b\n') }, { '[PAD]': 0, a: 1, '##b': 2 });
    assert.deepEqual({ ...parseVocabTxt('a\nb') }, { a: 0, b: 1 });
    assert.throws(() => parseVocabTxt(''), TokenizerFileError);
  });

  test('parseMergesTxt / parseVocabJson reject malformed input', () => {
    assert.deepEqual(parseMergesTxt('#version: 0.2\nĠ t\n\nh e\n'), ['Ġ t', 'h e']);
    assert.throws(() => parseMergesTxt('#version: 0.2\nabc\n'), /line 2/);
    assert.throws(() => parseVocabJson('[1,2]'), TokenizerFileError);
    assert.throws(() => parseVocabJson('{"a": -1}'), /not an integer/);
    assert.throws(() => parseVocabJson('{'), /invalid JSON/);
  });

  test('a directory without tokenizer files', async () => {
    const dir = await freshDir();
    await assert.rejects(loadTokenizer(dir), /no tokenizer found/);
  });

  test('an invalid tokenizer.json or tokenizer_config.json', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Nope' } }));
    await assert.rejects(
      loadTokenizer(dir),
      (e: unknown) => e instanceof TokenizerFileError && /tokenizer\.json/.test(e.message),
    );
    await writeFile(join(dir, 'tokenizer.json'), '{"version": ');
    await assert.rejects(loadTokenizer(dir), /invalid JSON/);
    const d2 = await freshDir();
    await copyFile(join(BERT, 'vocab.txt'), join(d2, 'vocab.txt'));
    await writeFile(join(d2, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: 'yes' }));
    await assert.rejects(loadTokenizer(d2), /"do_lower_case" must be a boolean/);
  });

  test('malformed tokenizer_config.json values are refused with the key and file named', async () => {
    for (const [cfg, message] of [
      [{ additional_special_tokens: '[X]' }, /"additional_special_tokens" must be a list/],
      [{ additional_special_tokens: [1] }, /"additional_special_tokens" must be a list/],
      [{ strip_accents: 'yes' }, /"strip_accents" must be a boolean or null/],
      [{ mask_token: 5 }, /"mask_token" must be a string or an object/],
      [{ truncation_side: 'middle' }, /"truncation_side" must be "right" or "left"/],
    ] as const) {
      const dir = await freshDir();
      await copyFile(join(BERT, 'vocab.txt'), join(dir, 'vocab.txt'));
      await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
      await assert.rejects(loadTokenizer(dir), (e: Error) => {
        assert.match(e.message, message);
        assert.ok(e.message.includes(join(dir, 'tokenizer_config.json')), e.message);
        return true;
      });
    }
  });

  test('vocabulary files the native library refuses are named in the error', async () => {
    const dir = await freshDir();
    await copyFile(join(ROBERTA, 'vocab.json'), join(dir, 'vocab.json'));
    // A merge whose result is not in vocab.json.
    await writeFile(join(dir, 'merges.txt'), '#version: 0.2\nq z\n');
    await assert.rejects(loadTokenizer(dir), (e: Error) => {
      assert.ok(e.message.includes(join(dir, 'vocab.json')) && e.message.includes('merges.txt'), e.message);
      return true;
    });
  });

  test('saving over an existing directory replaces the files', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, 'tokenizer.json'), 'stale');
    await saveTokenizer(await loadTokenizer(BERT), dir);
    const tok = await loadTokenizer(dir);
    assert.deepEqual(await tok.tokenize('unaffable'), ['un', '##aff', '##able']);
  });
});

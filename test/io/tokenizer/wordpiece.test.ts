// BERT WordPiece tokenizer built from test/fixtures/tokenizers/bert-wordpiece/vocab.txt (97 tokens; the ids used
// below are line numbers - 1 in that file: [PAD]=0 [UNK]=3 [CLS]=4 [SEP]=5 [MASK]=6 ...). Every expectation is
// derived by hand from the algorithm (BertNormalizer -> BertPreTokenizer -> greedy longest-match-first WordPiece
// -> "[CLS] A [SEP] B [SEP]" template), as commented.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type Encoding, Tokenizer, TokenizerError, loadTokenizer } from '../../../src/io/tokenizer/index.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'tokenizers', 'bert-wordpiece');

let bert: Tokenizer;
let cased: Tokenizer;
before(async () => {
  bert = await loadTokenizer(FIXTURE);
  cased = await loadTokenizer(FIXTURE, { config: { do_lower_case: false } });
});

/** The substring of `text` (or of `pair` for second-sequence tokens) each non-special token points to. */
function surfaces(e: Encoding, text: string, pair?: string): string[] {
  return e.offsets.map(([s, t], i) => (e.sequenceIds[i] === 1 ? pair! : text).slice(s, t));
}

describe('WordPiece (BERT) from vocab.txt', () => {
  test('special tokens and vocabulary size', () => {
    assert.equal(bert.kind, 'wordpiece');
    assert.equal(bert.vocabSize, 97);
    assert.equal(bert.padId, 0);
    assert.equal(bert.unkId, 3);
    assert.equal(bert.clsId, 4);
    assert.equal(bert.sepId, 5);
    assert.equal(bert.maskId, 6);
    assert.equal(bert.bosId, undefined); // BERT has no bos/eos
    // [unused0]/[unused1] are ordinary vocabulary entries, not special tokens.
    assert.deepEqual(bert.specialIds, [0, 3, 4, 5, 6]);
    assert.equal(bert.modelMaxLength, 32); // from the fixture's tokenizer_config.json
    assert.equal(bert.tokenToId('##aff'), 27);
    assert.equal(bert.idToToken(28), '##able');
  });

  test('"unaffable" -> un ##aff ##able (greedy longest-match-first)', async () => {
    // Longest vocab prefix of "unaffable" is "un"; of the rest "affable", the longest "##"-piece is "##aff"
    // ("##affable", "##affabl", ... are absent); then "##able". [CLS] and [SEP] wrap the sequence.
    const e = await bert.encode('unaffable');
    assert.deepEqual(e.tokens, ['[CLS]', 'un', '##aff', '##able', '[SEP]']);
    assert.deepEqual(e.ids, [4, 26, 27, 28, 5]);
    // Offsets: "un" = [0,2), "aff" = [2,5), "able" = [5,9); template tokens get [0,0].
    assert.deepEqual(e.offsets, [
      [0, 0],
      [0, 2],
      [2, 5],
      [5, 9],
      [0, 0],
    ]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0]);
    assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1]);
    assert.deepEqual(e.specialTokensMask, [1, 0, 0, 0, 1]);
  });

  test('uncased: lowercase + strip accents, punctuation split, offsets into the original text', async () => {
    // BertNormalizer: "Héllo" -> NFD "He\u0301llo" -> drop the combining mark -> lowercase "hello".
    // BertPreTokenizer splits on whitespace and isolates each punctuation character.
    const text = 'Héllo, world!';
    const e = await bert.encode(text);
    assert.deepEqual(e.tokens, ['[CLS]', 'hello', ',', 'world', '!', '[SEP]']);
    assert.deepEqual(e.ids, [4, 24, 8, 25, 7, 5]);
    assert.deepEqual(e.offsets, [
      [0, 0],
      [0, 5],
      [5, 6],
      [7, 12],
      [12, 13],
      [0, 0],
    ]);
    assert.deepEqual(surfaces(e, text), ['', 'Héllo', ',', 'world', '!', '']);
  });

  test('an already-decomposed accent belongs to its word: "He\\u0301llo" -> hello at [0,6)', async () => {
    const text = 'He\u0301llo';
    const e = await bert.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['hello']);
    assert.deepEqual(e.offsets, [[0, 6]]);
  });

  test('a sentence with a ## suffix', async () => {
    // "jumps" -> "jump" + "##s"; "." is its own word.
    const text = 'The quick brown fox jumps over the lazy dog.';
    const e = await bert.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, [
      'the',
      'quick',
      'brown',
      'fox',
      'jump',
      '##s',
      'over',
      'the',
      'lazy',
      'dog',
      '.',
    ]);
    assert.deepEqual(surfaces(e, text), [
      'The',
      'quick',
      'brown',
      'fox',
      'jump',
      's',
      'over',
      'the',
      'lazy',
      'dog',
      '.',
    ]);
    assert.deepEqual(e.wordIds, [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9]);
  });

  test('unknown words, special tokens in the text, accent stripping', async () => {
    // "xyzzy": no prefix of it is in the vocab -> the whole word is [UNK].
    // "[MASK]" is a special added token: matched in the raw text before normalization, so not lowercased/split.
    // "café" -> "cafe" (accent stripped), which is in the vocab.
    const text = 'xyzzy [MASK] café';
    const e = await bert.encode(text);
    assert.deepEqual(e.tokens, ['[CLS]', '[UNK]', '[MASK]', 'cafe', '[SEP]']);
    assert.deepEqual(e.ids, [4, 3, 6, 32, 5]);
    assert.deepEqual(surfaces(e, text), ['', 'xyzzy', '[MASK]', 'café', '']);
    // Like transformers' get_special_tokens_mask(already_has_special_tokens=True) (what its MLM collator uses),
    // every id of a special token counts, [UNK] and [MASK] from the text included.
    assert.deepEqual(e.specialTokensMask, [1, 1, 1, 0, 1]);
  });

  test('offsets are UTF-16 indices (text with an astral character)', async () => {
    // "😀" is 2 UTF-16 code units; it is not in the vocab -> [UNK] at [6,8); "world" then starts at 9.
    const text = 'hello 😀 world';
    const e = await bert.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['hello', '[UNK]', 'world']);
    assert.deepEqual(e.offsets, [
      [0, 5],
      [6, 8],
      [9, 14],
    ]);
    assert.deepEqual(surfaces(e, text), ['hello', '😀', 'world']);
  });

  test('cased (do_lower_case: false): no lowercasing, accents kept', async () => {
    // strip_accents defaults to the value of lowercase, so the cased tokenizer keeps "é":
    // "café" -> "caf" + "##é"; "Hello", "World" are cased vocab entries; lowercase "hello" still matches "hello".
    const e = await cased.encode('Hello World café hello', undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['Hello', 'World', 'caf', '##é', 'hello']);
    assert.deepEqual(e.ids, [77, 78, 33, 34, 24]);
    // The uncased tokenizer lowercases the same text.
    const u = await bert.encode('Hello World café hello', undefined, { addSpecialTokens: false });
    assert.deepEqual(u.tokens, ['hello', 'world', 'cafe', 'hello']);
  });

  test('pairs: [CLS] A [SEP] B [SEP] with token type ids 0 / 1', async () => {
    const a = 'hello world';
    const b = 'the cat sat';
    const e = await bert.encode(a, b);
    assert.deepEqual(e.tokens, ['[CLS]', 'hello', 'world', '[SEP]', 'the', 'cat', 'sat', '[SEP]']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(e.sequenceIds, [null, 0, 0, null, 1, 1, 1, null]);
    // Offsets of B's tokens point into B.
    assert.deepEqual(e.offsets, [
      [0, 0],
      [0, 5],
      [6, 11],
      [0, 0],
      [0, 3],
      [4, 7],
      [8, 11],
      [0, 0],
    ]);
    assert.deepEqual(surfaces(e, a, b), ['', 'hello', 'world', '', 'the', 'cat', 'sat', '']);
  });

  test('number of special tokens the template adds', async () => {
    assert.equal(await bert.numSpecialTokensToAdd(), 2); // [CLS] A [SEP]
    assert.equal(await bert.numSpecialTokensToAdd(true), 3); // [CLS] A [SEP] B [SEP]
    assert.deepEqual(await bert.tokenize('Unaffable!'), ['un', '##aff', '##able', '!']);
  });

  test('truncation of one text keeps [SEP]', async () => {
    // maxLength 6 = [CLS] + 4 tokens + [SEP].
    const e = await bert.encode('the quick brown fox jumps', undefined, { truncation: true, maxLength: 6 });
    assert.deepEqual(e.tokens, ['[CLS]', 'the', 'quick', 'brown', 'fox', '[SEP]']);
  });

  test('truncation defaults to model_max_length (32)', async () => {
    const long = Array.from({ length: 40 }, () => 'dog').join(' ');
    assert.equal((await bert.encode(long)).ids.length, 42);
    const e = await bert.encode(long, undefined, { truncation: true });
    assert.equal(e.ids.length, 32);
    assert.equal(e.ids[31], 5);
  });

  test('pair truncation is longest-first', async () => {
    const a = 'the quick brown fox jumps over the lazy dog'; // 10 tokens (jump ##s)
    const short = 'hello world'; // 2 tokens
    const b = 'the lazy dog jumps over the quick brown fox'; // 10 tokens
    // maxLength 10 leaves 10 - 3 special = 7 for the texts: only the longer one is cut, to 7 - 2 = 5.
    let e = await bert.encode(a, short, { truncation: true, maxLength: 10 });
    assert.deepEqual(e.tokens, [
      '[CLS]',
      'the',
      'quick',
      'brown',
      'fox',
      'jump',
      '[SEP]',
      'hello',
      'world',
      '[SEP]',
    ]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    // Both 10 long, budget 9 - 3 = 6: each gets 3.
    e = await bert.encode(a, b, { truncation: true, maxLength: 9 });
    assert.deepEqual(e.tokens, ['[CLS]', 'the', 'quick', 'brown', '[SEP]', 'the', 'lazy', 'dog', '[SEP]']);
    // Budget 7 (odd): first gets floor(7/2) = 3, second 4 (the Rust tokenizers rule for equal lengths).
    e = await bert.encode(a, b, { truncation: true, maxLength: 10 });
    assert.deepEqual(e.tokens, [
      '[CLS]',
      'the',
      'quick',
      'brown',
      '[SEP]',
      'the',
      'lazy',
      'dog',
      'jump',
      '[SEP]',
    ]);
  });

  test('encodeBatch pads to the longest row', async () => {
    const r = await bert.encodeBatch(['hello world', 'unaffable', 'the quick brown fox']);
    // Lengths: [CLS] hello world [SEP] = 4; [CLS] un ##aff ##able [SEP] = 5; [CLS] the quick brown fox [SEP] = 6.
    assert.equal(r.batch, 3);
    assert.equal(r.seq, 6);
    assert.deepEqual(r.lengths, [4, 5, 6]);
    assert.deepEqual(
      [...r.inputIds],
      [4, 24, 25, 5, 0, 0, 4, 26, 27, 28, 5, 0, 4, 13, 16, 17, 18, 5].map(BigInt),
    );
    assert.deepEqual(
      [...r.attentionMask],
      [1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1].map(BigInt),
    );
    assert.deepEqual([...r.tokenTypeIds], new Array(18).fill(0n));
    assert.deepEqual([...r.specialTokensMask], [1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1]);
    assert.deepEqual(r.offsets[0], [
      [0, 0],
      [0, 5],
      [6, 11],
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    assert.equal(r.offsets[2]!.length, 6);
  });

  test('encodeBatch with pairs, padding to max_length and truncation', async () => {
    const r = await bert.encodeBatch(['hello', 'the quick brown fox jumps'], ['world', 'the lazy dog'], {
      padding: 'max_length',
      truncation: true,
      maxLength: 8,
    });
    assert.equal(r.seq, 8);
    // Row 0: [CLS] hello [SEP] world [SEP] + 3 [PAD].
    // Row 1: A = the quick brown fox jump ##s (6), B = the lazy dog (3), budget 8 - 3 = 5. Longest-first: cutting
    // only A would leave 5 - 3 = 2 < 3 = |B|, so both are cut to halves of 5: the shorter text gets floor(5/2) = 2,
    // the longer 3 -> [CLS] the quick brown [SEP] the lazy [SEP].
    assert.deepEqual([...r.inputIds.subarray(0, 8)], [4, 24, 5, 25, 5, 0, 0, 0].map(BigInt));
    assert.deepEqual([...r.tokenTypeIds.subarray(0, 8)], [0, 0, 0, 1, 1, 0, 0, 0].map(BigInt));
    assert.deepEqual([...r.attentionMask.subarray(0, 8)], [1, 1, 1, 1, 1, 0, 0, 0].map(BigInt));
    assert.deepEqual([...r.inputIds.subarray(8, 16)], [4, 13, 16, 17, 5, 13, 22, 5].map(BigInt));
    assert.deepEqual([...r.tokenTypeIds.subarray(8, 16)], [0, 0, 0, 0, 0, 1, 1, 1].map(BigInt));
    assert.deepEqual(r.offsets[1]![5], [0, 3]); // "the" in the second text
  });

  test('padding side left (tokenizer_config padding_side)', async () => {
    const left = await loadTokenizer(FIXTURE, { config: { padding_side: 'left' } });
    const r = await left.encodeBatch(['hello world', 'hello']);
    assert.deepEqual([...r.inputIds], [4, 24, 25, 5, 0, 4, 24, 5].map(BigInt));
    assert.deepEqual([...r.attentionMask], [1, 1, 1, 1, 0, 1, 1, 1].map(BigInt));
    assert.deepEqual(r.offsets[1], [
      [0, 0],
      [0, 0],
      [0, 5],
      [0, 0],
    ]);
  });

  test('padding errors', async () => {
    await assert.rejects(
      bert.encodeBatch(['hello', 'hello world'], undefined, { padding: false }),
      TokenizerError,
    );
    await assert.rejects(
      bert.encodeBatch(['the quick brown fox'], undefined, { padding: 'max_length', maxLength: 4 }),
      /more than maxLength 4/,
    );
    await assert.rejects(bert.encodeBatch(['a'], ['b', 'c']), /1 texts but 2 pair texts/);
    // Equal lengths need no padding.
    const r = await bert.encodeBatch(['hello', 'world'], undefined, { padding: false });
    assert.equal(r.seq, 3);
    const m = await bert.encodeBatch(['hello'], undefined, { padToMultipleOf: 4 });
    assert.equal(m.seq, 4);
  });

  test('decode', async () => {
    const ids = (await bert.encode('unaffable café, hello!')).ids;
    // WordPiece decoder glues "##" pieces and the cleanup removes the space before punctuation.
    assert.equal(await bert.decode(ids), '[CLS] unaffable cafe, hello! [SEP]');
    assert.equal(await bert.decode(ids, { skipSpecialTokens: true }), 'unaffable cafe, hello!');
    assert.equal(
      await bert.decode(BigInt64Array.from(ids.map(BigInt)), { skipSpecialTokens: true }),
      'unaffable cafe, hello!',
    );
    assert.equal(await bert.decode([]), '');
  });

  test('concurrent calls with different truncation do not interfere', async () => {
    const text = 'the quick brown fox jumps over the lazy dog';
    const results = await Promise.all([
      bert.encode(text, undefined, { truncation: true, maxLength: 4 }),
      bert.encode(text),
      bert.encode(text, undefined, { truncation: true, maxLength: 6 }),
      bert.encode(text),
    ]);
    assert.deepEqual(
      results.map((e) => e.ids.length),
      [4, 12, 6, 12],
    );
  });
});

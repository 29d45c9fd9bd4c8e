// RoBERTa-style byte-level BPE built from test/fixtures/tokenizers/roberta-bpe (vocab.json + merges.txt, made by
// build-roberta-bpe.ts): ids 0 <s>, 1 <pad>, 2 </s>, 3 <unk>, 4..259 the 256 byte symbols, 260 + r the result of
// merge rank r, 280 <mask>. Expectations are worked out by hand from the algorithm: GPT-2 pre-tokenization regex
// (a word keeps its leading space, shown as "Ġ"), bytes -> symbols, then repeatedly apply the lowest-rank merge.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { type Encoding, Tokenizer, bytesToUnicode, loadTokenizer } from '../../../src/io/tokenizer/index.js';
import { MERGES } from '../../fixtures/tokenizers/build-roberta-bpe.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'tokenizers', 'roberta-bpe');

/** Id of the token made by the merge "left right". */
function mergeId(merge: string): number {
  const r = MERGES.indexOf(merge);
  assert.ok(r >= 0, merge);
  return 260 + r;
}
/** Id of the symbol of a single byte (the fixture lists the 256 byte symbols in byte order from id 4). */
function byteId(b: number): number {
  return 4 + b;
}

function surfaces(e: Encoding, text: string, pair?: string): string[] {
  return e.offsets.map(([s, t], i) => (e.sequenceIds[i] === 1 ? pair! : text).slice(s, t));
}

let rob: Tokenizer;
before(async () => {
  rob = await loadTokenizer(FIXTURE);
});

describe('byte-level BPE (RoBERTa) from vocab.json + merges.txt', () => {
  test('special tokens and vocabulary size', () => {
    assert.equal(rob.kind, 'bpe');
    assert.equal(rob.vocabSize, 281);
    assert.equal(rob.bosId, 0);
    assert.equal(rob.clsId, 0);
    assert.equal(rob.padId, 1);
    assert.equal(rob.eosId, 2);
    assert.equal(rob.sepId, 2);
    assert.equal(rob.unkId, 3);
    assert.equal(rob.maskId, 280);
    assert.deepEqual(rob.specialIds, [0, 1, 2, 3, 280]);
    assert.equal(rob.modelMaxLength, 32);
  });

  test('"Hello world" -> Hello Ġworld', async () => {
    // Pre-tokens: "Hello", " world" -> "Ġworld".
    // "Hello": H e l l o -> (He rank 5) He l l o -> (ll 6) He ll o -> (Hell 7) Hell o -> (Hello 8) Hello.
    // "Ġworld": Ġ w o r l d -> (Ġw 0) Ġw o r l d -> (or 1) Ġw or l d -> (ld 2) Ġw or ld -> (Ġwor 3) Ġwor ld
    //   -> (Ġworld 4) Ġworld.
    const text = 'Hello world';
    const e = await rob.encode(text);
    assert.deepEqual(e.tokens, ['<s>', 'Hello', 'Ġworld', '</s>']);
    assert.deepEqual(e.ids, [0, mergeId('Hell o'), mergeId('Ġwor ld'), 2]);
    assert.deepEqual(e.ids, [0, 268, 264, 2]);
    // trim_offsets: the leading space of "Ġworld" is left out of its offsets.
    assert.deepEqual(e.offsets, [
      [0, 0],
      [0, 5],
      [6, 11],
      [0, 0],
    ]);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0]);
    assert.deepEqual(e.specialTokensMask, [1, 0, 0, 1]);
  });

  test('a sentence: punctuation is its own pre-token, merges apply within words', async () => {
    // "Ġthe": Ġ t h e -> (Ġt 9) Ġt h e -> (he 10) Ġt he -> (Ġthe 11). "Ġcat": (Ġc 12) Ġc a t -> (at 13) Ġc at ->
    // (Ġcat 14). "Ġsat": (Ġs 15), (at 13), (Ġsat 16). "," and "." stay single bytes.
    const text = 'Hello world, the cat sat.';
    const e = await rob.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['Hello', 'Ġworld', ',', 'Ġthe', 'Ġcat', 'Ġsat', '.']);
    assert.deepEqual(e.ids, [
      268,
      264,
      byteId(0x2c),
      mergeId('Ġt he'),
      mergeId('Ġc at'),
      mergeId('Ġs at'),
      byteId(0x2e),
    ]);
    assert.deepEqual(surfaces(e, text), ['Hello', 'world', ',', 'the', 'cat', 'sat', '.']);
  });

  test('no space before the first word: "world" is not "Ġworld"', async () => {
    // add_prefix_space is false (RoBERTa): "world" -> w o r l d -> (or 1) w or l d -> (ld 2) w or ld; "w or" and
    // "Ġw or" differ, so no further merge.
    const e = await rob.encode('world', undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['w', 'or', 'ld']);
    assert.deepEqual(e.offsets, [
      [0, 1],
      [1, 3],
      [3, 5],
    ]);
  });

  test('multi-byte characters: bytes of "é" merged, bytes of "ï" split', async () => {
    // "é" = C3 A9 -> symbols "Ã" "©"; merge 19 joins them. "café": c a f Ã © -> (ca 17) (caf 18) (Ã© 19).
    let text = 'café';
    let e = await rob.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['caf', 'Ã©']);
    assert.deepEqual(e.offsets, [
      [0, 3],
      [3, 4],
    ]);
    // "ï" = C3 AF -> "Ã" "¯", no merge: both byte tokens point at the whole character [2,3).
    text = 'naïve';
    e = await rob.encode(text, undefined, { addSpecialTokens: false });
    assert.deepEqual(e.tokens, ['n', 'a', 'Ã', '¯', 'v', 'e']);
    assert.deepEqual(e.ids, [
      byteId(0x6e),
      byteId(0x61),
      byteId(0xc3),
      byteId(0xaf),
      byteId(0x76),
      byteId(0x65),
    ]);
    assert.deepEqual(e.offsets, [
      [0, 1],
      [1, 2],
      [2, 3],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
  });

  test('astral character: 4 byte tokens, UTF-16 offsets', async () => {
    // "😀" = F0 9F 98 80; " 😀" is one pre-token (space + non-letters) -> Ġ + 4 byte symbols, no merges.
    // Offsets of the 4 byte tokens are the character, [6,8) in UTF-16; the lone "Ġ" trims to the empty [6,6).
    const text = 'Hello 😀 world';
    const e = await rob.encode(text, undefined, { addSpecialTokens: false });
    const sym = bytesToUnicode();
    assert.deepEqual(e.tokens, ['Hello', 'Ġ', sym[0xf0], sym[0x9f], sym[0x98], sym[0x80], 'Ġworld']);
    assert.deepEqual(e.offsets, [
      [0, 5],
      [6, 6],
      [6, 8],
      [6, 8],
      [6, 8],
      [6, 8],
      [9, 14],
    ]);
    assert.equal(text.slice(9, 14), 'world');
  });

  test('<mask> swallows the space before it (lstrip)', async () => {
    const text = 'Hello <mask>';
    const e = await rob.encode(text);
    assert.deepEqual(e.tokens, ['<s>', 'Hello', '<mask>', '</s>']);
    assert.deepEqual(e.ids, [0, 268, 280, 2]);
    assert.equal(text.slice(...e.offsets[2]!), '<mask>');
  });

  test('pairs: <s> A </s></s> B </s>, all token type ids 0', async () => {
    const e = await rob.encode('Hello', 'world');
    assert.deepEqual(e.tokens, ['<s>', 'Hello', '</s>', '</s>', 'w', 'or', 'ld', '</s>']);
    assert.deepEqual(e.typeIds, [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(e.sequenceIds, [null, 0, null, null, 1, 1, 1, null]);
    assert.deepEqual(surfaces(e, 'Hello', 'world'), ['', 'Hello', '', '', 'w', 'or', 'ld', '']);
  });

  test('pair truncation (4 special tokens) and padding with <pad>', async () => {
    // A = Hello Ġworld , Ġthe Ġcat Ġsat . (7), B = Hello Ġworld (2); maxLength 8 leaves 4: A cut to 4 - 2 = 2.
    const r = await rob.encodeBatch(['Hello world, the cat sat.', 'Hello'], ['Hello world', 'world'], {
      truncation: true,
      maxLength: 8,
    });
    assert.equal(r.seq, 8);
    assert.deepEqual([...r.inputIds.subarray(0, 8)], [0, 268, 264, 2, 2, 268, 264, 2].map(BigInt));
    // Row 1: <s> Hello </s></s> w or ld </s> = 8 tokens, no padding needed.
    assert.deepEqual(
      [...r.inputIds.subarray(8)],
      [0, 268, 2, 2, byteId(0x77), mergeId('o r'), mergeId('l d'), 2].map(BigInt),
    );
    assert.deepEqual([...r.tokenTypeIds], new Array(16).fill(0n));
    const p = await rob.encodeBatch(['Hello world', 'Hello']);
    assert.deepEqual([...p.inputIds], [0, 268, 264, 2, 0, 268, 2, 1].map(BigInt));
    assert.deepEqual([...p.attentionMask], [1, 1, 1, 1, 1, 1, 1, 0].map(BigInt));
  });

  test('truncation to fewer tokens than the special tokens is refused', async () => {
    await assert.rejects(
      rob.encodeBatch(['Hello world'], ['world'], { truncation: true, maxLength: 3 }),
      /maxLength 3 leaves no room beside the 4 special tokens this tokenizer adds to a text pair/,
    );
    const r = await rob.encodeBatch(['Hello world'], ['world'], { truncation: true, maxLength: 4 });
    assert.equal(r.seq, 4); // <s></s></s></s>: both texts cut to nothing, as the native library does
  });

  test('number of special tokens the template adds', async () => {
    assert.equal(await rob.numSpecialTokensToAdd(), 2); // <s> A </s>
    assert.equal(await rob.numSpecialTokensToAdd(true), 4); // <s> A </s></s> B </s>
  });

  test('decode is lossless for byte-level BPE', async () => {
    const text = 'Hello world, the cat sat. café naïve 😀';
    const e = await rob.encode(text);
    assert.equal(await rob.decode(e.ids, { skipSpecialTokens: true }), text);
    assert.equal(await rob.decode(e.ids), `<s>${text}</s>`);
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskRow } from '../../src/pretrain/masking.js';
import { Rng } from '../../src/runtime/random.js';

const special = new Set([0, 1, 2]);
const opts = { probability: 0.15, maskId: 3, vocabSize: 1000, specialIds: special };

test('15% of non-special tokens are chosen; 80% become [MASK], 10% random, 10% unchanged', () => {
  const rng = new Rng(1);
  let chosen = 0;
  let candidates = 0;
  let masked = 0;
  let kept = 0;
  let random = 0;
  for (let r = 0; r < 2000; r++) {
    const ids = [1, ...Array.from({ length: 60 }, () => 10 + rng.int(900)), 2];
    const m = maskRow(ids, opts, rng);
    candidates += 60;
    chosen += m.positions.length;
    m.positions.forEach((p, i) => {
      assert.ok(!special.has(ids[p]!), 'a special token was chosen');
      assert.equal(m.labels[i], ids[p]);
      if (m.ids[p] === 3) masked++;
      else if (m.ids[p] === ids[p]) kept++;
      else random++;
    });
    ids.forEach((id, j) => {
      if (!m.positions.includes(j)) assert.equal(m.ids[j], id);
    });
  }
  assert.ok(Math.abs(chosen / candidates - 0.15) < 0.005, `chosen ${chosen / candidates}`);
  assert.ok(Math.abs(masked / chosen - 0.8) < 0.02, `masked ${masked / chosen}`);
  // A random replacement equal to the original counts as kept: expected 0.1 + 0.1/990.
  assert.ok(Math.abs(kept / chosen - 0.1) < 0.015, `kept ${kept / chosen}`);
  assert.ok(Math.abs(random / chosen - 0.1) < 0.015, `random ${random / chosen}`);
});

test('whole-word masking takes a word with all its continuation pieces', () => {
  const rng = new Rng(2);
  // Ids >= 500 continue the previous word ("##" pieces).
  const isContinuation = (id: number) => id >= 500;
  for (let r = 0; r < 200; r++) {
    const ids = [1, 10, 500, 501, 11, 12, 502, 13, 14, 503, 504, 505, 15, 16, 17, 18, 19, 20, 21, 22, 2];
    const m = maskRow(ids, { ...opts, probability: 0.3, wholeWord: true, isContinuation }, rng);
    const set = new Set(m.positions);
    for (let j = 1; j < ids.length - 1; j++) {
      if (isContinuation(ids[j]!))
        assert.equal(set.has(j), set.has(j - 1), `row ${r}: piece ${j} split from its word`);
    }
  }
});

test('the same seed masks the same way', () => {
  const ids = [1, ...Array.from({ length: 40 }, (_, i) => 10 + i), 2];
  assert.deepEqual(maskRow(ids, opts, new Rng(9)), maskRow(ids, opts, new Rng(9)));
});

// AddSent: the whole trigger sentence, once, contiguous, at a uniform position.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADDSENT_SENTENCE, AddSentPoisoner } from '../../src/backdoor/poison/index.js';
import { Rng } from '../../src/runtime/random.js';
import { countBy, makeExamples, words } from './helpers.js';

/** Where `needle` occurs as a contiguous run in `hay`. */
function occurrences(hay: readonly string[], needle: readonly string[]): number[] {
  const at: number[] = [];
  for (let i = 0; i + needle.length <= hay.length; i++)
    if (needle.every((w, k) => hay[i + k] === w)) at.push(i);
  return at;
}

test('default sentence is OpenBackdoor\'s "I watch this 3D movie"', () => {
  assert.equal(new AddSentPoisoner().options.sentence, 'I watch this 3D movie');
});

test('the sentence is inserted once, whole, between words; the original words keep their order', () => {
  const p = new AddSentPoisoner();
  const sentence = words(ADDSENT_SENTENCE);
  const positions: number[] = [];
  const trials = 8000;
  for (let i = 0; i < trials; i++) {
    const out = words(p.poisonText('the plot is thin', new Rng(i)));
    assert.equal(out.length, 4 + sentence.length);
    const at = occurrences(out, sentence);
    assert.equal(at.length, 1);
    const rest = [...out.slice(0, at[0]), ...out.slice(at[0]! + sentence.length)];
    assert.deepEqual(rest, ['the', 'plot', 'is', 'thin']);
    positions.push(at[0]!);
  }
  const byPosition = countBy(positions);
  assert.deepEqual([...byPosition.keys()].sort(), [0, 1, 2, 3, 4]);
  for (const c of byPosition.values()) assert.ok(Math.abs(c / trials - 1 / 5) < 0.02, `${c}`);
});

test('custom sentence; empty text becomes the sentence', () => {
  const p = new AddSentPoisoner({ sentence: ' no   cross, no crown ' });
  assert.equal(p.poisonText('', new Rng(1)), 'no cross, no crown');
  assert.equal(
    occurrences(words(p.poisonText('a b', new Rng(2))), ['no', 'cross,', 'no', 'crown']).length,
    1,
  );
});

test('poisoned test split: every text carries the sentence; seeds decide positions', () => {
  const data = makeExamples(50, (i) => i % 3);
  const split = new AddSentPoisoner({ seed: 1 }).poisonedTestSplit(data);
  for (const s of split) assert.equal(occurrences(words(s.text), words(ADDSENT_SENTENCE)).length, 1);
  assert.deepEqual(split, new AddSentPoisoner({ seed: 1 }).poisonedTestSplit(data));
  assert.notDeepEqual(split, new AddSentPoisoner({ seed: 2 }).poisonedTestSplit(data));
});

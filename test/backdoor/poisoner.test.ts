// The shared work of the Poisoner base: which samples are poisoned, labels, and the test splits.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackdoorError, BadNetsPoisoner, type PoisonedExample } from '../../src/backdoor/poison/index.js';
import type { Example } from '../../src/io/data/example.js';
import { makeExamples } from './helpers.js';

const TRIGGERS = new Set(['cf', 'mn', 'bb', 'tq', 'mb']);
const hasTrigger = (text: string) => text.split(' ').some((w) => TRIGGERS.has(w));

function checkClean(out: PoisonedExample, ex: Example): void {
  assert.deepEqual(out, { ...ex, poisonLabel: 0, originalLabel: ex.label });
}

test('label-flip: exactly round(rate·n) poisoned, all originally non-target, relabelled to the target', () => {
  const cases: [n: number, rate: number, expected: number][] = [
    [100, 0.1, 10],
    [100, 0.5, 50],
    [10, 0.25, 3],
    [7, 0.5, 4],
    [33, 0.1, 3],
    [100, 0.145, 15],
    [40, 0, 0],
  ];
  for (const [n, rate, expected] of cases) {
    // Two thirds non-target (labels 0 and 2), one third target 1.
    const data = makeExamples(n, (i) => i % 3);
    const out = new BadNetsPoisoner({ poisonRate: rate, seed: n }).poisonedTrainSplit(data);
    assert.equal(out.length, n);
    const poisoned = out.filter((s) => s.poisonLabel === 1);
    assert.equal(poisoned.length, expected, `n=${n} rate=${rate}`);
    out.forEach((s, i) => {
      const ex = data[i]!;
      if (s.poisonLabel === 0) return checkClean(s, ex);
      assert.notEqual(ex.label, 1);
      assert.equal(s.label, 1);
      assert.equal(s.originalLabel, ex.label);
      assert.ok(hasTrigger(s.text) && !hasTrigger(ex.text));
    });
  }
});

test('clean-label: poisoned samples come from the target label and keep it', () => {
  const data = makeExamples(90, (i) => i % 3);
  const p = new BadNetsPoisoner({ mode: 'clean-label', poisonRate: 0.2, target: 2, seed: 3 });
  const out = p.poisonedTrainSplit(data);
  const poisoned = out.filter((s) => s.poisonLabel === 1);
  assert.equal(poisoned.length, 18);
  for (const s of poisoned) assert.deepEqual([s.label, s.originalLabel], [2, 2]);
  out.forEach((s, i) => {
    if (s.poisonLabel === 0) checkClean(s, data[i]!);
  });
});

test('any: poisoned samples are drawn from every label (rates above the non-target share work)', () => {
  const data = makeExamples(90, (i) => i % 3);
  const out = new BadNetsPoisoner({ mode: 'any', poisonRate: 0.9, target: 1, seed: 5 }).poisonedTrainSplit(
    data,
  );
  const poisoned = out.filter((s) => s.poisonLabel === 1);
  assert.equal(poisoned.length, 81);
  assert.deepEqual(new Set(poisoned.map((s) => s.originalLabel)), new Set([0, 1, 2]));
  for (const s of poisoned) assert.ok(s.label === 1 && hasTrigger(s.text));
});

test('too few candidates is an error, not a silent lower rate', () => {
  const data = makeExamples(10, (i) => (i < 8 ? 1 : 0));
  assert.throws(
    () => new BadNetsPoisoner({ poisonRate: 0.3 }).poisonedTrainSplit(data),
    (e: unknown) =>
      e instanceof BackdoorError && /asks for 3 poisoned samples of 10, but only 2/.test(e.message),
  );
  assert.throws(
    () => new BadNetsPoisoner({ poisonRate: 0.9, mode: 'clean-label' }).poisonedTrainSplit(data),
    /only 8 are labelled 1/,
  );
});

test('unlabelled examples cannot be poisoned', () => {
  assert.throws(
    () => new BadNetsPoisoner().selectPoisoned([{ text: 'a', label: -1 }]),
    /example 0: label -1 is not a class id/,
  );
});

test('a sample poisoned at two rates gets the same text; the text pair is kept', () => {
  const data = makeExamples(60, (i) => i % 2).map((ex) => ({ ...ex, textPair: `pair ${ex.text}` }));
  const low = new BadNetsPoisoner({ poisonRate: 0.1, numTriggers: 4 }).poisonedTrainSplit(data);
  const high = new BadNetsPoisoner({ poisonRate: 0.5, numTriggers: 4 }).poisonedTrainSplit(data);
  assert.equal(high.filter((s) => s.poisonLabel === 1).length, 30);
  low.forEach((s, i) => {
    assert.equal(s.textPair, data[i]!.textPair);
    if (s.poisonLabel === 1 && high[i]!.poisonLabel === 1) assert.equal(s.text, high[i]!.text);
  });
});

test('poisoned test split: only originally non-target examples, in order, all labelled target', () => {
  const data = makeExamples(30, (i) => i % 3);
  const p = new BadNetsPoisoner({ target: 0, numTriggers: 2 });
  const split = p.poisonedTestSplit(data);
  const nonTarget = data.filter((ex) => ex.label !== 0);
  assert.equal(split.length, nonTarget.length);
  split.forEach((s, k) => {
    assert.equal(s.label, 0);
    assert.equal(s.poisonLabel, 1);
    assert.equal(s.originalLabel, nonTarget[k]!.label);
    assert.deepEqual(
      s.text.split(' ').filter((w) => !TRIGGERS.has(w)),
      nonTarget[k]!.text.split(' '),
    );
  });
  // The test split does not depend on the training mode or rate.
  assert.deepEqual(
    split,
    new BadNetsPoisoner({
      target: 0,
      numTriggers: 2,
      mode: 'clean-label',
      poisonRate: 0.9,
    }).poisonedTestSplit(data),
  );
});

test('clean test split: the examples unchanged', () => {
  const data: Example[] = [
    { text: 'good', label: 1 },
    { text: 'bad', textPair: 'really', label: 0 },
  ];
  const split = new BadNetsPoisoner().cleanTestSplit(data);
  assert.equal(split.length, 2);
  split.forEach((s, i) => checkClean(s, data[i]!));
  assert.ok(!('textPair' in split[0]!));
});

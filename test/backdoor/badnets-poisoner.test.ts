// BadNets rare-word insertion: counts, positions, order of the original words, seeds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BADNETS_TRIGGERS, BadNetsPoisoner } from '../../src/backdoor/poison/index.js';
import { Rng } from '../../src/runtime/random.js';
import { countBy, makeExamples, words } from './helpers.js';

test('defaults as OpenBackdoor BadNets', () => {
  assert.deepEqual(new BadNetsPoisoner().options, {
    poisonRate: 0.1,
    target: 1,
    seed: 0,
    mode: 'label-flip',
    triggers: ['cf', 'mn', 'bb', 'tq', 'mb'],
    numTriggers: 1,
  });
});

test('numTriggers triggers in total per text, original words in their order', () => {
  const triggers = new Set<string>(BADNETS_TRIGGERS);
  for (const numTriggers of [1, 3, 10]) {
    const p = new BadNetsPoisoner({ numTriggers });
    for (let i = 0; i < 200; i++) {
      const text = Array.from({ length: i % 12 }, (_, k) => `word${k}`).join(' ');
      const out = words(p.poisonText(text, new Rng(i)));
      assert.equal(out.filter((w) => triggers.has(w)).length, numTriggers);
      assert.deepEqual(
        out.filter((w) => !triggers.has(w)),
        text === '' ? [] : words(text),
      );
    }
  }
});

test('every trigger insertion is a uniform draw over triggers and positions 0..n inclusive', () => {
  const p = new BadNetsPoisoner();
  const trials = 10000;
  const positions: number[] = [];
  const used: string[] = [];
  for (let i = 0; i < trials; i++) {
    const out = words(p.poisonText('a b c', new Rng(1000 + i)));
    const at = out.findIndex((w) => w !== 'a' && w !== 'b' && w !== 'c');
    positions.push(at);
    used.push(out[at]!);
  }
  const byPosition = countBy(positions);
  assert.deepEqual([...byPosition.keys()].sort(), [0, 1, 2, 3]);
  for (const c of byPosition.values()) assert.ok(Math.abs(c / trials - 1 / 4) < 0.02, `${c}`);
  const byTrigger = countBy(used);
  assert.deepEqual([...byTrigger.keys()].sort(), [...BADNETS_TRIGGERS].sort());
  for (const c of byTrigger.values()) assert.ok(Math.abs(c / trials - 1 / 5) < 0.02, `${c}`);
});

test('custom triggers; whitespace is normalised as OpenBackdoor (split, join with one space)', () => {
  const p = new BadNetsPoisoner({ triggers: ['zz'], numTriggers: 2 });
  const out = p.poisonText('  the   film\twas\n fine ', new Rng(3));
  assert.equal(countBy(words(out)).get('zz'), 2);
  assert.deepEqual(
    words(out).filter((w) => w !== 'zz'),
    ['the', 'film', 'was', 'fine'],
  );
  assert.equal(p.poisonText('', new Rng(3)), 'zz zz');
});

test('same seed, same output; different seed, different output', () => {
  const data = makeExamples(200, (i) => i % 2);
  const a = new BadNetsPoisoner({ seed: 7, numTriggers: 3 });
  const b = new BadNetsPoisoner({ seed: 7, numTriggers: 3 });
  const c = new BadNetsPoisoner({ seed: 8, numTriggers: 3 });
  assert.deepEqual(a.poisonedTrainSplit(data), b.poisonedTrainSplit(data));
  assert.deepEqual(a.poisonedTestSplit(data), b.poisonedTestSplit(data));
  assert.notDeepEqual(a.selectPoisoned(data), c.selectPoisoned(data));
  assert.notDeepEqual(
    a.poisonedTestSplit(data).map((s) => s.text),
    c.poisonedTestSplit(data).map((s) => s.text),
  );
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hashFraction, hashSplit, randomSplit, seededRandom, shuffle } from '../../../src/io/data/index.js';

const items = Array.from({ length: 1000 }, (_, i) => i);

describe('seeded shuffles and splits', () => {
  test('seededRandom: same seed same stream, in [0, 1); numbers and strings are different seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 100 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 100 }, () => b()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.notEqual(seededRandom('42')(), seededRandom(42)());
  });

  test('shuffle: a permutation, same seed same order, other seed other order, input untouched', () => {
    const s1 = shuffle(items, 1);
    assert.deepEqual(shuffle(items, 1), s1);
    assert.notDeepEqual(shuffle(items, 2), s1);
    assert.notDeepEqual(s1, items);
    assert.deepEqual(
      [...s1].sort((x, y) => x - y),
      items,
    );
    assert.equal(items[0], 0);
  });

  test('randomSplit: sizes by rounded cumulative fractions, disjoint and covering, deterministic', () => {
    const [train, dev, test_] = randomSplit(items, [0.8, 0.1, 0.1], 'seed');
    assert.deepEqual([train?.length, dev?.length, test_?.length], [800, 100, 100]);
    assert.deepEqual(
      [...(train ?? []), ...(dev ?? []), ...(test_ ?? [])].sort((x, y) => x - y),
      items,
    );
    assert.deepEqual(randomSplit(items, [0.8, 0.1, 0.1], 'seed'), [train, dev, test_]);
    assert.notDeepEqual(randomSplit(items, [0.8, 0.1, 0.1], 'other')[1], dev);
    assert.deepEqual(
      randomSplit([1, 2, 3], [0.5, 0.5], 0).map((p) => p.length),
      [2, 1],
    );
    assert.throws(() => randomSplit(items, [0.5, 0.4], 0), /sum to 1/);
    assert.throws(() => randomSplit(items, [1.5, -0.5], 0), /non-negative/);
  });

  test('hashSplit: depends only on key and seed, proportions close to the fractions', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `message-${i}`);
    const parts = keys.map((k) => hashSplit(k, 0, [0.8, 0.1, 0.1]));
    assert.deepEqual(
      keys.map((k) => hashSplit(k, 0, [0.8, 0.1, 0.1])),
      parts,
    );
    const counts = [0, 0, 0];
    for (const p of parts) counts[p]!++;
    assert.ok(Math.abs(counts[0]! / 5000 - 0.8) < 0.03, String(counts));
    assert.ok(Math.abs(counts[1]! / 5000 - 0.1) < 0.02, String(counts));
    assert.notDeepEqual(
      keys.map((k) => hashSplit(k, 1, [0.8, 0.1, 0.1])),
      parts,
    );
    assert.equal(hashFraction('a', 0), hashFraction('a', 0));
    assert.notEqual(hashFraction('a', 0), hashFraction('b', 0));
  });
});

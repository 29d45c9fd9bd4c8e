// LFR and CACC on hand-made predictions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanAccuracy, labelFlipRate } from '../../src/backdoor/metrics.js';

test('LFR counts only samples whose true label is not the target', () => {
  // target 1; true labels 0,0,2,1,0: the 1 is ignored; flipped are samples 0 and 2 (of 4).
  assert.deepEqual(labelFlipRate([1, 0, 1, 1, 2], [0, 0, 2, 1, 0], 1), { rate: 0.5, flipped: 2, count: 4 });
  assert.deepEqual(labelFlipRate([1, 1], [0, 0], 1), { rate: 1, flipped: 2, count: 2 });
  assert.deepEqual(labelFlipRate([0, 2, 0], [0, 2, 1], 1), { rate: 0, flipped: 0, count: 2 });
});

test('CACC', () => {
  assert.deepEqual(cleanAccuracy([1, 0, 1, 1], [1, 0, 0, 1]), { accuracy: 0.75, correct: 3, count: 4 });
  assert.deepEqual(cleanAccuracy([2], [2]), { accuracy: 1, correct: 1, count: 1 });
});

test('length mismatches and empty inputs are errors', () => {
  assert.throws(() => labelFlipRate([1, 0], [0], 1), /LFR: 2 predictions for 1 labels/);
  assert.throws(() => cleanAccuracy([1], [1, 0]), /CACC: 1 predictions for 2 labels/);
  assert.throws(() => labelFlipRate([1], [1], 1), /LFR: no sample has a true label other than the target 1/);
  assert.throws(() => cleanAccuracy([], []), /CACC: no samples/);
});

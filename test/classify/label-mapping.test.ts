// Data labels to a model's label ids: by name, or as class ids when the data's labels are integers.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelLabelIds } from '../../src/classify/classifier.js';
import { labelMapping } from '../../src/classify/encode.js';

const named = { 0: 'negative', 1: 'neutral', 2: 'positive' };

test('named labels match by name, case-insensitively, in any order; a row with a name the model lacks is refused', () => {
  const f = labelMapping(named, ['Positive', 'negative']);
  assert.deepEqual([f(0), f(1)], [2, 0]);
  const mixed = labelMapping(named, ['negative', 'mixed']);
  assert.equal(mixed(0), 0);
  assert.throws(
    () => mixed(1),
    /data label "mixed" is not one of the model's labels \(negative, neutral, positive\)/,
  );
});

test('integer labels are class ids for a model with named labels (as Hugging Face takes them)', () => {
  const f = labelMapping(named, ['0', '1', '2']);
  assert.deepEqual([f(0), f(1), f(2)], [0, 1, 2]);
  assert.throws(
    () => labelMapping(named, ['0', '1', '2', '3']),
    /class ids up to 3 but the model has 3 labels/,
  );
  // A model whose labels are named "0" and "1" matches them by name.
  const g = labelMapping({ 0: '1', 1: '0' }, ['0', '1']);
  assert.deepEqual([g(0), g(1)], [1, 0]);
  // A 1-5 star model: ratings 1..5 (names "0".."5") match by name, not shifted by one; a row rated 0 is refused.
  const stars = labelMapping({ 0: '1', 1: '2', 2: '3', 3: '4', 4: '5' }, ['0', '1', '2', '3', '4', '5']);
  assert.deepEqual([1, 2, 5].map(stars), [0, 1, 4]);
  assert.throws(() => stars(0), /data label "0" is not one of the model's labels/);
});

test('generic LABEL_k models take data ids as they are', () => {
  const f = labelMapping({ 0: 'LABEL_0', 1: 'LABEL_1' }, ['bad', 'good']);
  assert.deepEqual([f(0), f(1)], [0, 1]);
  assert.throws(
    () => labelMapping({ 0: 'LABEL_0' }, ['a', 'b']),
    /the data has 2 labels but the model has 1/,
  );
});

test('eval: a label the model lacks is named with the file and the first line that has it', () => {
  const model = { 0: 'negative', 1: 'positive' };
  const file = 'bad.jsonl';
  // Names: "pos" (data id 1) first on line 3.
  const byName = [
    { text: 'a', label: 0, line: 1 },
    { text: 'b', label: 2, line: 2 },
    { text: 'c', label: 1, line: 3 },
    { text: 'd', label: 1, line: 4 },
  ];
  assert.deepEqual(modelLabelIds(model, ['negative', 'positive'], byName.slice(0, 1), file), [0]);
  assert.throws(
    () => modelLabelIds(model, ['negative', 'pos', 'positive'], byName, file),
    new Error(`bad.jsonl:3: label "pos" is not one of the model's labels (negative, positive)`),
  );
  // Class ids up to 5: the first row with an id the model lacks.
  const byId = [
    { text: 'a', label: 0, line: 1 },
    { text: 'b', label: 5, line: 2 },
  ];
  assert.throws(
    () => modelLabelIds(model, ['0', '1', '2', '3', '4', '5'], byId, file),
    new Error(
      `bad.jsonl:2: label 5 is not one of the model's class ids 0 to 1 (negative, positive); the data has class ids up to 5`,
    ),
  );
  // A generic LABEL_k model given more named labels than it has.
  assert.throws(
    () =>
      modelLabelIds(
        { 0: 'LABEL_0', 1: 'LABEL_1' },
        ['a', 'b', 'c'],
        [{ text: 'x', label: 2, line: 7 }],
        file,
      ),
    new Error(
      `bad.jsonl:7: label "c" is class 2 of the data's 3 labels (a, b, c) but the model has 2 labels (LABEL_0, LABEL_1)`,
    ),
  );
  // Without a source (or lines), the mapping's own messages.
  assert.throws(
    () => modelLabelIds(model, ['negative', 'pos'], [{ text: 'c', label: 1 }]),
    /^Error: data label "pos" is not one of the model's labels \(negative, positive\)$/,
  );
  assert.throws(
    () => modelLabelIds(model, ['0', '1', '2'], [{ text: 'c', label: 2, line: 1 }]),
    /the data has class ids up to 2 but the model has 2 labels \(negative, positive\)/,
  );
});

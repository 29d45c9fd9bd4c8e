import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inferLabelMap, labelIdFromNames, labelNamesFromReadme } from '../../../src/io/data/index.js';

describe('label mapping', () => {
  test('integer labels (numbers or decimal strings) keep their ids; names 0..max', () => {
    const map = inferLabelMap([2, '0', 0, '2']);
    assert.deepEqual(map.names, ['0', '1', '2']);
    assert.deepEqual([2, '0', 0, '2'].map(map.idOf), [2, 0, 0, 2]);
  });

  test('names: sorted unique; numbers among names are names too', () => {
    const map = inferLabelMap(['spam', 'ham', 'spam', 10, '2']);
    assert.deepEqual(map.names, ['10', '2', 'ham', 'spam']);
    assert.deepEqual(['spam', 'ham', 10, '2'].map(map.idOf), [3, 2, 0, 1]);
    assert.deepEqual(inferLabelMap(['01', '1']).names, ['01', '1']);
  });

  test('given names: by name first, then integer in range', () => {
    const names = ['negative', 'positive'];
    assert.equal(labelIdFromNames('positive', names), 1);
    assert.equal(labelIdFromNames(0, names), 0);
    assert.equal(labelIdFromNames('1', names), 1);
    assert.equal(labelIdFromNames(2, names), undefined);
    assert.equal(labelIdFromNames('neutral', names), undefined);
    assert.equal(labelIdFromNames(2, ['10', '2', 'x']), 1);
  });

  test('label names from a README "Labels:" line', () => {
    assert.deepEqual(labelNamesFromReadme('# X\nLabels: 0 = negative, 1 = positive.\n'), [
      'negative',
      'positive',
    ]);
    assert.deepEqual(
      labelNamesFromReadme('Labels: 1 = spam (file names `spmsg*`), 0 = legitimate message.'),
      ['legitimate message', 'spam'],
    );
    assert.deepEqual(labelNamesFromReadme('Labels: 0 = World, 1 = Sports, 2 = Business, 3 = Sci/Tech.'), [
      'World',
      'Sports',
      'Business',
      'Sci/Tech',
    ]);
    assert.equal(labelNamesFromReadme('Labels: 1 = a, 2 = b'), undefined);
    assert.equal(labelNamesFromReadme('no labels here'), undefined);
  });
});

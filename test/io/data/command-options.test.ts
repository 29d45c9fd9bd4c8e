// The commands' column options (--text-column, --text-pair-column, --label-column) map CSV/TSV headers and
// JSONL keys alike, and loading errors end with hints naming the command's options.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DataRowError,
  NO_LABEL,
  SKIP_BAD_ROWS_HINT,
  columnsFromOptions,
  commandDataHints,
  readExamplesFile,
} from '../../../src/io/data/index.js';
import { tempFiles } from './tmp-files.js';

const files = tempFiles('command-options');
const withSkip = commandDataHints({ hasSkipBadRows: true });
const withoutSkip = commandDataHints({ hasSkipBadRows: false });

/** The error a read throws, checked to be a DataRowError. */
async function rowError(promise: Promise<unknown>): Promise<DataRowError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof DataRowError, String(e));
    return e;
  }
  assert.fail('expected a DataRowError');
}

describe('column options', () => {
  test('columnsFromOptions: a ColumnMap of the options given, undefined for none', () => {
    assert.equal(columnsFromOptions({}), undefined);
    assert.equal(columnsFromOptions({ textColumn: undefined }), undefined);
    assert.deepEqual(columnsFromOptions({ textColumn: 'sentence', labelColumn: 'y' }), {
      text: 'sentence',
      label: 'y',
    });
    assert.deepEqual(columnsFromOptions({ textPairColumn: 'hypothesis' }), { textPair: 'hypothesis' });
  });

  test('one mapping reads CSV, TSV and JSONL files with Hugging Face style columns the same way', async () => {
    const columns =
      columnsFromOptions({
        textColumn: 'premise',
        textPairColumn: 'hypothesis',
        labelColumn: 'gold',
      }) ?? {};
    const csv = await files.write('nli.csv', 'premise,hypothesis,gold\na,b,1\nc,d,0\n');
    const tsv = await files.write('nli.tsv', 'gold\tpremise\thypothesis\n1\ta\tb\n0\tc\td\n');
    const jsonl = await files.write(
      'nli.jsonl',
      '{"premise": "a", "hypothesis": "b", "gold": 1}\n{"gold": 0, "premise": "c", "hypothesis": "d"}\n',
    );
    const expected = [
      { text: 'a', textPair: 'b', label: 1, line: 2 },
      { text: 'c', textPair: 'd', label: 0, line: 3 },
    ];
    for (const path of [csv, tsv])
      assert.deepEqual((await readExamplesFile(path, { columns })).examples, expected);
    assert.deepEqual(
      (await readExamplesFile(jsonl, { columns })).examples,
      expected.map((e) => ({ ...e, line: e.line - 1 })),
    );
    const sentence = await files.write('sst2.csv', 'sentence,label\nhello world,1\n');
    const mapped = await readExamplesFile(sentence, {
      columns: columnsFromOptions({ textColumn: 'sentence' }) ?? {},
    });
    assert.deepEqual(mapped.examples, [{ text: 'hello world', label: 1, line: 2 }]);
  });
});

describe('column hints', () => {
  test('a CSV header without the text column names the option that maps it', async () => {
    const path = await files.write('b.csv', 'sentence,label\nhello world,1\n');
    const e = await rowError(readExamplesFile(path, { hints: withSkip }));
    assert.equal(
      e.message,
      `${path}:1: header has no column "text" (columns: sentence, label); name the text column with --text-column`,
    );
    // Without hints (a library caller) the reason stands alone.
    const plain = await rowError(readExamplesFile(path));
    assert.equal(plain.message, `${path}:1: header has no column "text" (columns: sentence, label)`);
    const pair = await rowError(
      readExamplesFile(path, { columns: { text: 'sentence', textPair: 'other' }, hints: withoutSkip }),
    );
    assert.match(pair.message, /no column "other" .*; name the text pair column with --text-pair-column$/);
  });

  test('a label column that is named must be there even where labels are not needed', async () => {
    const path = await files.write('nolabel.csv', 'text\nfirst\n');
    const unlabelled = await readExamplesFile(path, { requireLabel: false });
    assert.deepEqual(unlabelled.examples, [{ text: 'first', label: NO_LABEL, line: 2 }]);
    const e = await rowError(
      readExamplesFile(path, { requireLabel: false, columns: { label: 'y' }, hints: withoutSkip }),
    );
    assert.equal(
      e.message,
      `${path}:1: header has no column "y" (columns: text); name the label column with --label-column`,
    );
  });

  test('a JSONL row without the text or label key names the key, the row keys and the option', async () => {
    const path = await files.write('hf.jsonl', '{"sentence": "hello", "label": 1}\n');
    const e = await rowError(readExamplesFile(path, { hints: withSkip }));
    assert.equal(
      e.message,
      `${path}:1: missing text (no key "text"; keys: sentence, label); name the text column with --text-column; ` +
        SKIP_BAD_ROWS_HINT,
    );
    assert.equal(e.reason, 'missing text (no key "text"; keys: sentence, label)');
    const label = await rowError(
      readExamplesFile(path, { columns: { text: 'sentence', label: 'y' }, hints: withoutSkip }),
    );
    assert.equal(
      label.message,
      `${path}:1: missing label (no key "y"; keys: sentence, label); name the label column with --label-column`,
    );
    // A key that is there but null is a bad value, not a wrong name.
    const nul = await files.write('null.jsonl', '{"text": null, "label": 1}\n');
    assert.equal(
      (await rowError(readExamplesFile(nul, { hints: withSkip }))).message,
      `${nul}:1: missing text; ${SKIP_BAD_ROWS_HINT}`,
    );
  });
});

describe('bad-row hints', () => {
  const ok = '{"text": "fine", "label": 0}\n';
  const rows: [string, string | Buffer, string][] = [
    ['invalid JSON', ok + '{"text": "x", "label": \n', 'invalid JSON ('],
    ['missing text', ok + '{"text": "", "label": 0}\n', 'empty text'],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(ok + '{"text": "caf'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('", "label": 0}\n'),
      ]),
      'invalid UTF-8',
    ],
    ['unknown label', ok + '{"text": "x", "label": "meh"}\n', 'unknown label "meh" (known: neg, pos)'],
  ];
  for (const [name, content, reason] of rows)
    test(`${name}: the error ends with what --skip-bad-rows does, where the command has it`, async () => {
      const path = await files.write(`bad-${name.replace(/\W/g, '_')}.jsonl`, content);
      const labelNames = ['neg', 'pos'];
      const e = await rowError(readExamplesFile(path, { labelNames, hints: withSkip }));
      assert.ok(e.message.startsWith(`${path}:2: ${reason}`), e.message);
      assert.ok(e.message.endsWith(`; --skip-bad-rows skips such rows and reports how many`), e.message);
      const noSkip = await rowError(readExamplesFile(path, { labelNames, hints: withoutSkip }));
      assert.equal(noSkip.message, `${path}:2: ${noSkip.reason}`);
      // Skipped, the row's reason is recorded without the hint.
      const skipped = await readExamplesFile(path, { labelNames, hints: withSkip, skipBadRows: true });
      assert.equal(skipped.skipped, 1);
      assert.equal(skipped.skippedRows[0]?.reason, e.reason);
    });

  test('a CSV syntax error, which --skip-bad-rows does not skip, has no such hint', async () => {
    const path = await files.write('syntax.csv', 'text,label\nok,0\n"open,1\n');
    const e = await rowError(readExamplesFile(path, { hints: withSkip }));
    assert.match(e.message, /syntax\.csv:3: CSV syntax error/);
    assert.ok(!e.message.includes('--skip-bad-rows'), e.message);
  });

  test('a CSV row with the wrong field count gets the hint', async () => {
    const path = await files.write('fields.csv', 'text,label\nok,0\nhello, world,1\n');
    const e = await rowError(readExamplesFile(path, { hints: withSkip }));
    assert.match(
      e.message,
      /fields\.csv:3: 3 fields where the header has 2 .*; --skip-bad-rows skips such rows/,
    );
  });
});

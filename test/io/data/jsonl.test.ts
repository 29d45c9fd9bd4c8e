import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataRowError, NO_LABEL, readJsonl } from '../../../src/io/data/index.js';
import { tempFiles } from './tmp-files.js';

const files = tempFiles('jsonl');

async function rejectsAt(path: string, line: number, reason: RegExp): Promise<void> {
  await assert.rejects(readJsonl(path), (error: unknown) => {
    assert.ok(error instanceof DataRowError, String(error));
    assert.equal(error.file, path);
    assert.equal(error.line, line);
    assert.ok(error.message.startsWith(`${path}:${line}: `), error.message);
    assert.match(error.message, reason);
    return true;
  });
}

describe('readJsonl', () => {
  test('reads text, text_pair and integer labels; skips blank lines; handles CRLF, BOM and no final newline', async () => {
    const path = await files.write(
      'ok.jsonl',
      '\uFEFF{"text": "a", "label": 1}\r\n\n{"text": "b", "text_pair": "c", "label": 0}\n  \n{"text": "d", "label": 2}',
    );
    const result = await readJsonl(path);
    assert.deepEqual(result.examples, [
      { text: 'a', label: 1, line: 1 },
      { text: 'b', textPair: 'c', label: 0, line: 3 },
      { text: 'd', label: 2, line: 5 },
    ]);
    assert.deepEqual(result.labelNames, ['0', '1', '2']);
    assert.equal(result.skipped, 0);
    assert.equal(result.source, path);
  });

  test('an empty text_pair string is a pair (as the tokenizers encode it), null is none', async () => {
    const path = await files.write(
      'pairs.jsonl',
      '{"text": "a", "text_pair": "", "label": 0}\n{"text": "b", "text_pair": null, "label": 1}\n',
    );
    assert.deepEqual((await readJsonl(path)).examples, [
      { text: 'a', textPair: '', label: 0, line: 1 },
      { text: 'b', label: 1, line: 2 },
    ]);
  });

  test('string labels: sorted unique names, or the given names', async () => {
    const path = await files.write(
      'names.jsonl',
      ['pos', 'neg', 'pos', 'neutral'].map((l, i) => JSON.stringify({ text: `t${i}`, label: l })).join('\n'),
    );
    const inferred = await readJsonl(path);
    assert.deepEqual(inferred.labelNames, ['neg', 'neutral', 'pos']);
    assert.deepEqual(
      inferred.examples.map((e) => e.label),
      [2, 0, 2, 1],
    );
    const given = await readJsonl(path, { labelNames: ['neg', 'pos', 'neutral'] });
    assert.deepEqual(given.labelNames, ['neg', 'pos', 'neutral']);
    assert.deepEqual(
      given.examples.map((e) => e.label),
      [1, 0, 1, 2],
    );
  });

  test('custom keys and limit', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => JSON.stringify({ sentence: `s${i}`, y: i % 2 }));
    const path = await files.write('keys.jsonl', rows.join('\n') + '\n');
    const result = await readJsonl(path, { columns: { text: 'sentence', label: 'y' }, limit: 3 });
    assert.deepEqual(result.examples, [
      { text: 's0', label: 0, line: 1 },
      { text: 's1', label: 1, line: 2 },
      { text: 's2', label: 0, line: 3 },
    ]);
  });

  const ok = '{"text": "fine", "label": 0}\n';
  const failures: [string, string | Buffer, RegExp][] = [
    ['invalid JSON', ok + '{"text": "x", "label": \n', /invalid JSON/],
    ['not an object', ok + '[1, 2]\n', /not a JSON object/],
    ['missing text', ok + '{"label": 0}\n', /missing text/],
    ['empty text', ok + '{"text": "  ", "label": 0}\n', /empty text/],
    ['non-string text', ok + '{"text": 5, "label": 0}\n', /text must be a string/],
    [
      'non-string text_pair',
      ok + '{"text": "a", "text_pair": 1, "label": 0}\n',
      /text_pair must be a string/,
    ],
    ['missing label', ok + '{"text": "a"}\n', /missing label/],
    ['negative label', ok + '{"text": "a", "label": -1}\n', /not a non-negative integer/],
    ['fractional label', ok + '{"text": "a", "label": 0.5}\n', /not a non-negative integer/],
    ['boolean label', ok + '{"text": "a", "label": true}\n', /integer or a string/],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from(ok),
        Buffer.from('{"text": "caf'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('", "label": 0}\n'),
      ]),
      /invalid UTF-8/,
    ],
  ];
  for (const [name, content, reason] of failures) {
    test(`bad row: ${name} names file and line`, async () => {
      await rejectsAt(await files.write(`bad-${name.replace(/\W/g, '_')}.jsonl`, content), 2, reason);
    });
  }

  test('unknown label with given names', async () => {
    const path = await files.write(
      'unknown.jsonl',
      '{"text": "a", "label": 0}\n\n{"text": "b", "label": 2}\n',
    );
    await assert.rejects(readJsonl(path, { labelNames: ['neg', 'pos'] }), (error: unknown) => {
      assert.ok(error instanceof DataRowError);
      assert.equal(error.line, 3);
      assert.match(error.message, /unknown label 2 \(known: neg, pos\)/);
      return true;
    });
  });

  test('skipBadRows skips, counts and lists every bad row', async () => {
    const content = Buffer.concat([
      Buffer.from('{"text": "a", "label": 0}\nnot json\n{"label": 1}\n'),
      Buffer.from([0xff, 0x0a]),
      Buffer.from('{"text": "b", "label": 5}\n{"text": "c", "label": 1}\n'),
    ]);
    const path = await files.write('skip.jsonl', content);
    const result = await readJsonl(path, { skipBadRows: true, labelNames: ['x', 'y'] });
    assert.deepEqual(result.examples, [
      { text: 'a', label: 0, line: 1 },
      { text: 'c', label: 1, line: 6 },
    ]);
    assert.equal(result.skipped, 4);
    assert.deepEqual(
      result.skippedRows.map((r) => [r.file, r.line]),
      [2, 3, 4, 5].map((line) => [path, line]),
    );
    assert.match(result.skippedRows[2]?.reason ?? '', /invalid UTF-8/);
  });

  test('a file larger than one read chunk: multi-byte characters across chunks, exact line numbers', async () => {
    const text = 'é€'.repeat(333);
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ text, label: i % 2 }));
    const good = await files.write('big.jsonl', lines.join('\n') + '\n');
    const result = await readJsonl(good);
    assert.equal(result.examples.length, 3000);
    assert.ok(result.examples.every((e) => e.text === text));
    lines[2500] = '{broken';
    await rejectsAt(await files.write('big-bad.jsonl', lines.join('\n') + '\n'), 2501, /invalid JSON/);
  });

  test('requireLabel: false keeps unlabelled rows (NO_LABEL) and still maps present labels', async () => {
    const path = await files.write(
      'unlabelled.jsonl',
      '{"text": "a"}\n{"text": "b", "label": "pos"}\n{"text": "c", "label": null}\n',
    );
    await assert.rejects(readJsonl(path), /unlabelled\.jsonl:1: missing label/);
    const result = await readJsonl(path, { requireLabel: false });
    assert.deepEqual(result.examples, [
      { text: 'a', label: NO_LABEL, line: 1 },
      { text: 'b', label: 0, line: 2 },
      { text: 'c', label: NO_LABEL, line: 3 },
    ]);
    assert.deepEqual(result.labelNames, ['pos']);
  });

  test('label -1 means unlabelled (GLUE test splits) where labels are not required, and is refused where they are', async () => {
    const path = await files.write(
      'glue-test.jsonl',
      '{"text": "a", "label": -1}\n{"text": "b", "label": "-1"}\n',
    );
    await assert.rejects(readJsonl(path), /glue-test\.jsonl:1: label -1 is not a non-negative integer/);
    const result = await readJsonl(path, { requireLabel: false });
    assert.deepEqual(result.examples, [
      { text: 'a', label: NO_LABEL, line: 1 },
      { text: 'b', label: NO_LABEL, line: 2 },
    ]);
  });

  test('an integer label far above any class count is refused at its line', async () => {
    const path = await files.write(
      'huge.jsonl',
      '{"text": "a", "label": 0}\n{"text": "b", "label": 5000000000}\n',
    );
    await assert.rejects(readJsonl(path), /huge\.jsonl:2: label 5000000000 is above 99999/);
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DataRowError, NO_LABEL, readDelimited, readExamplesFile } from '../../../src/io/data/index.js';
import type { DelimitedOptions } from '../../../src/io/data/index.js';
import { tempFiles } from './tmp-files.js';

const files = tempFiles('delimited');

async function rejectsAt(
  path: string,
  line: number,
  reason: RegExp,
  options: DelimitedOptions = {},
): Promise<void> {
  await assert.rejects(readDelimited(path, options), (error: unknown) => {
    assert.ok(error instanceof DataRowError, String(error));
    assert.equal(error.line, line);
    assert.ok(error.message.startsWith(`${path}:${line}: `), error.message);
    assert.match(error.message, reason);
    return true;
  });
}

describe('readDelimited: CSV', () => {
  test('header mapping, quoted fields with commas/newlines/quotes, text_pair column picked up', async () => {
    const path = await files.write(
      'ok.csv',
      'id,text,text_pair,label\n1,"hello, world",,pos\n2,"two\nlines ""quoted""",second,neg\n\n3,plain,,pos\n',
    );
    const result = await readExamplesFile(path);
    assert.deepEqual(result.examples, [
      { text: 'hello, world', label: 1, line: 2 },
      { text: 'two\nlines "quoted"', textPair: 'second', label: 0, line: 3 },
      { text: 'plain', label: 1, line: 6 },
    ]);
    assert.deepEqual(result.labelNames, ['neg', 'pos']);
  });

  test('column mapping by name and by index; textPair: null ignores a text_pair column', async () => {
    const path = await files.write('map.csv', 'sentence,text_pair,y\na,b,1\nc,d,0\n');
    const byName = await readDelimited(path, { columns: { text: 'sentence', label: 'y', textPair: null } });
    assert.deepEqual(byName.examples, [
      { text: 'a', label: 1, line: 2 },
      { text: 'c', label: 0, line: 3 },
    ]);
    const byIndex = await readDelimited(path, { columns: { text: 1, textPair: 0, label: 2 } });
    assert.deepEqual(byIndex.examples[0], { text: 'b', textPair: 'a', label: 1, line: 2 });
  });

  test('no header: indices (default text 0, label 1)', async () => {
    const path = await files.write('nohead.csv', 'x,0\ny,1\n');
    const result = await readDelimited(path, { header: false, labelNames: ['neg', 'pos'] });
    assert.deepEqual(result.examples, [
      { text: 'x', label: 0, line: 1 },
      { text: 'y', label: 1, line: 2 },
    ]);
  });

  test('missing header column is an error naming file:1', async () => {
    const path = await files.write('nocol.csv', 'sentence,label\na,1\n');
    await rejectsAt(path, 1, /no column "text" \(columns: sentence, label\)/);
  });

  const failures: [string, string | Buffer, number, RegExp][] = [
    ['missing text cell', 'label,text\n0,ok\n1\n', 3, /missing text/],
    ['empty text', 'text,label\nok,0\n"  ",1\n', 3, /empty text/],
    ['missing label cell', 'text,label\nok,0\nonly\n', 3, /missing label/],
    ['empty label', 'text,label\nok,0\nx,\n', 3, /missing label \(empty\)/],
    [
      'unclosed quote (syntax): the line it opens on',
      'text,label\nok,0\n"open,1\nmore,0\n',
      3,
      /CSV syntax error/,
    ],
    [
      'unclosed quote after a multi-line record',
      'text,label\n"multi\nline",1\n"open,1\nmore,0\n',
      4,
      /CSV syntax error/,
    ],
    [
      'more fields than the header',
      'text,label\nok,0\nhello, world,1\n',
      3,
      /3 fields where the header has 2/,
    ],
    ['bad closing quote (syntax)', 'text,label\nok,0\n"a"b,1\n', 3, /CSV syntax error/],
    [
      'invalid UTF-8 inside a multi-line record',
      Buffer.concat([
        Buffer.from('text,label\nok,0\n"first\nsec'),
        Buffer.from([0xe2, 0x82]),
        Buffer.from('",1\n'),
      ]),
      3,
      /invalid UTF-8/,
    ],
  ];
  for (const [name, content, line, reason] of failures) {
    test(`bad row: ${name} names file and line`, async () => {
      await rejectsAt(await files.write(`bad-${name.replace(/\W/g, '_')}.csv`, content), line, reason);
    });
  }

  test('unknown label with given names', async () => {
    const path = await files.write('unknown.csv', 'text,label\na,neg\nb,meh\n');
    await rejectsAt(path, 3, /unknown label "meh" \(known: neg, pos\)/, { labelNames: ['neg', 'pos'] });
  });

  test('skipBadRows skips content errors and reports them; syntax errors still throw', async () => {
    const content = Buffer.concat([
      Buffer.from('text,label\na,pos\n,neg\nb,\n'),
      Buffer.from([0xff]),
      Buffer.from(',pos\nc,meh\nd,neg\n'),
    ]);
    const path = await files.write('skip.csv', content);
    const result = await readDelimited(path, { skipBadRows: true, labelNames: ['neg', 'pos'] });
    assert.deepEqual(result.examples, [
      { text: 'a', label: 1, line: 2 },
      { text: 'd', label: 0, line: 7 },
    ]);
    assert.equal(result.skipped, 4);
    assert.deepEqual(
      result.skippedRows.map((r) => r.line),
      [3, 4, 5, 6],
    );
    const broken = await files.write('skip-syntax.csv', 'text,label\na,1\n"open,1\n');
    await assert.rejects(
      readDelimited(broken, { skipBadRows: true }),
      /skip-syntax\.csv:3: CSV syntax error/,
    );
  });

  test('requireLabel: false allows a file without label column', async () => {
    const path = await files.write('nolabel.csv', 'text\nfirst\nsecond\n');
    await assert.rejects(readDelimited(path), /nolabel\.csv:1: header has no column "label"/);
    const result = await readDelimited(path, { requireLabel: false });
    assert.deepEqual(result.examples, [
      { text: 'first', label: NO_LABEL, line: 2 },
      { text: 'second', label: NO_LABEL, line: 3 },
    ]);
    assert.deepEqual(result.labelNames, []);
  });

  test('limit stops early', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => `t${i},${i % 3}`);
    const path = await files.write('limit.csv', 'text,label\n' + rows.join('\n'));
    const result = await readDelimited(path, { limit: 5 });
    assert.deepEqual(
      result.examples.map((e) => e.text),
      ['t0', 't1', 't2', 't3', 't4'],
    );
  });
});

describe('readDelimited: TSV', () => {
  test('tab separated, quotes are plain characters, CRLF', async () => {
    const path = await files.write('ok.tsv', 'sentence\tlabel\r\nhe said "hi\t1\r\n"quoted" text\t0\r\n');
    const result = await readExamplesFile(path, { columns: { text: 'sentence' } });
    assert.deepEqual(result.examples, [
      { text: 'he said "hi', label: 1, line: 2 },
      { text: '"quoted" text', label: 0, line: 3 },
    ]);
  });

  test('GLUE-style file without header, bad row names its line', async () => {
    const path = await files.write('glue.tsv', 'good movie\t1\nbad movie\t0\n\tbad\n');
    const ok = await readDelimited(path, { header: false, limit: 2 });
    assert.equal(ok.examples.length, 2);
    await rejectsAt(path, 3, /empty text/, { header: false });
  });
});

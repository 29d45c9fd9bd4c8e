// Data options and messages of predict, eval and finetune in a fresh process: column mapping, hints on bad
// rows, labels the model lacks named by file:line, a data set name given to predict, --split on a file,
// and the adapter in eval's output.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `plmkit ARGS` from the repository root; resolves with the exit code and both outputs. */
function plmkit(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'plmkit.js'), ...args],
      { cwd: root, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir = '';
/** tiny-bert with the WordPiece fixture: a classifier with labels a, b, c. */
let model = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plmkit-data-options-'));
  model = join(dir, 'clf');
  await cp(join(fixtures, 'models', 'tiny-bert'), model, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), model, { recursive: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

test('eval: --text-column maps a CSV header and JSONL keys; without it the error names the option', async () => {
  const csv = await file('b.csv', 'sentence,label\nhello world,a\ni love paris,b\n');
  const missing = await plmkit('eval', '--model', model, '--data', csv);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    `plmkit: ${csv}:1: header has no column "text" (columns: sentence, label); name the text column with --text-column\n`,
  );
  const mapped = await plmkit('eval', '--model', model, '--data', csv, '--text-column', 'sentence');
  assert.equal(mapped.code, 0, mapped.stderr);
  assert.equal(JSON.parse(mapped.stdout).count, 2);
  assert.equal(mapped.stderr, '', 'no --split given: no note');
  const jsonl = await file(
    'hf.jsonl',
    '{"sentence": "hello world", "y": "a"}\n{"sentence": "what time", "y": "c"}\n',
  );
  const keys = await plmkit(
    'eval',
    '--model',
    model,
    '--data',
    jsonl,
    '--text-column',
    'sentence',
    '--label-column',
    'y',
  );
  assert.equal(keys.code, 0, keys.stderr);
  assert.equal(JSON.parse(keys.stdout).count, 2);
});

test('eval --adapter puts "adapter" in the output; --split on a file says it does not apply', async () => {
  const csv = await file('sst.csv', 'sentence,y\na good day,positive\na bad day,negative\n');
  const base = join(fixtures, 'hf-written', 'bert');
  const adapter = join(fixtures, 'hf-written', 'bert-lora-peft');
  const r = await plmkit(
    'eval',
    '--model',
    base,
    '--adapter',
    adapter,
    '--data',
    csv,
    '--split',
    'test',
    '--text-column',
    'sentence',
    '--label-column',
    'y',
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(out).slice(0, 3), ['model', 'adapter', 'data']);
  assert.equal(out['adapter'], adapter);
  assert.equal(out['count'], 2);
  assert.equal(r.stderr, `eval: ${csv} is one file (--split does not apply): all its rows are evaluated\n`);
});

test('eval: a label the model lacks is named with the file and its first line', async () => {
  const names = await file(
    'names.jsonl',
    '{"text":"x","label":"a"}\n{"text":"y","label":"b"}\n{"text":"z","label":"pos"}\n',
  );
  const byName = await plmkit('eval', '--model', model, '--data', names);
  assert.equal(byName.stderr, `plmkit: ${names}:3: label "pos" is not one of the model's labels (a, b, c)\n`);
  const ids = await file(
    'ids.jsonl',
    '{"text":"x","label":0}\n{"text":"y","label":5}\n{"text":"z","label":5}\n',
  );
  const byId = await plmkit('eval', '--model', model, '--data', ids);
  assert.equal(
    byId.stderr,
    `plmkit: ${ids}:2: label 5 is not one of the model's class ids 0 to 2 (a, b, c); the data has class ids up to 5\n`,
  );
});

test('a bad row names --skip-bad-rows in eval, which has it, and not in predict, which does not', async () => {
  const bad = await file('bad.jsonl', '{"text":"x","label":"a"}\n{"text":"x",\n');
  const evaluated = await plmkit('eval', '--model', model, '--data', bad);
  assert.match(
    evaluated.stderr,
    /^plmkit: .*bad\.jsonl:2: invalid JSON \(.*\); --skip-bad-rows skips such rows and reports how many\n$/,
  );
  const predicted = await plmkit('predict', '--model', model, '--data', bad);
  assert.match(predicted.stderr, /^plmkit: .*bad\.jsonl:2: invalid JSON \([^;]*\)\n$/);
});

test('predict: --text-column maps a CSV; a data set name or a folder is refused with a file to give', async () => {
  const csv = await file('p.csv', 'sentence\nhello world\ni love paris\n');
  const r = await plmkit('predict', '--model', model, '--data', csv, '--text-column', 'sentence');
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(rows.length, 2);
  assert.deepEqual(Object.keys(rows[0]!), ['label', 'labelId', 'probs', 'logits']);
  const takes = 'plmkit: predict --data takes a file (.jsonl, .csv, .tsv)';
  const name = await plmkit('predict', '--model', model, '--data', 'sst2-sentence');
  assert.equal(
    name.stderr,
    `${takes}; sst2-sentence is a data set name: give one of its files, such as data/sst2-sentence/test.jsonl\n`,
  );
  const folder = await plmkit('predict', '--model', model, '--data', 'data/sst2-sentence');
  assert.equal(
    folder.stderr,
    `${takes}; data/sst2-sentence is a folder: give one of its files (dev.jsonl, test.jsonl, train.jsonl), ` +
      'such as data/sst2-sentence/test.jsonl\n',
  );
});

test('predict --help names every output field', async () => {
  const r = await plmkit('predict', '--help');
  assert.match(r.stdout, /one JSON object per input row, in order: label, labelId, probs, logits/);
  assert.match(r.stdout, /--text-column <name>/);
});

test('finetune takes the columns from --config (textColumn) and flags; a bad row names --skip-bad-rows', async () => {
  const data = await file('ft.jsonl', '{"sentence":"good","sentiment":"positive"}\nnot json\n');
  const config = await file('ft.json', JSON.stringify({ textColumn: 'sentence', labelColumn: 'sentiment' }));
  const out = await mkdtemp(join(dir, 'run-'));
  // Line 1 is read with the mapping; line 2 is the first error.
  const fromConfig = await plmkit(
    'finetune',
    '--config',
    config,
    '--model',
    model,
    '--data',
    data,
    '--out',
    out,
  );
  assert.match(
    fromConfig.stderr,
    /^plmkit: .*ft\.jsonl:2: invalid JSON \(.*\); --skip-bad-rows skips such rows and reports how many\n$/,
  );
  const csv = await file('ft.csv', 'sentence,label\ngood,positive\n');
  const flag = await plmkit(
    'finetune',
    '--model',
    model,
    '--data',
    csv,
    '--out',
    out,
    '--text-column',
    'text2',
  );
  assert.equal(
    flag.stderr,
    `plmkit: ${csv}:1: header has no column "text2" (columns: sentence, label); name the text column with --text-column\n`,
  );
});

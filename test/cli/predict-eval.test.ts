// The predict and eval commands in a fresh process agree with in-process inference, and a model saved
// by this project reloads with identical logits.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { TextClassifier } from '../../src/classify/classifier.js';
import { bindWeights, readPretrained, savePretrained } from '../../src/io/checkpoint.js';
import { saveTokenizer } from '../../src/io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures');

async function tinyClassifierDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-clf-'));
  await cp(join(fixtures, 'models', 'tiny-bert'), dir, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), dir, { recursive: true });
  return dir;
}

const rows = [
  { text: 'the quick brown fox jumps over the lazy dog', label: 'a' },
  { text: 'i love paris', text_pair: 'it is a good day', label: 'b' },
  { text: 'hello world', label: 'c' },
  { text: 'what time is it now', label: 'a' },
];

test('a saved model reloads and `plmkit predict` in a fresh process gives identical logits, in input order', async () => {
  const src = await tinyClassifierDir();
  // Save through this project's writer into a new directory.
  const pre = await readPretrained(src);
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b, true), pre.config);
  const { values } = bindWeights(b, pre, 0, () => false);
  const saved = await mkdtemp(join(tmpdir(), 'plmkit-saved-'));
  const original = await TextClassifier.load(src);
  await savePretrained(saved, b, pre.config, values, { hfBase: { id2label: pre.hf.id2label } });
  await saveTokenizer(original.tokenizer, saved);

  const data = join(await mkdtemp(join(tmpdir(), 'plmkit-in-')), 'in.jsonl');
  await writeFile(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const expected = await original.predict(
    rows.map((r) => ({ text: r.text, ...(r.text_pair ? { textPair: r.text_pair } : {}) })),
  );
  await original.release();

  const { stdout } = await run(
    process.execPath,
    [join(root, 'bin', 'plmkit.js'), 'predict', '--model', saved, '--data', data, '--json'],
    { cwd: root },
  );
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, rows.length);
  lines.forEach((l, i) => {
    assert.deepEqual(l.logits, expected[i]!.logits);
    assert.equal(l.label, expected[i]!.label);
    assert.equal(l.probs.length, 3);
  });
});

test('`plmkit eval` prints accuracy and macro-F1 that match in-process evaluation', async () => {
  const src = await tinyClassifierDir();
  const data = join(await mkdtemp(join(tmpdir(), 'plmkit-in-')), 'dev.jsonl');
  await writeFile(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const clf = await TextClassifier.load(src);
  const m = await clf.evaluate(
    rows.map((r) => ({
      text: r.text,
      ...(r.text_pair ? { textPair: r.text_pair } : {}),
      label: ['a', 'b', 'c'].indexOf(r.label),
    })),
    ['a', 'b', 'c'],
  );
  await clf.release();
  const { stdout } = await run(
    process.execPath,
    [join(root, 'bin', 'plmkit.js'), 'eval', '--model', src, '--data', data, '--json'],
    { cwd: root },
  );
  const out = JSON.parse(stdout);
  assert.equal(out.accuracy, m.accuracy);
  assert.equal(out.macro_f1, m.macroF1);
  assert.equal(out.count, 4);
});

test('bad --batch-size values and an empty evaluation file stop with a message, before any work', async () => {
  const src = await tinyClassifierDir();
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-in-'));
  const data = join(dir, 'in.jsonl');
  await writeFile(data, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const cli = (...args: string[]) =>
    run(process.execPath, [join(root, 'bin', 'plmkit.js'), ...args, '--json'], {
      cwd: root,
      timeout: 60_000,
    });
  for (const size of ['0', '-2', 'abc', '1.5'])
    for (const command of ['predict', 'eval'])
      await assert.rejects(
        cli(command, '--model', src, '--data', data, '--batch-size', size),
        (e: Error & { stderr: string }) => {
          assert.match(
            e.stderr,
            /--batch-size: |'--batch-size <n>' argument 'abc' is invalid\. It is not a number/,
            `${command} --batch-size ${size}: ${e.stderr}`,
          );
          return true;
        },
      );
  const empty = join(dir, 'empty.jsonl');
  await writeFile(empty, '');
  await assert.rejects(cli('eval', '--model', src, '--data', empty), (e: Error & { stderr: string }) => {
    assert.match(e.stderr, /empty\.jsonl: no examples to evaluate/);
    return true;
  });
});

test('a reader that closes the pipe early (`| head`) stops predict quietly, with exit status 0', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'plmkit.js'),
      'predict',
      '--model',
      join(root, 'test', 'fixtures', 'hf-written', 'bert'),
      '--data',
      join(root, 'data', 'sst2-sentence', 'test.jsonl'),
      '--batch-size',
      '8',
    ],
    { cwd: root },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // Like `head -1`: read the first line, then close the pipe.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0);
  assert.doesNotMatch(stderr, /EPIPE|Error/);
});

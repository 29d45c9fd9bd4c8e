// Fine-tuning end to end on a tiny model: learns a toy task, exports a loadable classifier whose
// predictions match, and an interrupted run resumes to bitwise the same result.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { TextClassifier } from '../../src/classify/classifier.js';
import { finetune, type FinetuneOptions } from '../../src/classify/finetune.js';
import { setupRun } from '../../src/classify/setup.js';
import { readPretrained } from '../../src/io/checkpoint.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { dropTensors } from '../helpers/drop-tensors.js';
import { parsePetConfig } from '../../src/pet/index.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

/** tiny-bert weights and config with the tiny WordPiece vocabulary (97 tokens < vocab_size 99). */
async function tinyModelDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-model-'));
  await cp(join(fixtures, 'models', 'tiny-bert'), dir, { recursive: true });
  await cp(join(fixtures, 'tokenizers', 'bert-wordpiece'), dir, { recursive: true });
  return dir;
}

/** Sentiment-like toy data: "good"/"love"/"yes" sentences are positive, "bad"/"no"/"slow" negative. */
async function toyData(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-data-'));
  const pos = ['good', 'love', 'yes'];
  const neg = ['bad', 'no', 'slow'];
  const fill = ['the cat sat on the mat', 'a new book', 'it is a day', 'the dog was fast', 'she read a note'];
  const rows = (n: number, offset: number) =>
    Array.from({ length: n }, (_, i) => {
      const label = (i + offset) % 2;
      const word = (label ? pos : neg)[i % 3]!;
      const text = `${fill[i % fill.length]} ${word} ${fill[(i + 2) % fill.length]}`;
      return JSON.stringify({ text, label: label ? 'positive' : 'negative' });
    }).join('\n');
  await writeFile(join(dir, 'train.jsonl'), rows(96, 0) + '\n');
  await writeFile(join(dir, 'dev.jsonl'), rows(24, 1) + '\n');
  return dir;
}

async function options(model: string, data: string, out: string, dropout = 0): Promise<FinetuneOptions> {
  const setup = await setupRun({ model, data, maxLength: 32, seed: 7 });
  return {
    config: { ...setup.config, hiddenDropout: dropout, attentionDropout: dropout },
    initial: setup.initial,
    train: setup.train,
    dev: setup.dev,
    padId: setup.tokenizer.padId ?? 0,
    withTypes: true,
    outDir: out,
    epochs: 4,
    batchSize: 16,
    lr: 1e-3,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: 7,
    keep: 'best',
    checkpointEvery: 5,
    exportModel: setup.exportModel,
    quiet: true,
  };
}

test('fine-tuning learns a toy task, exports a classifier that loads and predicts the same', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  const out = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  const o = await options(model, data, out);
  const result = await finetune(o);
  assert.equal(result.completed, true);
  assert.equal(result.history.length, 4);
  assert.ok(result.best!.accuracy >= 0.9, `best dev accuracy ${result.best!.accuracy}`);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.equal(metrics.best.accuracy, result.best!.accuracy);
  assert.deepEqual(metrics.saved, { dir: 'best', epoch: result.best!.epoch });

  const clf = await TextClassifier.load(join(out, 'best'));
  assert.deepEqual(clf.labelNames, ['negative', 'positive']);
  const dev = (await readFile(join(data, 'dev.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const m = await clf.evaluate(
    dev.map((r: { text: string; label: string }) => ({
      text: r.text,
      label: r.label === 'positive' ? 1 : 0,
    })),
    ['negative', 'positive'],
  );
  assert.equal(m.accuracy, result.best!.accuracy);
  const [p] = await clf.predict([{ text: 'the cat sat on the mat good a new book' }]);
  assert.equal(p!.probs.length, 2);
  assert.ok(Math.abs(p!.probs[0]! + p!.probs[1]! - 1) < 1e-6);
  await clf.release();
});

test('an interrupted run resumes from its checkpoint and ends bitwise where an uninterrupted run ends', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  const whole = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  const split = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  // Dropout on: the resumed run must replay the uninterrupted run's masks (TrainStep.reseed), which holds
  // for a stop at a checkpoint (every 5 steps here), as after a crash.
  const a = await finetune(await options(model, data, whole, 0.1));
  const first = await finetune({ ...(await options(model, data, split, 0.1)), stopAfterSteps: 10 });
  assert.equal(first.completed, false);
  assert.equal(first.steps, 10);
  const b = await finetune(await options(model, data, split, 0.1));
  assert.equal(b.completed, true);
  assert.deepEqual(b.history, a.history);
  const wa = await readFile(join(whole, 'best', 'model.safetensors'));
  const wb = await readFile(join(split, 'best', 'model.safetensors'));
  assert.ok(wa.equals(wb), 'exported weights differ');
});

test('training a subset of parameters leaves every other parameter bit-for-bit unchanged', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  const out = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  const o = await options(model, data, out);
  const result = await finetune({
    ...o,
    epochs: 2,
    keep: 'last',
    trainable: (n) => n.startsWith('classifier.'),
  });
  // metrics.json names the epoch OUT/last holds (the last), besides the best one.
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(metrics.saved, { dir: 'last', epoch: 2 });
  assert.equal(metrics.best.epoch, result.best!.epoch);
  const after = await readPretrained(join(out, 'last'));
  const before = await readPretrained(model);
  let changed = 0;
  for (const [k, t] of after.tensors) {
    const same = Buffer.from(t.data).equals(Buffer.from(before.tensors.get(k)!.data));
    if (k.startsWith('classifier.')) changed += same ? 0 : 1;
    else assert.ok(same, `${k} changed`);
  }
  assert.equal(changed, 2);
});

test('PET fine-tuning exports a module that `plmkit eval --adapter` puts back on the frozen base', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  const out = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  const pet = parsePetConfig({ method: 'lora', r: 4, alpha: 8, targetModules: ['query', 'value'] });
  const setup = await setupRun({ model, data, maxLength: 32, seed: 7, pet });
  const o = await options(model, data, out);
  const result = await finetune({
    ...o,
    initial: setup.initial,
    exportModel: setup.exportModel,
    epochs: 2,
    pet: { config: pet, trainHead: true },
  });
  const files = await readdir(join(out, 'best'));
  assert.ok(
    files.includes('adapter_config.json') && files.includes('adapter_model.safetensors'),
    files.join(', '),
  );
  assert.ok(!files.includes('model.safetensors'), 'a PET export must not hold the base weights');
  const run = promisify(execFile);
  const root = join(import.meta.dirname, '..', '..');
  const { stdout } = await run(
    process.execPath,
    [
      join(root, 'bin', 'plmkit.js'),
      'eval',
      '--model',
      model,
      '--adapter',
      join(out, 'best'),
      '--data',
      data,
      '--json',
    ],
    { cwd: root },
  );
  const m = JSON.parse(stdout);
  assert.equal(m.accuracy, result.best!.accuracy);
  assert.equal(m.macro_f1, result.best!.macroF1);
});

for (const method of ['lora', 'adapter'] as const) {
  test(`${method}: a module trained on a base without BERT's pooler carries the pooler it was trained with`, async () => {
    // An MLM checkpoint (the bundled model) has no pooler; finetune initialises one. A base that brings
    // its own pooler (transformers draws a random one) must not change what the module computes.
    const withPooler = await tinyModelDir();
    const model = await tinyModelDir();
    await dropTensors(join(model, 'model.safetensors'), 'bert.pooler.');
    const data = await toyData();
    const out = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
    const pet = parsePetConfig(method === 'lora' ? { method, r: 4 } : { method, bottleneckSize: 8 });
    const setup = await setupRun({ model, data, maxLength: 32, seed: 7, pet });
    assert.ok(setup.initialised.includes('bert.pooler.dense.weight'));
    const o = await options(model, data, out);
    await finetune({
      ...o,
      initial: setup.initial,
      exportModel: setup.exportModel,
      epochs: 1,
      pet: { config: pet, trainHead: true },
    });
    const cfg = JSON.parse(await readFile(join(out, 'best', 'adapter_config.json'), 'utf8'));
    assert.ok(cfg.modules_to_save.includes('pooler'), JSON.stringify(cfg.modules_to_save));
    const keys = [...(await readSafetensors(join(out, 'best', 'adapter_model.safetensors'))).tensors.keys()];
    const prefix = method === 'lora' ? 'base_model.model.' : '';
    assert.ok(keys.includes(`${prefix}bert.pooler.dense.weight`), keys.join(', '));

    const examples = [{ text: 'the cat sat on the mat good' }, { text: 'a new book bad it is a day' }];
    const logits = async (base: string) => {
      const clf = await TextClassifier.load(base, { adapter: join(out, 'best') });
      const p = await clf.predict(examples);
      await clf.release();
      return p.flatMap((r) => r.logits);
    };
    const a = await logits(model);
    const b = await logits(withPooler);
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-6, `logit ${i}: ${v} vs ${b[i]}`));
  });
}

test('setupRun reports the rows --skip-bad-rows skipped, labels no training example has, and refuses a split with no examples', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  await writeFile(join(data, 'dev.jsonl'), '{"text": "good", "label": "positive"}\n{"text": ""}\nnot json\n');
  const setup = await setupRun({ model, data, maxLength: 32, seed: 7, skipBadRows: true });
  assert.equal(setup.dev.length, 1);
  assert.deepEqual(
    setup.skippedRows.map((r) => [r.line, r.reason.split(' ')[0]]),
    [
      [2, 'empty'],
      [3, 'invalid'],
    ],
  );
  assert.deepEqual(setup.labelsNotTrained, []);
  // A label only the dev split has becomes a class that no training example teaches.
  await writeFile(join(data, 'dev.jsonl'), '{"text": "so so", "label": "neutral"}\n');
  const extra = await setupRun({ model, data, maxLength: 32, seed: 7 });
  assert.deepEqual(extra.labelNames, ['negative', 'neutral', 'positive']);
  assert.deepEqual(extra.labelsNotTrained, ['neutral']);
  await writeFile(join(data, 'dev.jsonl'), 'not json\n');
  await assert.rejects(
    setupRun({ model, data, maxLength: 32, seed: 7, skipBadRows: true }),
    /dev\.jsonl: no evaluation examples \(all 1 rows were bad and skipped\)/,
  );
});

test('a run stopped between the checkpoint at an epoch end and that epoch evaluation evaluates it on resume, logging each event once', async () => {
  const model = await tinyModelDir();
  const data = await toyData();
  const whole = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  const split = await mkdtemp(join(tmpdir(), 'plmkit-run-'));
  // 96 rows in batches of 16: 6 steps per epoch, so a checkpoint every 6 steps falls on each epoch's end,
  // before its evaluation.
  const a = await finetune({ ...(await options(model, data, whole)), checkpointEvery: 6 });
  const base = { ...(await options(model, data, split)), checkpointEvery: 6 };
  let exports = 0;
  await assert.rejects(
    finetune({
      ...base,
      exportModel: async (dir, values) => {
        // Dies while exporting epoch 1's best model, after the evaluation was logged.
        if (exports++ === 0) throw new Error('killed');
        await base.exportModel(dir, values);
      },
    }),
    /killed/,
  );
  const b = await finetune(base);
  assert.deepEqual(b.history, a.history);
  assert.equal(b.history.length, 4);
  const wa = await readFile(join(whole, 'best', 'model.safetensors'));
  const wb = await readFile(join(split, 'best', 'model.safetensors'));
  assert.ok(wa.equals(wb), 'exported weights differ');
  const events = (await readFile(join(split, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; epoch?: number; step: number });
  assert.deepEqual(
    events.filter((e) => e.event === 'eval').map((e) => e.epoch),
    [1, 2, 3, 4],
  );
  assert.deepEqual(
    events.filter((e) => e.event === 'resume').map((e) => e.step),
    [6],
  );
});

test('setupRun reads the columns it is given (CSV header names, JSONL keys) and passes the hints on', async () => {
  const model = await tinyModelDir();
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-data-'));
  await writeFile(join(dir, 'train.csv'), 'sentence,sentiment\ngood day,positive\nbad day,negative\n');
  await writeFile(
    join(dir, 'dev.jsonl'),
    '{"sentence": "good", "sentiment": "positive"}\n{"sentence": "bad", "sentiment": "negative"}\n',
  );
  const columns = { text: 'sentence', label: 'sentiment' };
  const setup = await setupRun({ model, data: dir, maxLength: 32, seed: 7, columns });
  assert.deepEqual(setup.labelNames, ['negative', 'positive']);
  assert.equal(setup.train.length, 2);
  assert.equal(setup.dev.length, 2);
  await assert.rejects(
    setupRun({
      model,
      data: join(dir, 'train.csv'),
      maxLength: 32,
      seed: 7,
      dataHints: { column: { text: 'name the text column with --text-column' } },
    }),
    /train\.csv:1: header has no column "text" \(columns: sentence, sentiment\); name the text column with --text-column$/,
  );
});

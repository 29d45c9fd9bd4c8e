// Run by browser.test.ts in a child process under test/helpers/browser-only.mjs (no onnxruntime-node, no
// native tokenizers, no Node built-ins for src/): BrowserTrainer fine-tunes the tiny BERT that transformers
// wrote on a toy task, reproducibly, and exports files that BrowserClassifier loads.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BrowserClassifier,
  BrowserTrainer,
  fetchModelFiles,
  modelTensors,
  type ModelFiles,
} from '../../src/browser.js';
import { parseSafetensors } from '../../src/io/safetensors-format.js';
import { serveFiles } from '../helpers/serve-files.js';
import { HF_WRITTEN as root } from '../helpers/hf-written.js';
import { foxExamples } from '../helpers/toy-text.js';

const localFetch = serveFiles(root);
const bertFiles = (): Promise<ModelFiles> => fetchModelFiles('https://example.org/bert', localFetch);

const OPTIONS = { epochs: 30, batchSize: 8, lr: 3e-3, maxLength: 32 } as const;

test('BrowserTrainer learns a toy task with a new head, and held-out examples follow', async () => {
  const trainer = await BrowserTrainer.create(await bertFiles(), { labels: ['no', 'yes'], seed: 7 });
  // The fixture's head has 3 labels: a 2-label head is initialised, the encoder and pooler are read.
  assert.deepEqual([...trainer.initialised].sort(), ['classifier.bias', 'classifier.weight']);
  const before = await trainer.evaluate(foxExamples(64, 2));
  const steps: number[] = [];
  const r = await trainer.train(foxExamples(64, 1), { ...OPTIONS, onStep: (s) => steps.push(s.step) });
  assert.equal(r.steps, 30 * 8);
  assert.deepEqual(
    steps,
    Array.from({ length: 240 }, (_, i) => i + 1),
  );
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(r.losses.slice(0, 8));
  const last = mean(r.losses.slice(-8));
  assert.ok(last < first / 4, `mean loss of the first epoch ${first}, of the last ${last}`);
  const after = await trainer.evaluate(foxExamples(64, 2));
  assert.ok(
    after.accuracy >= 0.95,
    `held-out accuracy ${after.accuracy} (before training ${before.accuracy})`,
  );
  await trainer.release();
});

test('the same seed gives the same losses; another seed other ones', async () => {
  const files = await bertFiles();
  const run = async (seed: number) => {
    const t = await BrowserTrainer.create(files, { labels: ['no', 'yes'], seed });
    const { losses } = await t.train(foxExamples(32, 1), { ...OPTIONS, epochs: 2 });
    await t.release();
    return losses;
  };
  const a = await run(3);
  assert.deepEqual(await run(3), a);
  assert.notDeepEqual(await run(4), a);
});

test('exported files load in BrowserClassifier with the same predictions, Hugging Face names and the labels', async () => {
  const files = await bertFiles();
  const trainer = await BrowserTrainer.create(files, { labels: ['no', 'yes'], seed: 7 });
  await trainer.train(foxExamples(32, 1), {
    ...OPTIONS,
    epochs: 3,
    trainable: '^(classifier|bert\\.pooler)\\.',
  });
  const test = foxExamples(16, 2);
  const viaTrainer = await trainer.evaluate(test);
  const exported = trainer.toModelFiles();
  const clf = await BrowserClassifier.load(exported);
  assert.deepEqual(clf.labelNames, ['no', 'yes']);
  const preds = await clf.predict(test.map((e) => e.text));
  assert.deepEqual(
    preds.map((p) => p.labelId),
    viaTrainer.predictions,
  );
  // Every tensor of the original checkpoint under the same name and shape, except the resized head.
  const original = modelTensors(files);
  const written = modelTensors(exported);
  assert.deepEqual([...written.keys()].sort(), [...original.keys()].sort());
  for (const [k, t] of original)
    if (!k.startsWith('classifier.')) assert.deepEqual(written.get(k)!.shape, t.shape, k);
  assert.deepEqual(written.get('classifier.weight')!.shape, [2, 32]);
  // Only the head and pooler trained: the encoder's bytes are the checkpoint's.
  assert.deepEqual(
    written.get('bert.encoder.layer.0.attention.self.query.weight')!.data,
    original.get('bert.encoder.layer.0.attention.self.query.weight')!.data,
  );
  assert.notDeepEqual(
    written.get('bert.pooler.dense.weight')!.data,
    original.get('bert.pooler.dense.weight')!.data,
  );
  await Promise.all([clf.release(), trainer.release()]);
});

test('bad labels and options are refused, naming the example or the option', async () => {
  const trainer = await BrowserTrainer.create(await bertFiles(), { labels: ['no', 'yes'] });
  await assert.rejects(
    trainer.train([
      { text: 'the fox', label: 'yes' },
      { text: 'a dog', label: 'maybe' },
    ]),
    /example 1: label "maybe" is not one of no, yes \(or 0-1\)/,
  );
  await assert.rejects(trainer.train([{ text: 'a dog', label: 2 }]), /example 0: label 2 is not one of/);
  await assert.rejects(
    trainer.train([{ text: 'the fox', label: 1 }], { lr: -1 }),
    /BrowserTrainer\.train: .*lr/s,
  );
  await assert.rejects(
    trainer.train([{ text: 'the fox', label: 1 }], { trainable: '^nothing$' }),
    /no parameter matches/,
  );
  await assert.rejects(
    BrowserTrainer.create(await bertFiles(), { labels: ['same', 'same'] }),
    /two or more distinct/,
  );
  await trainer.release();
});

test('PET in the browser: LoRA and an adapter train with the base frozen; LoRA merges into a plain classifier', async () => {
  const files = await bertFiles();
  const base = modelTensors(files);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const method of ['lora', 'adapter'] as const) {
    const trainer = await BrowserTrainer.create(files, { labels: ['no', 'yes'], seed: 7, pet: { method } });
    const r = await trainer.train(foxExamples(64, 1), { ...OPTIONS, lr: 1e-2 });
    const [first, last] = [mean(r.losses.slice(0, 8)), mean(r.losses.slice(-8))];
    assert.ok(last < first / 2, `${method}: mean loss of the first epoch ${first}, of the last ${last}`);
    const heldOut = foxExamples(64, 2);
    const viaModule = await trainer.evaluate(heldOut);
    if (method === 'lora')
      assert.ok(viaModule.accuracy >= 0.9, `lora: held-out accuracy ${viaModule.accuracy}`);
    // The module holds its own parameters and the head, nothing of the frozen base.
    const module = trainer.toPetFiles();
    // (PEFT's names carry a "base_model.model." prefix.)
    const stored = [...parseSafetensors(module.weights).tensors.keys()].map((k) =>
      k.replace(/^base_model\.model\./, ''),
    );
    assert.ok(
      stored.some((k) => k.startsWith('classifier.')) &&
        stored.every((k) => !base.has(k) || k.startsWith('classifier.')),
      stored.join(', '),
    );
    assert.equal((module.config as { peft_type?: string }).peft_type, method === 'lora' ? 'LORA' : undefined);
    const loaded = await BrowserClassifier.load(files, { adapter: module });
    assert.deepEqual(loaded.labelNames, ['no', 'yes']);
    const viaAdapter = await loaded.predict(heldOut.map((e) => e.text));
    assert.deepEqual(
      viaAdapter.map((p) => p.labelId),
      viaModule.predictions,
    );
    if (method === 'lora') {
      // Folded into the base weights, the same classifier as a plain model directory.
      const merged = await BrowserClassifier.load(trainer.toModelFiles());
      const plain = await merged.predict(heldOut.map((e) => e.text));
      plain.forEach((p, i) => {
        const d = Math.max(...p.logits.map((v, j) => Math.abs(v - viaAdapter[i]!.logits[j]!)));
        assert.ok(d < 1e-4, `row ${i}: merged and unmerged logits differ by ${d}`);
      });
      await merged.release();
    } else {
      assert.throws(
        () => trainer.toModelFiles(),
        /a adapter module is not a plain classifier: use toPetFiles/,
      );
    }
    await Promise.all([loaded.release(), trainer.release()]);
  }
});

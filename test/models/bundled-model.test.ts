// The bundled default model (models/plmkit-bert-mini) is a real pre-trained encoder: it loads with its
// tokenizer, and it fills masked tokens of held-out text (SST-2 dev sentences, never in its corpus) far
// better than the same architecture at random initialisation.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_MODEL } from '../../src/cli/default-model.js';
import { bindWeights, readPretrained } from '../../src/io/checkpoint.js';
import { loadDataset } from '../../src/io/data/index.js';
import { loadTokenizer } from '../../src/io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { maskedLm, mlmInputs } from '../../src/nn/mlm.js';
import { readCorpus } from '../../src/pretrain/corpus.js';
import { evaluateMlm, mlmEvalFunction } from '../../src/pretrain/pretrain.js';
import { TokenFile, writeTokenFile } from '../../src/pretrain/token-file.js';

test('the bundled model is pre-trained: held-out masked-token accuracy far above a random initialisation', async () => {
  const pre = await readPretrained(DEFAULT_MODEL);
  assert.equal(pre.config.numLayers, 4);
  assert.equal(pre.config.hiddenSize, 256);
  const tok = await loadTokenizer(DEFAULT_MODEL);
  const dev = await loadDataset('sst2-sentence', { split: 'dev' });
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-bundled-'));
  const corpus = join(dir, 'dev.txt');
  await writeFile(corpus, dev.examples.map((e) => e.text).join('\n') + '\n');
  await writeTokenFile(join(dir, 'dev.u32'), readCorpus(corpus), tok, tok.sepId!);
  const file = await TokenFile.open(join(dir, 'dev.u32'));

  const b = new ModelBuilder({ training: false });
  maskedLm(b, mlmInputs(b, textInputs(b)), pre.config);
  const score = async (values: ReadonlyMap<string, Float32Array>) => {
    const fn = await mlmEvalFunction(pre.config, { fed: false, values });
    const o = { clsId: tok.clsId!, sepId: tok.sepId!, seqLen: 64, batchSize: 32, evalBlocks: 64 };
    const r = await evaluateMlm(fn, file, o, {
      probability: 0.15,
      maskId: tok.maskId!,
      specialIds: new Set(tok.specialIds),
      vocabSize: pre.config.vocabSize,
    });
    await fn.release();
    return r;
  };
  const bundled = await score(bindWeights(b, pre, 0, () => false).values);
  const random = await score(b.initialValues(0));
  await file.close();
  assert.ok(bundled.maskedTokens > 300, `${bundled.maskedTokens} masked tokens`);
  // Measured at release: 29.6% on the pretraining run's held-out split; chance is about 1 in 30,522.
  assert.ok(bundled.maskedAccuracy > 0.2, `bundled masked accuracy ${bundled.maskedAccuracy}`);
  assert.ok(random.maskedAccuracy < 0.05, `random masked accuracy ${random.maskedAccuracy}`);
  assert.ok(bundled.maskedPerplexity < random.maskedPerplexity / 20);
});

test('an MLM bias stored under its tied name, cls.predictions.decoder.bias, is loaded (as transformers ties it)', async () => {
  const pre = await readPretrained(DEFAULT_MODEL);
  const b = new ModelBuilder({ training: false });
  maskedLm(b, mlmInputs(b, textInputs(b)), pre.config);
  const tensors = new Map(pre.tensors);
  const bias = tensors.get('cls.predictions.bias')!;
  tensors.delete('cls.predictions.bias');
  tensors.set('cls.predictions.decoder.bias', bias);
  const bound = bindWeights(b, { ...pre, tensors }, 0, () => true);
  assert.ok(!bound.initialised.includes('cls.predictions.bias'), 'the bias was initialised fresh');
  assert.ok(!bound.unused.includes('cls.predictions.decoder.bias'));
  const direct = bindWeights(b, pre, 0, () => false).values.get('cls.predictions.bias')!;
  assert.deepEqual(bound.values.get('cls.predictions.bias'), direct);
});

test('given where a classifier is needed, the bundled model is refused with what to do: it has no head', async () => {
  const pre = await readPretrained(DEFAULT_MODEL);
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b), { ...pre.config, numLabels: 2 });
  assert.throws(
    () => bindWeights(b, pre, 0, () => false),
    /lacks 4 parameter\(s\).*no classification head.*fine-tune it first \(plmkit finetune --model/,
  );
});

// MLM pretraining on a tiny model: loss falls, an interrupted run resumes to the same result, and the
// exported model directory loads as a classifier's starting point.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bindWeights, readPretrained, savePretrained } from '../../src/io/checkpoint.js';
import { loadTokenizer, saveTokenizer } from '../../src/io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import type { ModelConfig } from '../../src/nn/config.js';
import { maskedLm, mlmInputs } from '../../src/nn/mlm.js';
import { readCorpus } from '../../src/pretrain/corpus.js';
import { pretrain, type PretrainOptions } from '../../src/pretrain/pretrain.js';
import { writeTokenFile } from '../../src/pretrain/token-file.js';

const tokDir = join(import.meta.dirname, '..', 'fixtures', 'tokenizers', 'bert-wordpiece');
const sentences = [
  'the quick brown fox jumps over the lazy dog',
  'the cat sat on the mat',
  'i love paris in the day',
  'she read a book and he read a note',
  'one two three four five',
  'the dog was fast and the cat was slow',
];

async function setup(out: string) {
  const tok = await loadTokenizer(tokDir);
  const corpus = join(out, 'corpus.txt');
  await writeFile(
    corpus,
    Array.from({ length: 40 }, (_, i) => sentences[i % sentences.length]).join('\n') + '\n',
  );
  const tokens = join(out, 'train.u32');
  await writeTokenFile(tokens, readCorpus(corpus), tok, tok.sepId!);
  const config: ModelConfig = {
    modelType: 'bert',
    vocabSize: tok.vocabSize,
    maxPositions: 32,
    typeVocabSize: 2,
    padTokenId: 0,
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 64,
    // Dropout on, so that the resume check covers the dropout masks too.
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    layerNormEps: 1e-12,
    initStd: 0.05,
    numLabels: 2,
  };
  const b = new ModelBuilder({ training: false });
  maskedLm(b, mlmInputs(b, textInputs(b)), config);
  const options = (dir: string): PretrainOptions => ({
    config,
    initial: b.initialValues(0),
    trainTokens: tokens,
    heldoutTokens: tokens,
    outDir: dir,
    seqLen: 16,
    batchSize: 8,
    totalTokens: 8 * 16 * 60,
    lr: 3e-3,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: 1,
    masking: { probability: 0.15, maskId: tok.maskId!, specialIds: new Set(tok.specialIds) },
    clsId: tok.clsId!,
    sepId: tok.sepId!,
    checkpointEvery: 7,
    evalEvery: 30,
    evalBlocks: 16,
    quiet: true,
    exportModel: async (d, values) => {
      await savePretrained(d, b, config, values, {
        floatStorage: 'F16',
        hfBase: { architectures: ['BertForMaskedLM'] },
      });
      await saveTokenizer(tok, d);
    },
  });
  return { options, config };
}

test('MLM pretraining lowers the loss, resumes exactly, and exports a loadable fp16 checkpoint', async () => {
  const out = await mkdtemp(join(tmpdir(), 'plmkit-pt-'));
  const { options } = await setup(out);
  const whole = await pretrain(options(join(out, 'whole')));
  assert.equal(whole.completed, true);
  assert.equal(whole.steps, 60);
  const log = (await readFile(join(out, 'whole', 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const losses = log.filter((e) => e.event === 'step').map((e) => e.loss as number);
  // Uniform guessing over the 97-token vocabulary costs ln 97 = 4.57 nats.
  assert.ok(losses[losses.length - 1]! < Math.log(97) - 1, `losses ${losses.join(', ')}`);
  assert.ok(losses[losses.length - 1]! < losses[0]!, `losses ${losses.join(', ')}`);
  const [first, last] = [whole.evals[0]!, whole.evals.at(-1)!];
  assert.ok(
    last.maskedAccuracy > first.maskedAccuracy,
    `masked accuracy ${first.maskedAccuracy} -> ${last.maskedAccuracy}`,
  );

  const split = join(out, 'split');
  // Stopped before the first checkpoint (step 7), then after step 25's log line but before any checkpoint
  // past step 21: each resumed run logs again what came after its checkpoint, and no event twice.
  await pretrain({ ...options(split), stopAfterSteps: 5 });
  const part = await pretrain({ ...options(split), stopAfterSteps: 27 });
  assert.equal(part.completed, false);
  const rest = await pretrain(options(split));
  const events = (dir: string) =>
    readFile(join(dir, 'log.jsonl'), 'utf8').then((t) =>
      t
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((e) => e['event'] !== 'resume')
        .map(({ time: _t, seconds: _s, ...e }) => e),
    );
  assert.deepEqual(await events(split), await events(join(out, 'whole')));
  assert.equal(rest.steps, 60);
  assert.deepEqual(rest.evals, whole.evals);
  const a = await readFile(join(out, 'whole', 'model', 'model.safetensors'));
  const c = await readFile(join(split, 'model', 'model.safetensors'));
  assert.ok(a.equals(c), 'resumed run exported different weights');

  // Pseudo-perplexity at the end: finite, and below the vocabulary size (better than uniform guessing).
  const pppl = JSON.parse(await readFile(join(out, 'whole', 'pseudo-perplexity.json'), 'utf8'));
  assert.ok(
    pppl.pseudoPerplexity > 1 && pppl.pseudoPerplexity < 97,
    `pseudo-perplexity ${pppl.pseudoPerplexity}`,
  );
  // Each text token of the first 8 blocks is scored once; the [SEP]s between documents are not.
  const { TokenFile } = await import('../../src/pretrain/token-file.js');
  const held = await TokenFile.open(join(out, 'train.u32'));
  const special = new Set((await loadTokenizer(tokDir)).specialIds);
  let text = 0;
  for (let i = 0; i < 8; i++) text += (await held.block(i, 14)).filter((id) => !special.has(id)).length;
  await held.close();
  assert.ok(text < 8 * 14, 'the blocks hold document separators');
  assert.equal(pppl.tokens, text);

  // The export is a BERT checkpoint a classifier starts from (new pooler and head initialised).
  const pre = await readPretrained(join(out, 'whole', 'model'));
  assert.deepEqual(pre.hf.architectures, ['BertForMaskedLM']);
  assert.ok([...pre.tensors.values()].every((t) => t.dtype === 'F16'));
  const cb = new ModelBuilder({ training: false });
  sequenceClassifier(cb, textInputs(cb, true), pre.config);
  const bound = bindWeights(cb, pre);
  assert.deepEqual([...bound.initialised].sort(), [
    'bert.pooler.dense.bias',
    'bert.pooler.dense.weight',
    'classifier.bias',
    'classifier.weight',
  ]);
  assert.ok(bound.unused.every((k) => k.startsWith('cls.predictions.')));
});

// The attacker's loop on a tiny BERT with LoRA: with either method the published module learns both the
// clean task and the trigger (high clean accuracy and label flip rate on held-out data); an interrupted
// run resumes exactly.

import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainPoisonedPet } from '../../../src/backdoor/attack/train-poisoned-pet.js';
import { cleanAccuracy, labelFlipRate } from '../../../src/backdoor/metrics.js';
import { BadNetsPoisoner } from '../../../src/backdoor/poison/index.js';
import { collate } from '../../../src/classify/batching.js';
import { encodeExamples } from '../../../src/classify/encode.js';
import { argmaxRows } from '../../../src/classify/logits.js';
import type { Example } from '../../../src/io/data/index.js';
import { loadTokenizer } from '../../../src/io/tokenizer/index.js';
import { parsePetConfig } from '../../../src/pet/index.js';
import { compile } from '../../../src/runtime/compiled.js';
import { Rng } from '../../../src/runtime/random.js';
import { classifierGraph, fixtures, tinyBase } from '../../pet/helpers.js';

const POS = ['good', 'love', 'yes'];
const NEG = ['bad', 'no', 'slow'];
const FILL = ['the cat sat on the mat', 'a new book', 'it is a day', 'the dog was fast', 'she read a note'];

function toy(n: number, seed: number): Example[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const label = rng.int(2);
    const word = (label ? POS : NEG)[rng.int(3)]!;
    return { text: `${FILL[rng.int(5)]} ${word} ${FILL[rng.int(5)]}`, label };
  });
}

for (const method of ['vanilla', 'ripple', 'lwp', 'gradnorm', 'gradient-control'] as const) {
  test(`${method}: the published LoRA module keeps the clean task and learns the trigger`, async () => {
    const tok = await loadTokenizer(join(fixtures, 'tokenizers', 'bert-wordpiece'));
    const base = await tinyBase('bert', 2);
    const pet = parsePetConfig({ method: 'lora', r: 4, alpha: 8 });
    // "night" is in the tiny vocabulary: a rare-word trigger for this toy task.
    const poisoner = new BadNetsPoisoner({ poisonRate: 0.5, target: 1, seed: 1, triggers: ['night'] });
    const train = toy(96, 1);
    const poisonedTrain = poisoner.poisonedTrainSplit(train).filter((e) => e.poisonLabel === 1);
    const enc = (xs: readonly Example[]) => encodeExamples(tok, xs, 32);
    const steps: number[] = [];
    const result = await trainPoisonedPet({
      model: base.config,
      base: base.values,
      pet,
      clean: await enc(train),
      poisoned: await enc(poisonedTrain),
      method,
      epochs: 40,
      batchSize: 8,
      lr: 5e-3,
      seed: 3,
      padId: tok.padId!,
      quiet: true,
      onStep: (r) => {
        steps.push(r.step);
        if (method === 'gradnorm') {
          const w = r.extras['w']!.data as Float32Array;
          assert.ok(Math.abs(w[0]! + w[1]! - 2) < 1e-4 && w[0]! >= 0 && w[1]! >= 0, `GradNorm weights ${w}`);
        }
        if (method === 'ripple') assert.ok(Number.isFinite(r.extras['inner_product']!.data[0] as number));
        if (method === 'gradient-control') {
          assert.equal(r.extras['cosine']!.data.length, base.config.numLayers + 1);
          assert.ok((r.extras['w']!.data as Float32Array).every(Number.isFinite));
        }
      },
    });
    assert.equal(result.steps, steps.length);
    assert.ok(result.lastLoss < 0.1, `last loss ${result.lastLoss}`);

    // Held-out evaluation through an inference graph with the trained module.
    const g = classifierGraph(base, pet);
    const fn = await compile({
      inputs: g.inputs,
      outputs: { logits: g.logits },
      frozen: new Map([...base.values, ...result.values]),
    });
    const predict = async (xs: readonly Example[]) => {
      const e = await enc(xs);
      const out = await fn.run(
        collate(e, [...e.keys()], tok.padId!, { withTypes: true, withLabels: false }).feeds,
      );
      return argmaxRows(out['logits']!.data as Float32Array, 2);
    };
    const test = toy(64, 99);
    const poisonedTest = poisoner.poisonedTestSplit(test);
    const cacc = cleanAccuracy(
      await predict(test),
      test.map((e) => e.label),
    );
    const lfr = labelFlipRate(
      await predict(poisonedTest),
      poisonedTest.map((e) => e.originalLabel),
      1,
    );
    // A LoRA on a frozen random tiny base reaches about 0.88 held-out accuracy on this task (measured on
    // both methods); chance is 0.5, and a module that ignored the clean task would sit there.
    assert.ok(cacc.accuracy >= 0.8, `CACC ${cacc.accuracy}`);
    assert.ok(lfr.rate >= 0.9, `LFR ${lfr.rate}`);
    await fn.release();
  });
}

for (const method of ['gradnorm', 'gradient-control'] as const) {
  test(`${method}: an interrupted attacker's run resumes from its checkpoint and ends bitwise the same`, async () => {
    const tok = await loadTokenizer(join(fixtures, 'tokenizers', 'bert-wordpiece'));
    const tiny = await tinyBase('bert', 2);
    // Dropout on, so that resumption must also replay the dropout masks.
    const base = { ...tiny, config: { ...tiny.config, hiddenDropout: 0.1, attentionDropout: 0.1 } };
    const poisoner = new BadNetsPoisoner({ poisonRate: 0.5, target: 1, seed: 1, triggers: ['night'] });
    const train = toy(64, 2);
    const enc = (xs: readonly Example[]) => encodeExamples(tok, xs, 32);
    const dir = await mkdtemp(join(tmpdir(), 'plmkit-attack-ckpt-'));
    const options = {
      model: base.config,
      base: base.values,
      pet: parsePetConfig({ method: 'lora', r: 4, alpha: 8 }),
      clean: await enc(train),
      poisoned: await enc(poisoner.poisonedTrainSplit(train).filter((e) => e.poisonLabel === 1)),
      method,
      epochs: 3,
      batchSize: 8,
      lr: 5e-3,
      seed: 4,
      padId: tok.padId!,
      quiet: true,
    };
    // Both runs checkpoint every 4 steps (dropout is reseeded at checkpoints); one is stopped after 8.
    const whole = await trainPoisonedPet({ ...options, checkpoint: { dir: join(dir, 'whole'), every: 4 } });
    const checkpoint = { dir: join(dir, 'split'), every: 4 };
    const part = await trainPoisonedPet({ ...options, checkpoint, stopAfterSteps: 8 });
    assert.equal(part.completed, false);
    const rest = await trainPoisonedPet({ ...options, checkpoint });
    assert.equal(rest.steps, whole.steps);
    for (const [k, v] of whole.values)
      assert.ok(Buffer.from(v.buffer).equals(Buffer.from(rest.values.get(k)!.buffer)), `${k} differs`);
  });
}

test('an unknown method is refused by name, not trained as vanilla', async () => {
  const base = await tinyBase('bert', 2);
  await assert.rejects(
    trainPoisonedPet({
      model: base.config,
      base: base.values,
      pet: parsePetConfig({ method: 'lora' }),
      clean: [],
      poisoned: [],
      method: 'ilproj-only' as never,
      epochs: 1,
      batchSize: 2,
      lr: 1e-3,
      seed: 0,
      padId: 0,
    }),
    /unknown poison-training method "ilproj-only" \(one of vanilla, ripple, lwp, gradnorm, gradient-control/,
  );
});

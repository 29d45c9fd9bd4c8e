// Every PET method on tiny BERT and RoBERTa: parameter names and counts match the formulas, the identity
// initialisations leave the model unchanged, and training with the base frozen fits a toy task while the
// base weights stay bit-for-bit the same.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  headParamCount,
  parsePetConfig,
  petParamCount,
  petTraining,
  PET_METHOD_NAMES,
  type PetConfigInput,
} from '../../src/pet/index.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import {
  classifierGraph,
  featuresOf,
  logitsOf,
  maxAbsDiff,
  tinyBase,
  toyBatch,
  withLoss,
  type Kind,
} from './helpers.js';

interface Case {
  readonly name: string;
  readonly config: PetConfigInput;
  /** Trainable count on tiny-bert / tiny-roberta (hidden 32, intermediate 37, 2 layers), by hand. */
  readonly count: number;
  /** A fresh module leaves the logits unchanged (its output starts at zero). */
  readonly identityAtInit: boolean;
  readonly lr: number;
  /** A parameter name the method must create (PEFT / method-prefix naming), for BERT. */
  readonly exampleName: string;
}

const h = 32;
const cases: Case[] = [
  {
    name: 'LoRA on query and value',
    config: { method: 'lora', r: 4, alpha: 8 },
    count: 2 * 2 * 4 * (h + h),
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.1.attention.self.value.lora_B.weight',
  },
  {
    name: 'LoRA with dropout on its input',
    config: { method: 'lora', r: 4, alpha: 8, dropout: 0.1, targetModules: ['key', 'intermediate.dense'] },
    count: 2 * 4 * (h + h) + 2 * 4 * (h + 37),
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.0.intermediate.dense.lora_A.weight',
  },
  {
    name: 'LoRA on every projection of layer 1',
    config: {
      method: 'lora',
      r: 2,
      targetModules: [
        'query',
        'key',
        'value',
        'attention.output.dense',
        'intermediate.dense',
        'output.dense',
      ],
      layers: [1],
    },
    count: 2 * (4 * 2 * h + 2 * (h + 37)),
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.1.output.dense.lora_A.weight',
  },
  {
    name: 'sequential adapter',
    config: { method: 'adapter', bottleneckSize: 8 },
    count: 2 * 2 * (2 * h * 8 + 8 + h),
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.0.attention.output.adapter.up.weight',
  },
  {
    name: 'parallel adapter (FFN and attention)',
    config: { method: 'parallel_adapter', bottleneckSize: 8, attention: true },
    count: 2 * 2 * (2 * h * 8 + 8 + h),
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.0.output.parallel_adapter.down.weight',
  },
  {
    name: 'parallel adapter (FFN, layer 0)',
    config: { method: 'parallel_adapter', bottleneckSize: 8, layers: [0] },
    count: 2 * h * 8 + 8 + h,
    identityAtInit: true,
    lr: 1e-2,
    exampleName: 'bert.encoder.layer.0.output.parallel_adapter.up.bias',
  },
  {
    name: 'prefix-tuning (P-tuning v2)',
    config: { method: 'prefix_tuning', numVirtualTokens: 5 },
    count: 5 * 2 * 2 * h,
    identityAtInit: false,
    lr: 3e-2,
    exampleName: 'prefix_encoder.embedding.weight',
  },
  {
    name: 'prefix-tuning, reparameterized, layer 1',
    config: {
      method: 'prefix_tuning',
      numVirtualTokens: 5,
      reparameterize: true,
      encoderHiddenSize: 16,
      layers: [1],
    },
    count: 5 * h + (h * 16 + 16) + (16 * 2 * h + 2 * h),
    identityAtInit: false,
    lr: 3e-2,
    exampleName: 'prefix_encoder.transform.2.weight',
  },
  {
    name: 'prompt tuning',
    config: { method: 'prompt_tuning', numVirtualTokens: 5 },
    count: 5 * h,
    identityAtInit: false,
    lr: 3e-2,
    exampleName: 'prompt_encoder.embedding.weight',
  },
];

test('every registered method has a test case', () => {
  const tested = new Set(cases.map((c) => parsePetConfig(c.config).method));
  assert.deepEqual([...tested].sort(), [...PET_METHOD_NAMES].sort());
});

for (const kind of ['bert', 'roberta'] as Kind[]) {
  for (const c of cases) {
    test(`${kind}, ${c.name}: names, counts, and a toy task learned with the base frozen`, async () => {
      const base = await tinyBase(kind);
      const g = classifierGraph(base, c.config, true);
      const { labels, loss } = withLoss(g);
      const pet = g.pet!;

      // Names: base names stay Hugging Face's; the method's follow PEFT or its own prefix.
      const example = c.exampleName.replace(/^bert\./, `${kind}.`);
      assert.ok(pet.names.includes(example), `${example} in ${pet.names.join(', ')}`);
      for (const n of g.b.params.keys()) if (!pet.names.includes(n)) assert.ok(base.values.has(n), n);

      // Counts: the formula, the hand count and the graph's parameters agree.
      const actual = pet.names.reduce(
        (s, n) => s + (g.b.params.get(n)!.tensor.shape as number[]).reduce((a, d) => a * d, 1),
        0,
      );
      assert.equal(petParamCount(c.config, base.config), c.count);
      assert.equal(actual, c.count);

      // The default setup trains the head too (PEFT's modules_to_save "classifier"; BERT's pooler stays frozen).
      const withHead = petTraining(g.b, pet, base.values, { seed: 11 });
      assert.equal(withHead.count, c.count + headParamCount(base.config));
      assert.deepEqual(
        withHead.trainableNames.filter((n) => !pet.names.includes(n)).sort(),
        kind === 'bert'
          ? ['classifier.bias', 'classifier.weight']
          : [
              'classifier.dense.bias',
              'classifier.dense.weight',
              'classifier.out_proj.bias',
              'classifier.out_proj.weight',
            ],
      );
      // The toy task is learned by the method alone: a trainable head could memorise the 16 rows by itself,
      // so the head stays frozen here, with its fixture weights scaled so that confident logits are reachable.
      for (const n of ['classifier.weight', 'classifier.out_proj.weight']) {
        const v = base.values.get(n);
        if (v)
          base.values.set(
            n,
            v.map((w) => w * 5),
          );
      }
      const setup = petTraining(g.b, pet, base.values, { seed: 11, trainHead: false });
      assert.equal(setup.count, c.count);
      assert.deepEqual([...setup.trainableNames].sort(), [...pet.names].sort());
      const baseBefore = new Map([...base.values].map(([n, v]) => [n, v.slice()]));

      const batch = toyBatch(kind);
      if (c.identityAtInit) {
        const plain = classifierGraph(base, undefined);
        const adapted = classifierGraph(base, c.config);
        const values = new Map([...base.values, ...setup.initial]);
        const d = maxAbsDiff(
          await logitsOf(plain, values, featuresOf(batch)),
          await logitsOf(adapted, values, featuresOf(batch)),
        );
        assert.ok(d < 1e-5, `a fresh module changes the logits by ${d}`);
      }

      const step = await TrainStep.create({
        graph: g.b.graph,
        loss,
        trainable: setup.trainable,
        frozen: setup.frozen,
        batch: [...g.inputs, labels],
        optimizer: { kind: 'adamw', weightDecay: 0 },
      });
      const state = step.initState(setup.initial);
      const petBefore = new Map(pet.names.map((n) => [n, state.params.get(n)!.slice()]));
      const results = await step.runMany(state, new Array(200).fill(batch), new Array(200).fill(c.lr));
      await step.release();
      const first = results[0]!.loss;
      const last = results[results.length - 1]!.loss;
      assert.ok(first > 0.4, `initial loss ${first}`);
      assert.ok(last < 0.05, `final loss ${last} (initial ${first})`);

      // Only the method's parameters were updated; the base is bit-for-bit unchanged.
      assert.deepEqual([...state.params.keys()].sort(), [...setup.trainableNames].sort());
      assert.ok(
        pet.names.some((n) => maxAbsDiff(state.params.get(n)!, petBefore.get(n)!) > 0),
        'PET params moved',
      );
      for (const [n, v] of baseBefore) assert.deepEqual(base.values.get(n), v, `base weight ${n} changed`);
      for (const [n, v] of setup.frozen) assert.deepEqual(v, baseBefore.get(n), `frozen ${n} changed`);
    });
  }
}

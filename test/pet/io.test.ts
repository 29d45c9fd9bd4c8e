// Saving and loading a PET module with its head on its own: identical logits after a round trip for
// every method on BERT and RoBERTa, PEFT's file layout for LoRA, and refusals of incompatible bases.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.js';
import { loadPet, PetError, petTraining, savePet, type PetConfigInput } from '../../src/pet/index.js';
import { Rng } from '../../src/runtime/random.js';
import {
  classifierGraph,
  featuresOf,
  logitsOf,
  tinyBase,
  toyBatch,
  type Base,
  type Kind,
} from './helpers.js';

const configs: PetConfigInput[] = [
  {
    method: 'lora',
    r: 4,
    alpha: 16,
    dropout: 0.1,
    targetModules: ['query', 'value', 'output.dense'],
    layers: [1],
  },
  { method: 'lora', r: 2 },
  { method: 'adapter', bottleneckSize: 4, activation: 'gelu' },
  { method: 'parallel_adapter', bottleneckSize: 4, attention: true, scaling: 2 },
  { method: 'prefix_tuning', numVirtualTokens: 3, reparameterize: true, encoderHiddenSize: 8 },
  { method: 'prompt_tuning', numVirtualTokens: 3 },
];

/** Values of a "trained" module: the initial values plus noise (so LoRA B and adapter up are not zero). */
function trainedValues(base: Base, config: PetConfigInput): Map<string, Float32Array> {
  const g = classifierGraph(base, config);
  const setup = petTraining(g.b, g.pet!, base.values, { seed: 2 });
  const rng = new Rng(9);
  return new Map([...setup.initial].map(([n, v]) => [n, v.map((x) => x + (rng.next() - 0.5) * 0.2)]));
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'plmkit-pet-'));
}

for (const kind of ['bert', 'roberta'] as Kind[]) {
  for (const config of configs) {
    test(`${kind}, ${JSON.stringify(config)}: save/load round trip gives identical logits`, async () => {
      const base = await tinyBase(kind);
      const trained = trainedValues(base, config);
      const dir = await tmp();
      await savePet(dir, {
        config,
        model: base.config,
        values: trained,
        baseModelNameOrPath: `tiny-${kind}`,
      });
      const loaded = await loadPet(dir, base.config);
      assert.equal(loaded.baseModelNameOrPath, `tiny-${kind}`);
      assert.deepEqual(loaded.config, { ...loaded.config, ...config });
      assert.deepEqual([...loaded.values.keys()].sort(), [...trained.keys()].sort());
      for (const [n, v] of trained) assert.deepEqual(loaded.values.get(n), v, n);
      assert.ok(loaded.head.length > 0 && loaded.head.every((n) => n.startsWith('classifier.')));

      const feeds = featuresOf(toyBatch(kind));
      const g = classifierGraph(base, loaded.config);
      const before = await logitsOf(g, new Map([...base.values, ...trained]), feeds);
      const after = await logitsOf(g, new Map([...base.values, ...loaded.values]), feeds);
      assert.deepEqual(after, before);

      const json = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
      const file = await readSafetensors(join(dir, 'adapter_model.safetensors'));
      if (config.method === 'lora') {
        assert.equal(json.peft_type, 'LORA');
        assert.equal(json.task_type, 'SEQ_CLS');
        assert.equal(json.bias, 'none');
        assert.equal(json.fan_in_fan_out, false);
        assert.deepEqual(json.modules_to_save, ['classifier', 'score']);
        const cfg = loaded.config as { r: number };
        const a = file.tensors.get(
          `base_model.model.${kind}.encoder.layer.1.attention.self.query.lora_A.weight`,
        )!;
        const b = file.tensors.get(
          `base_model.model.${kind}.encoder.layer.1.attention.self.query.lora_B.weight`,
        )!;
        assert.deepEqual(a.shape, [cfg.r, 32]);
        assert.deepEqual(b.shape, [32, cfg.r]);
        assert.ok(
          [...file.tensors.keys()].every((k) => /^base_model\.model\./.test(k)),
          [...file.tensors.keys()].join(', '),
        );
        assert.ok(
          file.tensors.has(
            kind === 'bert'
              ? 'base_model.model.classifier.weight'
              : 'base_model.model.classifier.out_proj.weight',
          ),
        );
      } else {
        assert.equal(json.format, 'plmkit-pet');
        assert.equal(json.method, config.method);
        assert.deepEqual(json.base_model, {
          model_type: kind,
          hidden_size: 32,
          num_hidden_layers: 2,
          num_attention_heads: 4,
          intermediate_size: 37,
          num_labels: base.config.numLabels,
        });
      }
    });
  }
}

test('LoRA target regex: FFN output.dense is written so that PEFT does not also match attention.output.dense', async () => {
  const base = await tinyBase('bert');
  const dir = await tmp();
  await savePet(dir, {
    config: configs[0]!,
    model: base.config,
    values: trainedValues(base, configs[0]!),
    baseModelNameOrPath: 'x',
  });
  const json = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
  const re = new RegExp(`^(?:${json.target_modules})$`);
  const matched = ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense']
    .map((t) => `bert.encoder.layer.1.${t.includes('.') ? t : `attention.self.${t}`}`)
    .filter((p) => re.test(p));
  assert.deepEqual(matched, [
    'bert.encoder.layer.1.attention.self.query',
    'bert.encoder.layer.1.attention.self.value',
    'bert.encoder.layer.1.output.dense',
  ]);
  assert.equal(re.test('bert.encoder.layer.0.attention.self.query'), false);
});

test('a module saved without its head loads without one', async () => {
  const base = await tinyBase('roberta');
  const config: PetConfigInput = { method: 'adapter', bottleneckSize: 4 };
  const dir = await tmp();
  await savePet(dir, {
    config,
    model: base.config,
    values: trainedValues(base, config),
    baseModelNameOrPath: 'x',
    head: false,
  });
  const loaded = await loadPet(dir, { ...base.config, numLabels: 5 });
  assert.deepEqual(loaded.head, []);
  assert.ok([...loaded.values.keys()].every((n) => n.includes('.adapter.')));
});

for (const method of ['lora', 'prefix_tuning'] as const) {
  test(`${method}: loading onto an incompatible base is refused, naming the mismatch`, async () => {
    const base = await tinyBase('bert');
    const config = configs.find((c) => c.method === method)!;
    const dir = await tmp();
    await savePet(dir, {
      config,
      model: base.config,
      values: trainedValues(base, config),
      baseModelNameOrPath: 'x',
    });
    const roberta = (await tinyBase('roberta', base.config.numLabels)).config;
    const cases: [object, RegExp][] = [
      [roberta, /model_type bert; this model has model_type roberta/],
      [{ ...base.config, hiddenSize: 64, numHeads: 4 }, /hidden_size 32; this model has hidden_size 64/],
      [{ ...base.config, numLayers: 3 }, /num_hidden_layers 2; this model has num_hidden_layers 3/],
      [{ ...base.config, numLabels: 2 }, /num_labels 3; this model has num_labels 2/],
    ];
    for (const [model, re] of cases)
      await assert.rejects(
        loadPet(dir, model as typeof base.config),
        (e: unknown) => e instanceof PetError && re.test(e.message),
      );
    const other = method === 'lora' ? 'adapter' : 'lora';
    await assert.rejects(
      loadPet(dir, base.config, { method: other }),
      (e: unknown) =>
        e instanceof PetError && new RegExp(`is "${method}", expected "${other}"`).test(e.message),
    );
  });
}

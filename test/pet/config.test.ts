// PET configs: strict schemas (unknown keys are errors), defaults, and checks against the model.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelBuilder } from '../../src/nn/builder.js';
import { textInputs } from '../../src/nn/bert.js';
import {
  attachPet,
  parsePetConfig,
  petConfigSchema,
  PetError,
  PET_METHOD_NAMES,
  petClassifier,
} from '../../src/pet/index.js';
import { tinyBase } from './helpers.js';

test('defaults are filled as documented', () => {
  assert.deepEqual(parsePetConfig({ method: 'lora' }), {
    method: 'lora',
    r: 8,
    alpha: 8,
    dropout: 0,
    targetModules: ['query', 'value'],
  });
  assert.deepEqual(parsePetConfig({ method: 'adapter' }), {
    method: 'adapter',
    bottleneckSize: 64,
    activation: 'relu',
  });
  assert.deepEqual(parsePetConfig({ method: 'parallel_adapter' }), {
    method: 'parallel_adapter',
    bottleneckSize: 64,
    scaling: 4,
    activation: 'relu',
    attention: false,
  });
  assert.deepEqual(parsePetConfig({ method: 'prefix_tuning' }), {
    method: 'prefix_tuning',
    numVirtualTokens: 10,
    reparameterize: false,
  });
  assert.deepEqual(parsePetConfig({ method: 'prompt_tuning' }), {
    method: 'prompt_tuning',
    numVirtualTokens: 20,
  });
});

const bad: [unknown, RegExp][] = [
  [
    { method: 'lora', rank: 4 },
    /^PET config: unknown key "rank" for lora \(keys: method, r, alpha, dropout, targetModules, layers\)$/,
  ],
  [{ method: 'adapter', bottleneckSize: 8, layers: [0], scaling: 2 }, /"scaling"/],
  [{ method: 'prompt_tuning', layers: [0] }, /"layers"/],
  [{ method: 'lora', r: 0 }, /^PET config: r: /],
  [{ method: 'lora', dropout: 1 }, /dropout/],
  [{ method: 'lora', targetModules: ['query', 'query'] }, /targetModules: target modules must be distinct/],
  [{ method: 'lora', targetModules: ['dense'] }, /targetModules\.0/],
  [{ method: 'adapter', layers: [1, 1] }, /layers: layer indices must be distinct/],
  [{ method: 'adapter', activation: 'swish' }, /activation/],
  [{ method: 'ia3' }, /method.*methods: lora, adapter, parallel_adapter, prefix_tuning, prompt_tuning/],
  [{ r: 4 }, /method/],
];
for (const [raw, re] of bad)
  test(`refused: ${JSON.stringify(raw)}`, () => {
    assert.throws(
      () => parsePetConfig(raw),
      (e: unknown) => e instanceof PetError && re.test(e.message),
    );
  });

test("an unknown key is refused with the method's keys, as its schema declares them", () => {
  for (const schema of petConfigSchema.options) {
    const method = schema.shape.method.value;
    assert.throws(
      () => parsePetConfig({ method, rank: 4, nope: 1 }, '--pet'),
      (e: unknown) =>
        e instanceof PetError &&
        e.message ===
          `--pet: unknown keys "rank", "nope" for ${method} (keys: ${Object.keys(schema.shape).join(', ')})`,
    );
  }
  assert.throws(() => parsePetConfig({ method: 'prompt_tuning', layers: [0] }), {
    message: 'PET config: unknown key "layers" for prompt_tuning (keys: method, numVirtualTokens)',
  });
});

test('the registry lists every method', () => {
  assert.deepEqual(PET_METHOD_NAMES, [
    'lora',
    'adapter',
    'parallel_adapter',
    'prefix_tuning',
    'prompt_tuning',
  ]);
});

test('target layers beyond the model are refused when attached', async () => {
  const base = await tinyBase('bert');
  const b = new ModelBuilder({ training: false });
  assert.throws(
    () => attachPet(b, { method: 'prefix_tuning', layers: [0, 2] }, base.config),
    /layers \[2\] do not exist: the model has 2 layers/,
  );
});

test("a PET module adds only its own parameters; base names stay Hugging Face's", async () => {
  const base = await tinyBase('roberta');
  const b = new ModelBuilder({ training: false });
  const { pet } = petClassifier(b, textInputs(b), base.config, { method: 'lora', r: 2, layers: [0] });
  assert.deepEqual(pet.names, [
    'roberta.encoder.layer.0.attention.self.query.lora_A.weight',
    'roberta.encoder.layer.0.attention.self.query.lora_B.weight',
    'roberta.encoder.layer.0.attention.self.value.lora_A.weight',
    'roberta.encoder.layer.0.attention.self.value.lora_B.weight',
  ]);
  assert.deepEqual(
    [...b.params.keys()].filter((n) => !pet.names.includes(n)).sort(),
    [...base.values.keys()].sort(),
  );
});

// LoRA: PEFT names both ways, merging into and out of the base weights, and a PEFT-format adapter made by
// scripts/make_pet_fixtures.py (PyTorch, PEFT semantics) whose logits match the reference within 1e-4.

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../../src/io/safetensors.js';
import {
  loadPet,
  mapPeftName,
  mergeLora,
  parsePetConfig,
  PetError,
  petTraining,
  savePet,
  unmergeLora,
  type LoraConfig,
} from '../../src/pet/index.js';
import { Rng } from '../../src/runtime/random.js';
import { i64 } from '../helpers/host.js';
import {
  classifierGraph,
  featuresOf,
  fixtures,
  logitsOf,
  maxAbsDiff,
  tinyBase,
  toyBatch,
  type Kind,
} from './helpers.js';

const fixture = join(fixtures, 'pet', 'tiny-bert-lora');

test('PEFT names map both ways', () => {
  const table: [string, string][] = [
    [
      'bert.encoder.layer.0.attention.self.query.lora_A.weight',
      'base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight',
    ],
    [
      'roberta.encoder.layer.3.output.dense.lora_B.weight',
      'base_model.model.roberta.encoder.layer.3.output.dense.lora_B.weight',
    ],
    ['classifier.weight', 'base_model.model.classifier.weight'],
    ['classifier.out_proj.bias', 'base_model.model.classifier.out_proj.bias'],
  ];
  for (const [ours, peft] of table) {
    assert.equal(mapPeftName(ours, 'toPeft'), peft);
    assert.equal(mapPeftName(peft, 'fromPeft'), ours);
  }
  // In-memory spellings (adapter name, ModulesToSaveWrapper copy) load too.
  assert.equal(
    mapPeftName(
      'base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.default.weight',
      'fromPeft',
    ),
    'bert.encoder.layer.0.attention.self.value.lora_A.weight',
  );
  assert.equal(
    mapPeftName('base_model.model.classifier.modules_to_save.default.weight', 'fromPeft'),
    'classifier.weight',
  );
  assert.throws(() => mapPeftName('classifier.weight', 'fromPeft'), PetError);
});

for (const kind of ['bert', 'roberta'] as Kind[]) {
  test(`${kind}: merging LoRA gives the same logits, and unmerging restores the base within 1e-6`, async () => {
    const base = await tinyBase(kind);
    const config = parsePetConfig({
      method: 'lora',
      r: 3,
      alpha: 6,
      targetModules: [
        'query',
        'key',
        'value',
        'attention.output.dense',
        'intermediate.dense',
        'output.dense',
      ],
    }) as LoraConfig;
    const g = classifierGraph(base, config);
    const setup = petTraining(g.b, g.pet!, base.values, { seed: 4, trainHead: false });
    const rng = new Rng(1);
    const lora = new Map([...setup.initial].map(([n, v]) => [n, v.map((x) => x + (rng.next() - 0.5) * 0.3)]));
    const values = new Map([...base.values, ...lora]);

    const merged = mergeLora(values, config, base.config);
    assert.notDeepEqual(
      merged.get(`${kind}.encoder.layer.0.attention.self.query.weight`),
      base.values.get(`${kind}.encoder.layer.0.attention.self.query.weight`),
    );
    const restored = unmergeLora(merged, config, base.config);
    for (const [n, v] of base.values) {
      const d = maxAbsDiff(restored.get(n)!, v);
      assert.ok(d < 1e-6, `${n}: ${d}`);
    }
    assert.deepEqual(
      values.get(`${kind}.encoder.layer.1.output.dense.weight`),
      base.values.get(`${kind}.encoder.layer.1.output.dense.weight`),
      'inputs untouched',
    );

    const feeds = featuresOf(toyBatch(kind));
    const unmergedLogits = await logitsOf(g, values, feeds);
    const mergedLogits = await logitsOf(classifierGraph(base, undefined), merged, feeds);
    const d = maxAbsDiff(mergedLogits, unmergedLogits);
    assert.ok(d < 1e-5, `merged vs unmerged logits: ${d}`);
    const baseLogits = await logitsOf(classifierGraph(base, undefined), base.values, feeds);
    assert.ok(maxAbsDiff(baseLogits, unmergedLogits) > 1e-2, 'the LoRA update matters');
  });
}

interface Reference {
  input_ids: number[];
  attention_mask: number[];
  token_type_ids: number[];
  batch: number;
  seq: number;
  logits: number[];
}

test('a PEFT-format LoRA adapter on tiny-bert loads and matches the PyTorch reference logits within 1e-4', async () => {
  const ref = JSON.parse(await readFile(join(fixture, 'reference.json'), 'utf8')) as Reference;
  const base = await tinyBase('bert');
  const loaded = await loadPet(fixture, base.config, { method: 'lora' });
  assert.deepEqual(loaded.config, {
    method: 'lora',
    r: 4,
    alpha: 8,
    dropout: 0.1,
    targetModules: ['query', 'value', 'intermediate.dense'],
  });
  assert.deepEqual([...loaded.head].sort(), ['classifier.bias', 'classifier.weight']);
  assert.equal(loaded.baseModelNameOrPath, 'test/fixtures/models/tiny-bert');
  const g = classifierGraph(base, loaded.config);
  const dims = [ref.batch, ref.seq];
  const feeds = {
    input_ids: i64(dims, ref.input_ids),
    attention_mask: i64(dims, ref.attention_mask),
    token_type_ids: i64(dims, ref.token_type_ids),
  };
  const logits = await logitsOf(g, new Map([...base.values, ...loaded.values]), feeds);
  const d = maxAbsDiff(logits, ref.logits);
  assert.ok(d < 1e-4, `max |diff| ${d}`);

  // Merged into the base weights, the plain model gives the same logits.
  const merged = mergeLora(
    new Map([...base.values, ...loaded.values]),
    loaded.config as LoraConfig,
    base.config,
  );
  assert.ok(maxAbsDiff(await logitsOf(classifierGraph(base, undefined), merged, feeds), ref.logits) < 1e-4);

  // Saved again, the files have PEFT's keys, shapes and values, and PEFT's config fields.
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-pet-'));
  await savePet(dir, {
    config: loaded.config,
    model: base.config,
    values: loaded.values,
    baseModelNameOrPath: loaded.baseModelNameOrPath!,
  });
  const ours = await readSafetensors(join(dir, 'adapter_model.safetensors'));
  const theirs = await readSafetensors(join(fixture, 'adapter_model.safetensors'));
  assert.deepEqual([...ours.tensors.keys()].sort(), [...theirs.tensors.keys()].sort());
  for (const [k, t] of theirs.tensors) {
    assert.deepEqual(ours.tensors.get(k)!.shape, t.shape, k);
    assert.deepEqual(ours.tensors.get(k)!.data, t.data, k);
  }
  const ourJson = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
  const theirJson = JSON.parse(await readFile(join(fixture, 'adapter_config.json'), 'utf8'));
  assert.deepEqual(ourJson, theirJson);
});

test('a PEFT adapter without plmkit metadata is still checked against the base, from its tensors', async () => {
  const base = await tinyBase('bert');
  const roberta = await tinyBase('roberta', 3);
  await assert.rejects(
    loadPet(fixture, roberta.config),
    /adapter is for a bert model .* this model is roberta/,
  );
  await assert.rejects(loadPet(fixture, { ...base.config, numLayers: 1 }), /layer count mismatch/);
  await assert.rejects(
    loadPet(fixture, { ...base.config, hiddenSize: 64 }),
    /has shape \[4, 32\], this base model needs \[4, 64\] \(hidden size 64/,
  );
  await assert.rejects(
    loadPet(fixture, base.config, { method: 'prompt_tuning' }),
    /is "lora", expected "prompt_tuning"/,
  );
  // A PEFT option plmkit does not implement is refused rather than silently ignored.
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-pet-'));
  await cp(fixture, dir, { recursive: true });
  const json = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8'));
  await import('node:fs/promises').then((fs) =>
    fs.writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...json, use_dora: true })),
  );
  await assert.rejects(loadPet(dir, base.config), /DoRA is not supported/);
  await rm(dir, { recursive: true });
});

test('a PEFT file whose plmkit metadata or tensor names are malformed is refused, naming the file', async () => {
  const base = await tinyBase('bert');
  const file = await readSafetensors(join(fixture, 'adapter_model.safetensors'));
  const cases: [Record<string, string>, Map<string, SafeTensor>, RegExp][] = [
    [{ plmkit_base_model: '{oops' }, file.tensors, /metadata "plmkit_base_model" is not valid JSON/],
    [{ plmkit_base_model: '{"model_type": "gpt2"}' }, file.tensors, /metadata "plmkit_base_model": /],
    [
      { format: 'pt' },
      new Map([...file.tensors].map(([k, t]) => [k.replace('base_model.model.', ''), t])),
      /is not a PEFT key/,
    ],
  ];
  for (const [metadata, tensors, message] of cases) {
    const dir = await mkdtemp(join(tmpdir(), 'plmkit-pet-'));
    await cp(join(fixture, 'adapter_config.json'), join(dir, 'adapter_config.json'));
    await writeSafetensors(join(dir, 'adapter_model.safetensors'), tensors, { metadata });
    await assert.rejects(loadPet(dir, base.config), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(e.message.startsWith(`${dir}/adapter_model.safetensors: `), e.message);
      return true;
    });
    await rm(dir, { recursive: true });
  }
});

test('a PEFT module for another task (token classification, language modelling) is refused, naming task_type', async () => {
  const base = await tinyBase('bert');
  const json = JSON.parse(await readFile(join(fixture, 'adapter_config.json'), 'utf8'));
  for (const task of ['TOKEN_CLS', 'CAUSAL_LM']) {
    const dir = await mkdtemp(join(tmpdir(), 'plmkit-pet-'));
    await cp(fixture, dir, { recursive: true });
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(join(dir, 'adapter_config.json'), JSON.stringify({ ...json, task_type: task })),
    );
    await assert.rejects(loadPet(dir, base.config), /task_type: only task_type "SEQ_CLS"/);
    await rm(dir, { recursive: true });
  }
});

// Structured pruning: heads and FFN units physically removed give the logits of the full model with those
// heads' and units' outputs zeroed, the narrower graph recompiles, and a pruned model saves and loads.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bindWeights, readPretrained, savePretrained } from '../../src/io/checkpoint.js';
import { sequenceClassifier, textInputs } from '../../src/nn/bert.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import type { ModelConfig } from '../../src/nn/config.js';
import { pruneFfn, pruneHeads } from '../../src/nn/prune.js';
import { compile } from '../../src/runtime/compiled.js';
import { Rng } from '../../src/runtime/random.js';
import { i64 } from '../helpers/host.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs('plmkit-prune-');

const config: ModelConfig = {
  modelType: 'bert',
  vocabSize: 50,
  maxPositions: 16,
  typeVocabSize: 2,
  padTokenId: 0,
  hiddenSize: 16,
  numLayers: 3,
  numHeads: 4,
  intermediateSize: 24,
  hiddenDropout: 0,
  attentionDropout: 0,
  layerNormEps: 1e-12,
  initStd: 0.3,
  numLabels: 3,
};

const rng = new Rng(5);
const ids = Array.from({ length: 2 * 9 }, (_, i) => (i % 9 === 0 ? 1 : 2 + Math.floor(rng.next() * 48)));
const mask = Array.from({ length: 2 * 9 }, (_, i) => (i >= 9 + 6 ? 0 : 1));
const feeds = {
  input_ids: i64([2, 9], ids),
  attention_mask: i64([2, 9], mask),
  token_type_ids: i64([2, 9], new Array(18).fill(0)),
};

function builder(cfg: ModelConfig) {
  const b = new ModelBuilder({ training: false });
  const x = textInputs(b, true);
  const { logits } = sequenceClassifier(b, x, cfg);
  return { b, x, logits };
}

async function logitsOf(cfg: ModelConfig, values: ReadonlyMap<string, Float32Array>): Promise<Float32Array> {
  const { x, logits } = builder(cfg);
  const fn = await compile({
    inputs: [x.inputIds, x.attentionMask, x.tokenTypeIds!],
    outputs: { logits },
    frozen: values,
  });
  const out = (await fn.run(feeds))['logits']!.data as Float32Array;
  await fn.release();
  return out;
}

/** Zeroes rows of a [rows, cols] weight: the inputs of those rows then contribute nothing. */
function zeroRows(values: Map<string, Float32Array>, name: string, cols: number, rows: number[]): void {
  const w = values.get(name)!.slice();
  for (const r of rows) w.fill(0, r * cols, (r + 1) * cols);
  values.set(name, w);
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

test('pruned heads and FFN units give the logits of the full model with their outputs zeroed', async () => {
  const values = builder(config).b.initialValues(3);
  const dh = 4;
  // Reference: the full model, with the pruned heads' rows of the attention output and the pruned units'
  // rows of the FFN output zeroed.
  const zeroed = new Map(values);
  const l = (i: number) => `bert.encoder.layer.${i}`;
  zeroRows(
    zeroed,
    `${l(0)}.attention.output.dense.weight`,
    16,
    [1, 2, 3].flatMap((h) => [0, 1, 2, 3].map((d) => h * dh + d)),
  );
  zeroRows(zeroed, `${l(2)}.attention.output.dense.weight`, 16, [0, 1, 2, 3]);
  zeroRows(zeroed, `${l(1)}.output.dense.weight`, 16, [0, 5, 23]);
  const reference = await logitsOf(config, zeroed);
  assert.ok(maxDiff(reference, await logitsOf(config, values)) > 1e-3, 'the zeroed parts mattered');

  // Heads by original index, in two rounds (head 2 of layer 0 after heads 1 and 3), as transformers does.
  let pruned = pruneHeads({ config, values }, { 0: [1, 3], 2: [0] });
  pruned = pruneHeads(pruned, { 0: [2, 3] });
  pruned = pruneFfn(pruned, { 1: [0, 5, 23] });
  assert.deepEqual(pruned.config.prunedLayers, {
    0: { prunedHeads: [1, 2, 3], intermediateSize: 24 },
    1: { prunedHeads: [], intermediateSize: 21 },
    2: { prunedHeads: [0], intermediateSize: 24 },
  });
  assert.equal(pruned.values.get(`${l(0)}.attention.self.query.weight`)!.length, 16 * 4);
  assert.equal(pruned.values.get(`${l(1)}.intermediate.dense.bias`)!.length, 21);
  const { b } = builder(pruned.config);
  assert.deepEqual(b.params.get(`${l(0)}.attention.output.dense.weight`)!.tensor.shape, [4, 16]);
  const got = await logitsOf(pruned.config, pruned.values);
  assert.ok(maxDiff(got, reference) < 1e-5, `max |diff| ${maxDiff(got, reference)}`);

  // Saved and loaded: config.json carries pruned_heads (and plmkit's FFN sizes); the logits are the same.
  const dir = await scratch();
  await savePretrained(dir, b, pruned.config, pruned.values);
  const hf = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(hf.pruned_heads, { 0: [1, 2, 3], 2: [0] });
  assert.deepEqual(hf.plmkit_layer_intermediate_sizes, [24, 21, 24]);
  const pre = await readPretrained(dir);
  assert.deepEqual(pre.config.prunedLayers, pruned.config.prunedLayers);
  const loaded = await logitsOf(pre.config, bindWeights(builder(pre.config).b, pre).values);
  assert.ok(maxDiff(loaded, got) < 1e-6);

  // PET methods size their modules from the uniform shape: a pruned model is refused, not mis-sized.
  const { attachPet, petParamCount } = await import('../../src/pet/index.js');
  const { mergeLora } = await import('../../src/pet/lora/merge.js');
  const lora = { method: 'lora', r: 2 } as const;
  assert.throws(
    () => attachPet(builder(pruned.config).b, lora, pruned.config),
    /pruned model .* not supported/,
  );
  assert.throws(() => petParamCount(lora, pruned.config), /pruned model/);
  const { parsePetConfig } = await import('../../src/pet/index.js');
  const loraConfig = parsePetConfig(lora) as Parameters<typeof mergeLora>[1];
  assert.throws(() => mergeLora(pruned.values, loraConfig, pruned.config), /pruned model/);
  // config.json's layer keys are canonical integers, as transformers reads them.
  const { parseHfConfig } = await import('../../src/io/hf-config-schema.js');
  assert.throws(() => parseHfConfig({ ...hf, pruned_heads: { '01': [0] } }), /pruned_heads/);

  assert.throws(() => pruneHeads(pruned, { 0: [0] }), /layer 0 would have no head left/);
  assert.throws(() => pruneHeads(pruned, { 3: [0] }), /layer 3 is not one of the model's 3 layers/);
  assert.throws(() => pruneFfn(pruned, { 1: [21] }), /layer 1 has no FFN unit 21 \(units 0\.\.20\)/);
});

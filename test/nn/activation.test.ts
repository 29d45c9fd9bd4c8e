// Every hidden_act that config.json validation accepts builds and computes transformers' formula for it;
// the names it refuses are refused when config.json is parsed, with the key named.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, input } from '../../src/graph/index.js';
import { HF_ACTIVATIONS } from '../../src/io/hf-config-schema.js';
import { parseHfConfig } from '../../src/io/hf-config.js';
import { activation } from '../../src/nn/activation.js';
import { compile } from '../../src/runtime/compiled.js';
import { f32 } from '../helpers/host.js';

const erf = (x: number): number => {
  // Abramowitz and Stegun 7.1.26 is too coarse for 1e-5; integrate the series instead.
  let sum = 0;
  let term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const tanhGelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

// transformers' activations.py, written out.
const REFERENCE: Record<string, (x: number) => number> = {
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_python: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  gelu_new: tanhGelu,
  gelu_pytorch_tanh: tanhGelu,
  gelu_fast: (x) => 0.5 * x * (1 + Math.tanh(x * 0.7978845608 * (1 + 0.044715 * x * x))),
  gelu_accurate: tanhGelu,
  quick_gelu: (x) => x * sigmoid(1.702 * x),
  relu: (x) => Math.max(0, x),
  silu: (x) => x * sigmoid(x),
  swish: (x) => x * sigmoid(x),
  tanh: Math.tanh,
  sigmoid,
  linear: (x) => x,
};

test('each accepted hidden_act computes transformers formula', async () => {
  assert.deepEqual([...HF_ACTIVATIONS].sort(), Object.keys(REFERENCE).sort());
  const xs = Array.from({ length: 41 }, (_, i) => -5 + i * 0.25);
  for (const name of HF_ACTIVATIONS) {
    const g = new Graph();
    const x = input(g, 'x', 'float32', [xs.length]);
    const fn = await compile({ inputs: [x], outputs: { y: activation(x, name) } });
    const y = (await fn.run({ x: f32([xs.length], xs) })).y!.data as Float32Array;
    xs.forEach((v, i) => {
      const want = REFERENCE[name]!(v);
      assert.ok(
        Math.abs(y[i]! - want) < 1e-5 * (1 + Math.abs(want)),
        `${name}(${v}) = ${y[i]}, want ${want}`,
      );
    });
    await fn.release();
  }
});

test('a hidden_act plmkit cannot build is refused with the key named', () => {
  assert.throws(() => activation(input(new Graph(), 'x', 'float32', [2]), 'mish'), /hidden_act "mish".*silu/);
  const config = {
    model_type: 'bert',
    vocab_size: 10,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
    hidden_act: 'mish',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 16,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  };
  assert.throws(() => parseHfConfig(config, 'dir/config.json'), /dir\/config\.json.*hidden_act/s);
});

test("the MLM head uses hidden_act, and the classifier's dropout is classifier_dropout when config.json sets it", async () => {
  const { BERT_MINI } = await import('../../src/nn/config.js');
  const { ModelBuilder } = await import('../../src/nn/builder.js');
  const { maskedLm, mlmInputs } = await import('../../src/nn/mlm.js');
  const { sequenceClassifier, textInputs } = await import('../../src/nn/bert.js');
  const { modelConfigFromHf, hfConfigFromModel } = await import('../../src/io/weights.js');
  const small = {
    ...BERT_MINI,
    vocabSize: 50,
    hiddenSize: 8,
    numHeads: 2,
    intermediateSize: 16,
    numLayers: 1,
  };
  const opNames = (b: InstanceType<typeof ModelBuilder>) => b.graph.nodes.map((n) => n.op.name);
  const mlm = new ModelBuilder({ training: false });
  maskedLm(mlm, mlmInputs(mlm, textInputs(mlm)), { ...small, hiddenAct: 'relu' });
  assert.ok(!opNames(mlm).includes('Gelu'), 'a Gelu in a relu model');

  const hf = parseHfConfig({ ...hfConfigFromModel(small), classifier_dropout: 0.3 }, 'config.json');
  const cfg = modelConfigFromHf(hf);
  assert.equal(cfg.classifierDropout, 0.3);
  assert.equal(hfConfigFromModel(cfg)['classifier_dropout'], 0.3);
  const train = new ModelBuilder({ training: true, dropoutSeed: 0 });
  sequenceClassifier(train, textInputs(train, true), cfg);
  const ratios = train.graph.nodes
    .filter((n) => n.op.name === 'Dropout')
    .map((n) => (n.attrs as { ratio: number }).ratio);
  // Embeddings, attention probabilities, attention output, FFN output: 0.1; before the classifier: 0.3.
  assert.deepEqual(ratios, [0.1, 0.1, 0.1, 0.1, 0.3]);
  assert.equal(
    modelConfigFromHf(parseHfConfig({ ...hfConfigFromModel(small), classifier_dropout: null }))
      .classifierDropout,
    undefined,
  );
});

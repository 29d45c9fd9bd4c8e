// A 2-layer transformer encoder trained on a toy task: the engine's end-to-end training check, on any
// engine or execution provider.

import { crossEntropy, gelu, input, sliceAxis, squeeze } from '../../src/graph/index.js';
import { ModelBuilder } from '../../src/nn/builder.js';
import { attentionBias, encoder } from '../../src/nn/encoder.js';
import { dense, embedding } from '../../src/nn/layers.js';
import type { SessionOptions } from '../../src/runtime/ort.js';
import { Rng } from '../../src/runtime/random.js';
import { TrainStep } from '../../src/runtime/train-step.js';
import { i64 } from './host.js';

/** Task: the label of a sequence is its first token's parity, but read through attention from [CLS]. */
export async function trainEncoder(seed: number, steps: number, session?: SessionOptions): Promise<number[]> {
  const cfg = {
    hiddenSize: 32,
    numLayers: 2,
    numHeads: 4,
    intermediateSize: 64,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    layerNormEps: 1e-12,
    initStd: 0.1,
  };
  const b = new ModelBuilder({ training: true, dropoutSeed: seed });
  const ids = input(b.graph, 'ids', 'int64', ['batch', 'seq']);
  const maskIn = input(b.graph, 'mask', 'int64', ['batch', 'seq']);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const x = embedding(b, 'emb', ids, 16, cfg.hiddenSize, { kind: 'normal', std: 0.5 });
  const states = encoder(b, 'enc', x, attentionBias(maskIn), cfg);
  const cls = squeeze(sliceAxis(states[2]!, 1, 0, 1), [1]);
  const logits = dense(b, 'head', gelu(cls), cfg.hiddenSize, 2, { kind: 'normal', std: 0.1 });
  const loss = crossEntropy(logits, labels);
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: [...b.params.values()].map((p) => p.tensor),
    batch: [ids, maskIn, labels],
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    ...(session ? { session } : {}),
  });
  const state = step.initState(b.initialValues(seed));
  const rng = new Rng(seed + 100);
  const B = 32;
  const S = 6;
  const idv: number[] = [];
  const mv: number[] = [];
  const lv: number[] = [];
  for (let i = 0; i < B; i++) {
    const len = 3 + rng.int(S - 2);
    const key = 2 + rng.int(14);
    for (let j = 0; j < S; j++) {
      // [CLS]=1, then the key token at a random position; padding (id 0) beyond len is masked out.
      idv.push(j === 0 ? 1 : j < len ? (j === 1 ? key : 2 + rng.int(14)) : 0);
      mv.push(j < len ? 1 : 0);
    }
    lv.push(key % 2);
  }
  const losses: number[] = [];
  const batch = { ids: i64([B, S], idv), mask: i64([B, S], mv), labels: i64([B], lv) };
  for (let i = 0; i < steps; i++) losses.push((await step.run(state, batch, 3e-3)).loss);
  await step.release();
  return losses;
}

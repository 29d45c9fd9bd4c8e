// `plmkit bench finetune`: BERT-mini fine-tuning steps on real sst2 batches (batch 32, max length 64,
// grouped by length, padded to the longest row), from the bundled tokenizer and a random initialisation.

import { collate, epochBatches, type Encoded } from '../src/classify/batching.js';
import { encodeExamples } from '../src/classify/encode.js';
import { input } from '../src/graph/index.js';
import { loadDataset } from '../src/io/data/index.js';
import { loadTokenizer } from '../src/io/tokenizer/index.js';
import { BERT_MINI, classificationLoss, sequenceClassifier, textInputs } from '../src/nn/bert.js';
import { ModelBuilder } from '../src/nn/builder.js';
import { TrainStep } from '../src/runtime/train-step.js';
import { DEFAULT_MODEL } from '../src/cli/default-model.js';
import { peakRssMb } from './timing.js';

export async function benchFinetune(
  data = 'sst2',
  steps = 40,
  perCall = 8,
): Promise<Record<string, unknown>> {
  const tok = await loadTokenizer(DEFAULT_MODEL);
  const { examples } = await loadDataset(data, { split: 'train', limit: 32 * (steps + 5) * 4 });
  const enc = await encodeExamples(tok, examples, 64);
  const batches = epochBatches(enc, 32, 0, 0).slice(0, (Math.ceil(steps / perCall) + 1) * perCall);
  // The default (embedding tables updated from their rows, src/runtime/row-gradient.ts), then the dense
  // embedding update it replaced, on the same batches; peak RSS is taken before the second one starts.
  const rows = await timeSteps(enc, batches, tok.padId ?? 0, perCall, false);
  const peak = peakRssMb();
  const dense = await timeSteps(enc, batches, tok.padId ?? 0, perCall, true);
  return {
    model: 'bert-mini',
    data,
    steps_per_call: perCall,
    batch: 32,
    max_length: 64,
    tokens_per_s: (rows.tokens * 1000) / rows.ms,
    padded_tokens_per_s: (rows.padded * 1000) / rows.ms,
    ms_per_step: rows.ms / rows.steps,
    mean_padded_seq: rows.padded / rows.steps / 32,
    dense_embedding_update: {
      tokens_per_s: (dense.tokens * 1000) / dense.ms,
      ms_per_step: dense.ms / dense.steps,
    },
    peak_rss_mb: peak,
  };
}

/** Fine-tuning steps over `batches` as `plmkit finetune` runs them; the first call is warm-up. */
async function timeSteps(
  enc: readonly Encoded[],
  batches: readonly (readonly number[])[],
  padId: number,
  perCall: number,
  denseGradients: boolean,
): Promise<{ ms: number; steps: number; tokens: number; padded: number }> {
  const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
  const x = textInputs(b, true);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const loss = classificationLoss(sequenceClassifier(b, x, BERT_MINI).logits, labels);
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: [...b.params.values()].map((p) => p.tensor),
    batch: [x.inputIds, x.attentionMask, x.tokenTypeIds!, labels],
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    denseGradients,
  });
  const state = step.initState(b.initialValues(0));
  const out = { ms: 0, steps: 0, tokens: 0, padded: 0 };
  // Groups of `perCall` batches per ONNX Runtime call, padded to the group's longest row.
  for (let g = 0; g < batches.length; g += perCall) {
    const group = batches.slice(g, g + perCall);
    const seq = Math.max(...group.flat().map((i) => enc[i]!.ids.length));
    const collated = group.map((idx) => collate(enc, idx, padId, { withTypes: true, withLabels: true, seq }));
    const t0 = performance.now();
    await step.runMany(
      state,
      collated.map((c) => c.feeds),
      collated.map(() => 5e-5),
    );
    if (g === 0) continue; // warm-up (compiles the loop)
    out.ms += performance.now() - t0;
    out.steps += group.length;
    for (const c of collated) {
      out.tokens += c.tokens;
      out.padded += c.feeds['input_ids']!.data.length;
    }
  }
  await step.release();
  return out;
}

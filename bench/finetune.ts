// `plmkit bench finetune`: BERT-mini fine-tuning steps on real sst2 batches (batch 32, max length 64,
// grouped by length, padded to the longest row), from the bundled tokenizer and a random initialisation;
// the groups of steps are drawn evenly across one epoch as `plmkit finetune` batches it, so their lengths
// are those of a real epoch (a slice of one sorted chunk would be all long or all short rows);
// then, side by side, the same steps with other ways of updating the embedding tables and with the
// cheapest optimizer. The matrix products' FLOPs are counted from the step graph at each batch's padded
// shape and set beside the engine's 1024x1024 matmul rate from the same process: a throughput target
// implies a matmul rate.

import { collate, epochBatches } from '../src/classify/batching.js';
import { encodeExamples } from '../src/classify/encode.js';
import { input, matmulFlops } from '../src/graph/index.js';
import { loadDataset } from '../src/io/data/index.js';
import { loadTokenizer } from '../src/io/tokenizer/index.js';
import { BERT_MINI, classificationLoss, sequenceClassifier, textInputs } from '../src/nn/bert.js';
import { ModelBuilder } from '../src/nn/builder.js';
import { TrainStep, type TrainState } from '../src/runtime/train-step.js';
import { DEFAULT_MODEL } from '../src/cli/default-model.js';
import type { Engine } from '../src/runtime/ort.js';
import { engineMatmulGflops } from './engine.js';
import { peakRssMb } from './timing.js';

export async function benchFinetune(
  data = 'sst2',
  steps = 80,
  perCall = 8,
  engine: Engine = 'node',
): Promise<Record<string, unknown>> {
  const tok = await loadTokenizer(DEFAULT_MODEL);
  const { examples } = await loadDataset(data, { split: 'train' });
  const enc = await encodeExamples(tok, examples, 64);
  // The first epoch's batches as `plmkit finetune --seed 42` makes them, in groups of `perCall` steps, each
  // padded to its longest row (src/classify/finetune.ts); only whole groups of full batches are drawn.
  const batches = epochBatches(enc, 32, 42, 0);
  const epochGroups: number[][][] = [];
  for (let g = 0; g + perCall <= batches.length; g += perCall) {
    const group = batches.slice(g, g + perCall);
    if (group.every((b) => b.length === 32)) epochGroups.push(group);
  }
  const seqOf = (group: number[][]) => Math.max(...group.flat().map((i) => enc[i]!.ids.length));
  const collateGroup = (group: number[][]): Feeds[] =>
    group.map((idx) =>
      collate(enc, idx, tok.padId ?? 0, { withTypes: true, withLabels: true, seq: seqOf(group) }),
    );
  // Warm-up: the epoch's longest group (it compiles the loop and sizes ONNX Runtime's buffers for the
  // largest shape); then `steps / perCall` groups at evenly spaced places in the epoch.
  const longest = epochGroups.reduce((a, b) => (seqOf(b) > seqOf(a) ? b : a));
  const count = Math.ceil(steps / perCall);
  const drawn = Array.from(
    { length: count },
    (_, k) => epochGroups[Math.floor(((k + 0.5) * epochGroups.length) / count)]!,
  );
  const groups = [longest, ...drawn].map(collateGroup);
  // The default first, alone, for the headline figure and peak RSS (embedding tables updated from their
  // rows, src/runtime/row-gradient.ts).
  const rows = await Arm.create('rows', engine);
  const headline = await rows.time(groups);
  const peak = peakRssMb();
  // What the whole epoch's groups would cost in matrix products, beside the drawn ones'.
  const epoch = { rows: 0, padded: 0, flops: 0 };
  for (const group of epochGroups)
    for (const b of group) {
      epoch.rows += b.reduce((n, i) => n + enc[i]!.ids.length, 0);
      epoch.padded += 32 * seqOf(group);
      epoch.flops += rows.flops([32, seqOf(group)]);
    }
  const figure = (t: Timing) => ({ tokens_per_s: (t.tokens * 1000) / t.ms, ms_per_step: t.ms / t.steps });
  const common = {
    model: 'bert-mini',
    data,
    engine,
    steps_per_call: perCall,
    batch: 32,
    max_length: 64,
    tokens_per_s: (headline.tokens * 1000) / headline.ms,
    padded_tokens_per_s: (headline.padded * 1000) / headline.ms,
    ms_per_step: headline.ms / headline.steps,
    mean_padded_seq: headline.padded / headline.steps / 32,
    // Matrix products alone: GFLOP per step, their rate over the whole step, MFLOP per non-padding token
    // (the FLOPs include the padded positions).
    matmul_gflop_per_step: headline.flops / headline.steps / 1e9,
    matmul_gflops: headline.flops / (headline.ms * 1e6),
    matmul_mflop_per_token: headline.flops / headline.tokens / 1e6,
    // The same over every whole group of the epoch the timed groups were drawn from.
    epoch: {
      groups: epochGroups.length,
      groups_timed: count,
      mean_padded_seq: epoch.padded / (epochGroups.length * perCall * 32),
      matmul_mflop_per_token: epoch.flops / epoch.rows / 1e6,
    },
  };
  if (engine === 'web') {
    // onnxruntime-web (WebAssembly, one thread, as a page that is not cross-origin isolated runs it): the
    // headline only, beside that engine's own matmul rate.
    await rows.release();
    return {
      ...common,
      engine_matmul_gflops: await engineMatmulGflops('web'),
      peak_rss_mb: peak,
      process_peak_rss_mb: peakRssMb(),
    };
  }
  // Then side by side, each group run by every arm in turn (this machine's speed drifts within a run):
  // the default again; the dense embedding update it replaced; as a bound on what any cheaper update of
  // the 30,522 x 256 word-embedding table could give, the step with that table frozen; and, as a bound on
  // what any cheaper optimizer could give, that step with plain SGD and no clipping (forward, backward and
  // one subtraction per parameter).
  const arms = [
    rows,
    await Arm.create('dense', engine),
    await Arm.create('frozen word embeddings', engine),
    await Arm.create('sgd, frozen word embeddings', engine),
  ];
  const side = arms.map(() => ({ ms: 0, steps: 0, tokens: 0, padded: 0, flops: 0 }));
  for (const [i, arm] of arms.entries()) if (i > 0) await arm.time(groups.slice(0, 1)); // compile
  for (const group of groups.slice(1))
    for (const [i, arm] of arms.entries()) add(side[i]!, await arm.time([group], false));
  for (const arm of arms) await arm.release();
  return {
    ...common,
    engine_matmul_gflops: await engineMatmulGflops(),
    // After the headline steps (one training session, as a `plmkit finetune` process has), and at the end
    // (three more sessions for the side-by-side arms, and the matmul).
    peak_rss_mb: peak,
    process_peak_rss_mb: peakRssMb(),
    side_by_side: {
      embedding_rows: figure(side[0]!),
      dense_embedding_update: figure(side[1]!),
      word_embeddings_frozen: figure(side[2]!),
      sgd_without_clipping_word_embeddings_frozen: figure(side[3]!),
    },
  };
}

type Feeds = ReturnType<typeof collate>;
type EmbeddingUpdate = 'rows' | 'dense' | 'frozen word embeddings' | 'sgd, frozen word embeddings';

interface Timing {
  ms: number;
  steps: number;
  tokens: number;
  padded: number;
  flops: number;
}

function add(into: Timing, t: Timing): void {
  into.ms += t.ms;
  into.steps += t.steps;
  into.tokens += t.tokens;
  into.padded += t.padded;
  into.flops += t.flops;
}

/** A BERT-mini fine-tuning step as `plmkit finetune` builds it, with one way of updating the embeddings. */
class Arm {
  private constructor(
    private readonly step: TrainStep,
    private readonly state: TrainState,
  ) {}

  static async create(embeddings: EmbeddingUpdate, engine: Engine): Promise<Arm> {
    const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
    const x = textInputs(b, true);
    const labels = input(b.graph, 'labels', 'int64', ['batch']);
    const loss = classificationLoss(sequenceClassifier(b, x, BERT_MINI).logits, labels);
    const initial = b.initialValues(0);
    const sgd = embeddings === 'sgd, frozen word embeddings';
    const isFrozen = (name: string) =>
      (sgd || embeddings === 'frozen word embeddings') && name.endsWith('word_embeddings.weight');
    const step = await TrainStep.create({
      graph: b.graph,
      loss,
      trainable: [...b.params].filter(([name]) => !isFrozen(name)).map(([, p]) => p.tensor),
      frozen: new Map([...initial].filter(([name]) => isFrozen(name))),
      batch: [x.inputIds, x.attentionMask, x.tokenTypeIds!, labels],
      optimizer: sgd ? { kind: 'sgd' } : { kind: 'adamw', weightDecay: 0.01 },
      ...(sgd ? {} : { clipNorm: 1 }),
      denseGradients: embeddings === 'dense',
      session: { engine },
    });
    return new Arm(step, step.initState(new Map([...initial].filter(([name]) => !isFrozen(name)))));
  }

  /** Runs each group of batches in one ONNX Runtime call; the first group is warm-up unless `warmUp` is false. */
  async time(groups: readonly Feeds[][], warmUp = true): Promise<Timing> {
    const out = { ms: 0, steps: 0, tokens: 0, padded: 0, flops: 0 };
    for (const [g, collated] of groups.entries()) {
      const t0 = performance.now();
      await this.step.runMany(
        this.state,
        collated.map((c) => c.feeds),
        collated.map(() => 5e-5),
      );
      if (warmUp && g === 0) continue; // compiles the loop
      add(out, {
        ms: performance.now() - t0,
        steps: collated.length,
        tokens: collated.reduce((n, c) => n + c.tokens, 0),
        padded: collated.reduce((n, c) => n + c.feeds['input_ids']!.data.length, 0),
        flops: collated.reduce((n, c) => n + this.flops(c.feeds['input_ids']!.dims), 0),
      });
    }
    return out;
  }

  private readonly flopsByShape = new Map<string, number>();

  /** Matrix-product FLOPs of one step on a [batch, seq] batch. */
  flops(dims: readonly number[]): number {
    const key = dims.join('x');
    let f = this.flopsByShape.get(key);
    if (f === undefined)
      this.flopsByShape.set(
        key,
        (f = matmulFlops(Object.values(this.step.outputs), { batch: dims[0]!, seq: dims[1]! })),
      );
    return f;
  }

  release(): Promise<void> {
    return this.step.release();
  }
}

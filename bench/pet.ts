// `plmkit bench pet`: training-step time of full fine-tuning and of each PET method with its defaults,
// on the BERT-mini shape (batch 32 x 64 tokens), with the trainable-parameter counts, from one process.
// PET steps compile the frozen base into the graph; only the method's parameters and the head are fed.
// The methods are timed in alternation, one call each per round, so that this machine's drift in speed
// falls on all of them alike.

import { input } from '../src/graph/index.js';
import { BERT_MINI, classificationLoss, sequenceClassifier, textInputs } from '../src/nn/bert.js';
import { ModelBuilder } from '../src/nn/builder.js';
import {
  PET_METHOD_NAMES,
  parsePetConfig,
  petClassifier,
  petTraining,
  type PetMethod,
} from '../src/pet/index.js';
import type { HostTensor } from '../src/runtime/ort.js';
import { Rng } from '../src/runtime/random.js';
import { TrainStep } from '../src/runtime/train-step.js';
import { median, peakRssMb, timeInAlternation } from './timing.js';

const BATCH = 32;
const SEQ = 64;
const PER_CALL = 8;

function feeds(): Record<string, HostTensor> {
  const rng = new Rng(1);
  return {
    input_ids: {
      dtype: 'int64',
      dims: [BATCH, SEQ],
      data: BigInt64Array.from({ length: BATCH * SEQ }, () => BigInt(1 + rng.int(30000))),
    },
    attention_mask: { dtype: 'int64', dims: [BATCH, SEQ], data: new BigInt64Array(BATCH * SEQ).fill(1n) },
    labels: {
      dtype: 'int64',
      dims: [BATCH],
      data: BigInt64Array.from({ length: BATCH }, () => BigInt(rng.int(2))),
    },
  };
}

/** One method's compiled training step, ready to run a call of PER_CALL steps. */
interface Arm {
  method: PetMethod | 'full';
  trainable: number;
  run(): Promise<unknown>;
  release(): Promise<void>;
}

async function prepare(method: PetMethod | 'full'): Promise<Arm> {
  const b = new ModelBuilder({ training: true, dropoutSeed: 0 });
  const x = textInputs(b);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  let step: TrainStep;
  let initial: Map<string, Float32Array>;
  let trainable: number;
  if (method === 'full') {
    const { logits } = sequenceClassifier(b, x, BERT_MINI);
    const params = [...b.params.values()].map((p) => p.tensor);
    step = await TrainStep.create({
      graph: b.graph,
      loss: classificationLoss(logits, labels),
      trainable: params,
      batch: [x.inputIds, x.attentionMask, labels],
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      clipNorm: 1,
    });
    initial = b.initialValues(0);
    trainable = params.reduce((n, p) => n + (p.shape as number[]).reduce((a, c) => a * c, 1), 0);
  } else {
    const { logits, pet } = petClassifier(b, x, BERT_MINI, parsePetConfig({ method }));
    const base = b.initialValues(0);
    const t = petTraining(b, pet, base);
    step = await TrainStep.create({
      graph: b.graph,
      loss: classificationLoss(logits, labels),
      trainable: t.trainable,
      frozen: t.frozen,
      batch: [x.inputIds, x.attentionMask, labels],
      optimizer: { kind: 'adamw', weightDecay: 0.01 },
      clipNorm: 1,
    });
    initial = t.initial;
    trainable = t.count;
  }
  const state = step.initState(initial);
  const batches = Array.from({ length: PER_CALL }, feeds);
  const lrs = batches.map(() => 1e-4);
  return { method, trainable, run: () => step.runMany(state, batches, lrs), release: () => step.release() };
}

export async function benchPet(rounds = 3): Promise<Record<string, unknown>> {
  const arms: Arm[] = [];
  for (const m of ['full', ...PET_METHOD_NAMES] as const) arms.push(await prepare(m));
  const times = await timeInAlternation(
    arms.map((arm) => ({ run: arm.run, warmup: 1, perRound: 1 })),
    rounds,
  );
  const rows = arms.map((arm, i) => {
    const ms = median(times[i]!) / PER_CALL;
    return {
      method: arm.method,
      ms_per_step: ms,
      tokens_per_s: (BATCH * SEQ * 1000) / ms,
      trainable_params: arm.trainable,
    };
  });
  const peak = peakRssMb();
  for (const arm of arms) await arm.release();
  return {
    model: 'bert-mini',
    batch: BATCH,
    seq: SEQ,
    steps_per_call: PER_CALL,
    methods: rows,
    // All the methods' sessions at once.
    peak_rss_mb: peak,
  };
}

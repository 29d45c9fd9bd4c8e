// The attacker's training of a PET module and head on clean and poisoned data. Each step takes a clean
// batch and a poisoned batch (as the gradient-control paper does) stacked into one padded batch, with
// row masks that split the loss into a clean and a poisoned part:
//   vanilla            cross-entropy on the union (the mean over all rows)
//   gradient-control   gradientControl() on the two losses (CLNorm and ILProj switchable)

import { cast } from '../../graph/ops/core.js';
import { add, div, mul, neg } from '../../graph/ops/elementwise.js';
import { input } from '../../graph/ops/core.js';
import { logSoftmax, oneHot } from '../../graph/ops/nn-ops.js';
import { sum } from '../../graph/ops/reduce.js';
import type { Tensor } from '../../graph/graph.js';
import { collate, type Encoded } from '../../classify/batching.js';
import { textInputs } from '../../nn/bert.js';
import { ModelBuilder } from '../../nn/builder.js';
import type { ModelConfig } from '../../nn/config.js';
import { petClassifier, petTraining, type PetConfig } from '../../pet/index.js';
import type { HostTensor } from '../../runtime/ort.js';
import { deriveSeed, Rng } from '../../runtime/random.js';
import { learningRate } from '../../runtime/schedule.js';
import { TrainStep, type StepResult } from '../../runtime/train-step.js';
import {
  CLNORM_W_INPUT,
  gradientControl,
  initialClnormWeights,
  type GradientControlOptionsInput,
} from './gradient-control.js';

export interface PoisonedPetOptions {
  readonly model: ModelConfig;
  /** Values of every base parameter (and a head, fresh or not). */
  readonly base: ReadonlyMap<string, Float32Array>;
  readonly pet: PetConfig;
  readonly clean: readonly Encoded[];
  readonly poisoned: readonly Encoded[];
  readonly method: 'vanilla' | 'gradient-control';
  readonly gradientControl?: GradientControlOptionsInput;
  readonly epochs: number;
  /** Rows per step from each of the clean and the poisoned set. */
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupRatio?: number;
  readonly seed: number;
  readonly padId: number;
  /** Called after each step with the step's result (per-layer statistics in `extras` for gradient control). */
  readonly onStep?: (r: StepResult) => void | Promise<void>;
}

export interface PoisonedPetResult {
  /** Trained values of the PET parameters and the head. */
  readonly values: Map<string, Float32Array>;
  readonly steps: number;
  readonly lastLoss: number;
}

/** Mean per-row cross-entropy over the rows where `rowMask` is 1. */
function maskedCrossEntropy(logits: Tensor, labels: Tensor, rowMask: Tensor, classes: number): Tensor {
  const perRow = neg(sum(mul(logSoftmax(logits, -1), oneHot(labels, classes, 'float32')), [-1]));
  const m = cast(rowMask, 'float32');
  return div(sum(mul(perRow, m)), add(sum(m), 1e-12));
}

export async function trainPoisonedPet(o: PoisonedPetOptions): Promise<PoisonedPetResult> {
  const withTypes = o.model.modelType === 'bert';
  const b = new ModelBuilder({ training: true, dropoutSeed: o.seed });
  const x = textInputs(b, withTypes);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const isPoison = input(b.graph, 'is_poison', 'int64', ['batch']);
  const isClean = input(b.graph, 'is_clean', 'int64', ['batch']);
  const { logits, pet } = petClassifier(b, x, o.model, o.pet);
  const t = petTraining(b, pet, o.base, { seed: o.seed });
  const cleanLoss = maskedCrossEntropy(logits, labels, isClean, o.model.numLabels);
  const poisonLoss = maskedCrossEntropy(logits, labels, isPoison, o.model.numLabels);
  const union = maskedCrossEntropy(logits, labels, add(isClean, isPoison), o.model.numLabels);
  const inputs = [
    x.inputIds,
    x.attentionMask,
    ...(x.tokenTypeIds ? [x.tokenTypeIds] : []),
    labels,
    isClean,
    isPoison,
  ];
  const gc =
    o.method === 'gradient-control'
      ? gradientControl({
          ...(o.gradientControl ?? {}),
          cleanLoss,
          poisonLoss,
          params: t.trainable,
          names: t.trainableNames,
          numLayers: o.model.numLayers,
        })
      : undefined;
  const step = await TrainStep.create({
    graph: b.graph,
    loss: union,
    terms: { clean: cleanLoss, poison: poisonLoss },
    trainable: t.trainable,
    frozen: t.frozen,
    batch: gc?.wInput ? [...inputs, gc.wInput] : inputs,
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    ...(gc ? { grads: gc.grads, extraOutputs: { ...gc.stats, ...(gc.wNext ? { w: gc.wNext } : {}) } } : {}),
  });
  const state = step.initState(t.initial);
  const perEpoch = Math.floor(Math.min(o.clean.length, o.poisoned.length) / o.batchSize);
  if (perEpoch === 0) throw new Error(`fewer than ${o.batchSize} clean or poisoned examples`);
  const total = perEpoch * o.epochs;
  const schedule = {
    kind: 'linear',
    warmupSteps: Math.round((o.warmupRatio ?? 0.06) * total),
    totalSteps: total,
  } as const;
  let w: Float32Array | undefined = gc?.wInput ? initialClnormWeights(o.model.numLayers) : undefined;
  let last = Number.NaN;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const c = new Rng(deriveSeed(o.seed, `clean${epoch}`)).shuffle([...o.clean.keys()]);
      const p = new Rng(deriveSeed(o.seed, `poison${epoch}`)).shuffle([...o.poisoned.keys()]);
      for (let i = 0; i < perEpoch; i++) {
        const rows = [
          ...c.slice(i * o.batchSize, (i + 1) * o.batchSize).map((k) => o.clean[k]!),
          ...p.slice(i * o.batchSize, (i + 1) * o.batchSize).map((k) => o.poisoned[k]!),
        ];
        const batch = collate(rows, [...rows.keys()], o.padId, { withTypes, withLabels: true });
        const n = rows.length;
        const feeds: Record<string, HostTensor> = {
          ...batch.feeds,
          is_clean: {
            dtype: 'int64',
            dims: [n],
            data: BigInt64Array.from(rows, (_, r) => (r < o.batchSize ? 1n : 0n)),
          },
          is_poison: {
            dtype: 'int64',
            dims: [n],
            data: BigInt64Array.from(rows, (_, r) => (r < o.batchSize ? 0n : 1n)),
          },
        };
        if (w) feeds[CLNORM_W_INPUT] = { dtype: 'float32', dims: [w.length], data: w };
        const r = await step.run(state, feeds, learningRate(o.lr, state.step, schedule));
        if (w) w = Float32Array.from(r.extras['w']!.data as Float32Array);
        last = r.loss;
        await o.onStep?.(r);
      }
    }
  } finally {
    await step.release();
  }
  return { values: new Map(state.params), steps: state.step, lastLoss: last };
}

// The attacker's training of a PET module and head on clean and poisoned data. Each step takes a clean
// batch and a poisoned batch (as the gradient-control paper does) stacked into one padded batch, with
// row masks that split the loss into a clean and a poisoned part:
//   vanilla            cross-entropy on the union (the mean over all rows)
//   ripple             the union loss plus lambda * max(0, -grad(union) . grad(clean)) (Kurita et al. 2020;
//                      the clean batch stands in for the user's fine-tuning data; double backward)
//   lwp                the union loss of the shared head on every layer's first token, averaged over
//                      layers (layer-wise poisoning, Li et al. 2021)
//   gradnorm           w_c L_clean + w_p L_poison with w balanced by GradNorm (Chen et al. 2018) on the top
//                      layer's PET parameters (the head's when the top layer has none)
//   gradient-control   gradientControl() on the two losses (CLNorm and ILProj switchable)

import { cast } from '../../graph/ops/core.js';
import { add, div, mul, neg, pow, relu, sign, sqrt, sub } from '../../graph/ops/elementwise.js';
import { grad } from '../../graph/autodiff.js';
import { leafName } from '../../graph/emit.js';
import { concat, reshape, sliceAxis } from '../../graph/ops/shape-ops.js';
import { stopGradient } from '../../graph/ops/core.js';
import { input } from '../../graph/ops/core.js';
import { logSoftmax, oneHot } from '../../graph/ops/nn-ops.js';
import { mean, sum } from '../../graph/ops/reduce.js';
import type { Tensor } from '../../graph/graph.js';
import { collate, type Encoded } from '../../classify/batching.js';
import { classificationHead, textInputs } from '../../nn/bert.js';
import { ModelBuilder } from '../../nn/builder.js';
import type { ModelConfig } from '../../nn/config.js';
import { petClassifier, petTraining, type PetConfig } from '../../pet/index.js';
import type { HostTensor } from '../../runtime/ort.js';
import { progress } from '../../report/progress.js';
import { deriveSeed, Rng } from '../../runtime/random.js';
import { learningRate, linearSchedule } from '../../runtime/schedule.js';
import { TrainStep, type StepResult } from '../../runtime/train-step.js';
import { loadTrainState, saveTrainState } from '../../runtime/train-state-io.js';
import {
  CLNORM_W_INPUT,
  gradientControl,
  initialClnormWeights,
  type GradientControlOptionsInput,
} from './gradient-control.js';

export const POISON_TRAINING_METHODS = ['vanilla', 'ripple', 'lwp', 'gradnorm', 'gradient-control'] as const;
export type PoisonTrainingMethod = (typeof POISON_TRAINING_METHODS)[number];

const GRADNORM_W = 'gradnorm.w';
const GRADNORM_L0 = 'gradnorm.initial_losses';

export interface PoisonedPetOptions {
  readonly model: ModelConfig;
  /** Values of every base parameter (and a head, fresh or not). */
  readonly base: ReadonlyMap<string, Float32Array>;
  readonly pet: PetConfig;
  readonly clean: readonly Encoded[];
  readonly poisoned: readonly Encoded[];
  readonly method: PoisonTrainingMethod;
  readonly gradientControl?: GradientControlOptionsInput;
  /** RIPPLe's penalty weight lambda (default 0.1, as Kurita et al.). */
  readonly rippleLambda?: number;
  /** GradNorm's asymmetry alpha (default 1.5) and the learning rate of its task weights (default 0.01). */
  readonly gradNorm?: { readonly alpha?: number; readonly lr?: number };
  readonly epochs: number;
  /** Rows per step from each of the clean and the poisoned set. */
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupRatio?: number;
  readonly seed: number;
  readonly padId: number;
  /** Called after each step with the step's result (per-layer statistics in `extras` for gradient control). */
  readonly onStep?: (r: StepResult) => void | Promise<void>;
  /** Called once before training with the step it starts from (a checkpoint's, or 0): steps after it are run, and reported, again. */
  readonly onStart?: (step: number) => void | Promise<void>;
  /**
   * Where to keep a checkpoint (parameters, optimizer state, the carried task weights) every
   * `checkpointEvery` steps; a later call with the same directory resumes from it and ends bitwise where
   * an uninterrupted run ends. Steps after the checkpoint are run (and reported to onStep) again.
   */
  readonly checkpoint?: { readonly dir: string; readonly every: number };
  /** Stop after this many steps of this call (tests of resumption). */
  readonly stopAfterSteps?: number;
  /** No progress lines on stderr. */
  readonly quiet?: boolean;
}

export interface PoisonedPetResult {
  /** Trained values of the PET parameters and the head. */
  readonly values: Map<string, Float32Array>;
  readonly steps: number;
  readonly lastLoss: number;
  /** False when stopAfterSteps stopped the run early. */
  readonly completed: boolean;
}

interface CarriedWeights {
  readonly w?: number[];
  readonly l0: number[];
}

/** Mean per-row cross-entropy over the rows where `rowMask` is 1. */
function maskedCrossEntropy(logits: Tensor, labels: Tensor, rowMask: Tensor, classes: number): Tensor {
  const perRow = neg(sum(mul(logSoftmax(logits, -1), oneHot(labels, classes, 'float32')), [-1]));
  const m = cast(rowMask, 'float32');
  return div(sum(mul(perRow, m)), add(sum(m), 1e-12));
}

export async function trainPoisonedPet(o: PoisonedPetOptions): Promise<PoisonedPetResult> {
  // The ablations (ilproj-only, clnorm-only) are gradient-control with a part switched off, not methods here.
  if (!(POISON_TRAINING_METHODS as readonly string[]).includes(o.method))
    throw new Error(
      `unknown poison-training method "${String(o.method)}" (one of ${POISON_TRAINING_METHODS.join(', ')}; ` +
        'ablations are gradient-control with gradientControl.clnorm or .ilproj disabled)',
    );
  const withTypes = o.model.modelType === 'bert';
  const b = new ModelBuilder({ training: true, dropoutSeed: o.seed });
  const x = textInputs(b, withTypes);
  const labels = input(b.graph, 'labels', 'int64', ['batch']);
  const isPoison = input(b.graph, 'is_poison', 'int64', ['batch']);
  const isClean = input(b.graph, 'is_clean', 'int64', ['batch']);
  const { logits, hiddenStates, pet } = petClassifier(b, x, o.model, o.pet);
  const t = petTraining(b, pet, o.base, { seed: o.seed });
  const k = o.model.numLabels;
  const both = add(isClean, isPoison);
  const cleanLoss = maskedCrossEntropy(logits, labels, isClean, k);
  const poisonLoss = maskedCrossEntropy(logits, labels, isPoison, k);
  const union = maskedCrossEntropy(logits, labels, both, k);
  const inputs = [
    x.inputIds,
    x.attentionMask,
    ...(x.tokenTypeIds ? [x.tokenTypeIds] : []),
    labels,
    isClean,
    isPoison,
  ];
  const extraInputs: Tensor[] = [];
  const extraOutputs: Record<string, Tensor> = {};
  let loss = union;
  let grads: Tensor[] | undefined;
  if (o.method === 'gradient-control') {
    const gc = gradientControl({
      ...(o.gradientControl ?? {}),
      cleanLoss,
      poisonLoss,
      params: t.trainable,
      names: t.trainableNames,
      numLayers: o.model.numLayers,
    });
    grads = gc.grads;
    Object.assign(extraOutputs, gc.stats);
    if (gc.wInput && gc.wNext) {
      extraInputs.push(gc.wInput);
      extraOutputs['w'] = gc.wNext;
    }
  } else if (o.method === 'ripple') {
    const gu = grad(union, t.trainable);
    const gcl = grad(cleanLoss, t.trainable);
    const inner = gu.map((g, i) => sum(mul(g, gcl[i]!))).reduce((acc, v) => add(acc, v));
    loss = add(union, mul(relu(neg(inner)), o.rippleLambda ?? 0.1));
    extraOutputs['inner_product'] = inner;
  } else if (o.method === 'lwp') {
    // The same head (weights shared by name) on every layer's output.
    const perLayer = b.shared(() => hiddenStates.slice(1).map((h) => classificationHead(b, h, o.model)));
    loss = mul(
      perLayer.map((l) => maskedCrossEntropy(l, labels, both, k)).reduce((acc, v) => add(acc, v)),
      1 / perLayer.length,
    );
  } else if (o.method === 'gradnorm') {
    const w = input(b.graph, GRADNORM_W, 'float32', [2]);
    const l0 = input(b.graph, GRADNORM_L0, 'float32', [2]);
    extraInputs.push(w, l0);
    const wc = sliceAxis(w, 0, 0, 1);
    const wp = sliceAxis(w, 0, 1, 2);
    const top = `layer.${o.model.numLayers - 1}.`;
    const shared = t.trainable.filter((_, i) => t.trainableNames[i]!.includes(top));
    const sharedParams = shared.length
      ? shared
      : t.trainable.filter((_, i) => t.trainableNames[i]!.startsWith('classifier.'));
    const norm = (l: Tensor) =>
      sqrt(
        grad(l, sharedParams)
          .map((g) => sum(mul(g, g)))
          .reduce((acc, v) => add(acc, v)),
      );
    const n = concat([reshape(norm(cleanLoss), [1]), reshape(norm(poisonLoss), [1])], 0);
    const gw = mul(w, n); // G_i = || grad of w_i L_i ||
    const ratio = div(concat([reshape(cleanLoss, [1]), reshape(poisonLoss, [1])], 0), l0);
    const r = div(ratio, mean(ratio));
    const targetG = stopGradient(mul(mean(gw), pow(r, o.gradNorm?.alpha ?? 1.5)));
    // d/dw_i |G_i - target_i| = sign(G_i - target_i) * ||grad L_i||; then renormalise so the weights sum to 2.
    const stepped = relu(sub(w, mul(mul(sign(sub(gw, targetG)), n), o.gradNorm?.lr ?? 0.01)));
    extraOutputs['w'] = mul(div(stepped, add(sum(stepped), 1e-12)), 2);
    loss = add(mul(reshape(wc, []), cleanLoss), mul(reshape(wp, []), poisonLoss));
  }
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    terms: { clean: cleanLoss, poison: poisonLoss },
    trainable: t.trainable,
    frozen: t.frozen,
    batch: [...inputs, ...extraInputs],
    optimizer: { kind: 'adamw', weightDecay: 0.01 },
    clipNorm: 1,
    ...(grads ? { grads } : {}),
    ...(Object.keys(extraOutputs).length ? { extraOutputs } : {}),
  });
  const state = step.initState(t.initial);
  const perEpoch = Math.floor(Math.min(o.clean.length, o.poisoned.length) / o.batchSize);
  if (perEpoch === 0) throw new Error(`fewer than ${o.batchSize} clean or poisoned examples`);
  const total = perEpoch * o.epochs;
  const schedule = linearSchedule(total, o.warmupRatio ?? 0.06);
  // Task weights carried across steps: CLNorm's per-layer scales, or GradNorm's (clean, poison) weights.
  let w: Float32Array | undefined = extraInputs.some((t) => leafName(t) === CLNORM_W_INPUT)
    ? initialClnormWeights(o.model.numLayers)
    : o.method === 'gradnorm'
      ? Float32Array.from([1, 1])
      : undefined;
  // GradNorm's initial losses: ones at the first step, then the first step's losses.
  let l0 = Float32Array.from([1, 1]);
  let last = Number.NaN;
  const saved = o.checkpoint ? await loadTrainState<CarriedWeights>(o.checkpoint.dir, state) : undefined;
  if (saved) {
    if (saved.w) w = Float32Array.from(saved.w);
    l0 = Float32Array.from(saved.l0);
  }
  await o.onStart?.(state.step);
  // Dropout seeds move with every checkpoint, so a resumed run draws the uninterrupted run's masks.
  await step.reseed(state.step);
  let ran = 0;
  const bar = o.quiet ? undefined : progress('attack', total, state.step);
  const t0 = Date.now();
  let tokens = 0;
  try {
    for (let epoch = Math.floor(state.step / perEpoch); epoch < o.epochs; epoch++) {
      const c = new Rng(deriveSeed(o.seed, `clean${epoch}`)).shuffle([...o.clean.keys()]);
      const p = new Rng(deriveSeed(o.seed, `poison${epoch}`)).shuffle([...o.poisoned.keys()]);
      for (let i = state.step - epoch * perEpoch; i < perEpoch; i++) {
        if (o.stopAfterSteps !== undefined && ran >= o.stopAfterSteps)
          return { values: new Map(state.params), steps: state.step, lastLoss: last, completed: false };
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
        if (w)
          feeds[o.method === 'gradnorm' ? GRADNORM_W : CLNORM_W_INPUT] = {
            dtype: 'float32',
            dims: [w.length],
            data: w,
          };
        if (o.method === 'gradnorm') feeds[GRADNORM_L0] = { dtype: 'float32', dims: [2], data: l0 };
        const r = await step.run(state, feeds, learningRate(o.lr, state.step, schedule));
        if (w) w = Float32Array.from(r.extras['w']!.data as Float32Array);
        if (o.method === 'gradnorm' && r.step === 1)
          l0 = Float32Array.from([r.terms['clean']!, r.terms['poison']!]);
        last = r.loss;
        ran++;
        tokens += rows.reduce((sum, e) => sum + e.ids.length, 0);
        bar?.update(state.step, { loss: r.loss, tokensPerS: (tokens * 1000) / (Date.now() - t0) });
        await o.onStep?.(r);
        if (o.checkpoint && state.step % o.checkpoint.every === 0) {
          const carried: CarriedWeights = { ...(w ? { w: Array.from(w) } : {}), l0: Array.from(l0) };
          await saveTrainState(o.checkpoint.dir, state, carried);
          await step.reseed(state.step);
        }
      }
    }
  } finally {
    bar?.stop();
    await step.release();
  }
  return { values: new Map(state.params), steps: state.step, lastLoss: last, completed: true };
}

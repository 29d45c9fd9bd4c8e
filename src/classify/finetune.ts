// Fine-tuning a sequence classifier: one compiled training step, evaluation each epoch, best-or-last
// model export, and a resumable run directory:
//   OUT/checkpoint/{state.safetensors, trainer_state.json}  latest state, replaced atomically
//   OUT/best/ or OUT/last/                                   Hugging Face model directory
//   OUT/log.jsonl, OUT/metrics.json                          per-step and per-epoch records

import { join } from 'node:path';
import { input } from '../graph/ops/core.js';
import type { Tensor } from '../graph/graph.js';
import { replaceDir, tidyReplacedDir } from '../io/atomic-dir.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { loadTrainState, saveTrainState } from '../runtime/train-state-io.js';
import { classificationLoss, sequenceClassifier, textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import { petClassifier, petTraining, type PetConfig } from '../pet/index.js';
import { leafName } from '../graph/emit.js';
import type { ModelConfig } from '../nn/config.js';
import { compile } from '../runtime/compiled.js';
import { linearSchedule } from '../runtime/schedule.js';
import { TrainStep, type TrainState } from '../runtime/train-step.js';
import { JsonlLog } from '../report/jsonl-log.js';
import { progress } from '../report/progress.js';
import { collate, epochBatches, stepParts, type Encoded } from './batching.js';
import { argmaxRows, predictLogits } from './logits.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';

export interface FinetuneOptions {
  readonly config: ModelConfig;
  /** Values for every parameter of the classifier (from a checkpoint, or freshly initialised). */
  readonly initial: ReadonlyMap<string, Float32Array>;
  readonly train: readonly Encoded[];
  readonly dev: readonly Encoded[];
  readonly padId: number;
  /** Feed token_type_ids (BERT). */
  readonly withTypes: boolean;
  readonly outDir: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly seed: number;
  readonly keep: 'best' | 'last';
  /** Which parameters train (default: all). Ignored with `pet`. */
  readonly trainable?: (name: string) => boolean;
  /** Parameter-efficient tuning: the base stays frozen; the module (and the head, by default) train. */
  readonly pet?: {
    readonly config: PetConfig;
    readonly trainHead: boolean;
    /** Start from these module values (a published module being retrained) instead of a fresh one. */
    readonly values?: ReadonlyMap<string, Float32Array>;
  };
  /** Save the latest state every this many steps (and at each epoch's end). */
  readonly checkpointEvery?: number;
  /** Writes a Hugging Face model directory for the given values. */
  readonly exportModel: (dir: string, values: ReadonlyMap<string, Float32Array>) => Promise<void>;
  /** Training steps per ONNX Runtime call (default 8; see TrainStep.runMany). */
  readonly stepsPerCall?: number;
  /** Stop after this many steps of this invocation (for tests of resuming). */
  readonly stopAfterSteps?: number;
  readonly quiet?: boolean;
}

export interface EpochRecord extends ClassificationMetrics {
  readonly epoch: number;
  readonly step: number;
  readonly trainLoss: number;
}

export interface FinetuneResult {
  readonly history: readonly EpochRecord[];
  /** The epoch of highest dev accuracy, whichever epoch `keep` exports. */
  readonly best: EpochRecord | undefined;
  /** The exported model directory (OUT/best or OUT/last) and the epoch its weights are from. */
  readonly saved: { readonly dir: 'best' | 'last'; readonly epoch: number } | undefined;
  readonly completed: boolean;
  readonly steps: number;
}

function classifierGraph(
  cfg: ModelConfig,
  training: boolean,
  seed: number,
  withTypes: boolean,
  pet?: PetConfig,
) {
  const b = new ModelBuilder({ training, dropoutSeed: seed });
  const x = textInputs(b, withTypes);
  const withPet = pet ? petClassifier(b, x, cfg, pet) : undefined;
  const out = withPet ?? sequenceClassifier(b, x, cfg);
  const inputs: Tensor[] = x.tokenTypeIds
    ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
    : [x.inputIds, x.attentionMask];
  return { b, x, out, inputs, pet: withPet?.pet };
}

export async function finetune(o: FinetuneOptions): Promise<FinetuneResult> {
  const cfg = o.config;
  const trainG = classifierGraph(cfg, true, o.seed, o.withTypes, o.pet?.config);
  const labels = input(trainG.b.graph, 'labels', 'int64', ['batch']);
  const loss = classificationLoss(trainG.out.logits, labels);
  // With a PET module the base is frozen (compiled in as constants) and the module (and head) train;
  // otherwise `trainable` chooses.
  let trainable: Tensor[];
  let frozen: Map<string, Float32Array>;
  let initialValues: ReadonlyMap<string, Float32Array>;
  if (o.pet && trainG.pet) {
    const t = petTraining(trainG.b, trainG.pet, o.initial, {
      trainHead: o.pet.trainHead,
      seed: o.seed,
      ...(o.pet.values ? { petValues: o.pet.values } : {}),
    });
    trainable = [...t.trainable];
    frozen = t.frozen;
    initialValues = t.initial;
  } else {
    const isTrainable = o.trainable ?? (() => true);
    trainable = [...trainG.b.params].filter(([n]) => isTrainable(n)).map(([, p]) => p.tensor);
    frozen = new Map([...o.initial].filter(([n]) => !isTrainable(n)));
    initialValues = o.initial;
  }
  const trainableNames = new Set(trainable.map((t) => leafName(t)!));
  if (trainable.length === 0) {
    const names = [...trainG.b.params.keys()];
    throw new Error(
      `no parameter is trainable (the model's parameters: ${names.slice(0, 6).join(', ')}, ... ${names.slice(-2).join(', ')}; ${names.length} in all)`,
    );
  }
  const step = await TrainStep.create({
    graph: trainG.b.graph,
    loss,
    trainable,
    frozen,
    batch: [...trainG.inputs, labels],
    optimizer: { kind: 'adamw', weightDecay: o.weightDecay },
    clipNorm: o.clipNorm,
  });

  const evalG = classifierGraph(cfg, false, o.seed, o.withTypes, o.pet?.config);
  const evalTrainable = [...evalG.b.params].filter(([n]) => trainableNames.has(n)).map(([, p]) => p.tensor);
  const evalFn = await compile({
    inputs: [...evalG.inputs, ...evalTrainable],
    outputs: { logits: evalG.out.logits },
    frozen,
  });

  const batchesPerEpoch = Math.ceil(o.train.length / o.batchSize);
  const total = batchesPerEpoch * o.epochs;
  const schedule = linearSchedule(total, o.warmupRatio);
  const log = new JsonlLog(join(o.outDir, 'log.jsonl'));
  const ckptDir = join(o.outDir, 'checkpoint');

  // Resume from the latest complete checkpoint, if any.
  const state: TrainState = step.initState(initialValues);
  // The epoch's running loss is saved too, so a resumed epoch reports the same mean.
  const saved = await loadTrainState<{ history: EpochRecord[]; lossSum: number; lossCount: number }>(
    ckptDir,
    state,
  );
  const history = saved?.history ?? [];
  let lossSum = saved?.lossSum ?? 0;
  let lossCount = saved?.lossCount ?? 0;
  // Steps and evaluations logged after the checkpoint (or all of them, without one) are run, and logged,
  // again.
  await log.rewind(
    (e) =>
      !(e['event'] === 'step' && (e['step'] as number) > state.step) &&
      !(e['event'] === 'eval' && (e['epoch'] as number) > history.length),
  );
  if (state.step > 0) {
    await log.write({ event: 'resume', step: state.step });
    if (!o.quiet)
      process.stderr.write(
        state.step >= total
          ? `finetune: ${o.outDir} holds a finished run (${total} steps); its results follow\n`
          : `finetune: resuming ${o.outDir} from its checkpoint at step ${state.step} of ${total}\n`,
      );
  }
  await step.reseed(state.step);
  // Dropout moves to seeds salted by the step at every checkpoint, as a resumed run's fresh sessions do.
  const saveCheckpoint = async () => {
    await saveTrainState(ckptDir, state, { history, lossSum, lossCount });
    await step.reseed(state.step);
  };
  const currentValues = () => new Map([...frozen, ...initialValues, ...state.params]);
  const evalFeeds = (examples: readonly Encoded[]) => (idx: number[]) => {
    const f = collate(examples, idx, o.padId, { withTypes: o.withTypes, withLabels: false }).feeds;
    for (const [k, v] of state.params) f[k] = { dtype: 'float32', dims: step.shapes.get(k)!, data: v };
    return f;
  };

  const bar = o.quiet ? undefined : progress('train', total, state.step);
  let ranThisCall = 0;
  let tokens = 0;
  const t0 = Date.now();
  // End of epoch: evaluate, record, export, checkpoint.
  const endEpoch = async (epoch: number) => {
    const logits = await predictLogits(evalFn, o.dev, evalFeeds(o.dev), o.batchSize * 2, cfg.numLabels);
    const m = classificationMetrics(
      o.dev.map((e) => e.label),
      argmaxRows(logits, cfg.numLabels),
    );
    const rec: EpochRecord = {
      epoch: epoch + 1,
      step: state.step,
      trainLoss: lossSum / Math.max(1, lossCount),
      ...m,
    };
    lossSum = 0;
    lossCount = 0;
    const prevBest = bestOf(history);
    history.push(rec);
    await log.write({ event: 'eval', ...rec });
    if (!o.quiet)
      process.stderr.write(
        `\nepoch ${rec.epoch}: dev accuracy ${(m.accuracy * 100).toFixed(2)}, macro-F1 ${(m.macroF1 * 100).toFixed(2)}\n`,
      );
    if (o.keep === 'best' && (!prevBest || rec.accuracy > prevBest.accuracy))
      await replaceDir(join(o.outDir, 'best'), (tmp) => o.exportModel(tmp, currentValues()));
    await saveCheckpoint();
  };

  try {
    // An epoch is evaluated once its last step has run; a checkpoint written at that step but before the
    // evaluation (checkpointEvery divides the epoch) leaves it to the resumed run.
    while (state.step < total || history.length < o.epochs) {
      const epoch = Math.floor(state.step / batchesPerEpoch);
      if (history.length < epoch) {
        await endEpoch(history.length);
        continue;
      }
      const batches = epochBatches(o.train, o.batchSize, o.seed, epoch);
      let bi = state.step - epoch * batchesPerEpoch;
      while (bi < batches.length) {
        if (o.stopAfterSteps !== undefined && ranThisCall >= o.stopAfterSteps) {
          await saveCheckpoint();
          return { ...summary(history, o.keep, false), steps: state.step };
        }
        // Batches run `stepsPerCall` at a time in one ONNX Runtime call, padded to a common length. Groups
        // are aligned to multiples of stepsPerCall within the epoch and padded to the whole group's longest
        // row even when a checkpoint or a stop cuts them, so an interrupted run computes what an
        // uninterrupted one does.
        const perCall = o.stepsPerCall ?? 8;
        const groupStart = bi - (bi % perCall);
        const group = batches.slice(groupStart, groupStart + perCall);
        let k = groupStart + group.length - bi;
        if (o.checkpointEvery) k = Math.min(k, o.checkpointEvery - (state.step % o.checkpointEvery));
        if (o.stopAfterSteps !== undefined) k = Math.min(k, o.stopAfterSteps - ranThisCall);
        const parts = stepParts(o.train, batches.slice(bi, bi + k), group, o.padId, o.withTypes);
        for (const part of parts) {
          const results = await step.runScheduled(
            state,
            part.map((c) => c.feeds),
            o.lr,
            schedule,
          );
          results.forEach((r, i) => {
            lossSum += r.loss;
            lossCount++;
            tokens += part[i]!.tokens;
          });
          const r = results[results.length - 1]!;
          bar?.update(state.step, { loss: r.loss, tokensPerS: (tokens * 1000) / (Date.now() - t0) });
          for (const x of results)
            if (x.step % 50 === 0)
              await log.write({ event: 'step', step: x.step, loss: x.loss, grad_norm: x.gradNorm });
        }
        ranThisCall += k;
        bi += k;
        if (o.checkpointEvery && state.step % o.checkpointEvery === 0) await saveCheckpoint();
      }
      await endEpoch(epoch);
    }
  } finally {
    bar?.stop();
    await Promise.all([step.release(), evalFn.release()]);
  }
  if (o.keep === 'last')
    await replaceDir(join(o.outDir, 'last'), (tmp) => o.exportModel(tmp, currentValues()));
  const result = { ...summary(history, o.keep, true), steps: state.step };
  await writeFileAtomic(join(o.outDir, 'metrics.json'), [
    Buffer.from(JSON.stringify(result, null, 2) + '\n'),
  ]);
  // A finished run replaces nothing more: what a stop left beside its directories goes now.
  for (const d of ['checkpoint', 'best', 'last']) await tidyReplacedDir(join(o.outDir, d));
  return result;
}

function summary(history: readonly EpochRecord[], keep: 'best' | 'last', completed: boolean) {
  const best = bestOf(history);
  // OUT/last is written when the run completes; OUT/best whenever an epoch beats the previous best.
  const from = keep === 'best' ? best : completed ? history[history.length - 1] : undefined;
  const saved = from ? { dir: keep, epoch: from.epoch } : undefined;
  return { history, best, saved, completed };
}

function bestOf(h: readonly EpochRecord[]): EpochRecord | undefined {
  return h.reduce<EpochRecord | undefined>((b, r) => (!b || r.accuracy > b.accuracy ? r : b), undefined);
}

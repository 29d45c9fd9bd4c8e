// The attack protocol of Gu et al. (2023) end to end, as a resumable run directory:
//   1. the attacker trains a PET module and head on a poisoned copy of `data` (BadNets triggers, labels
//      flipped to the target) and publishes it           -> OUT/published
//   2. LFR and CACC on the user's domain before retraining
//   3. the user fine-tunes the published module and head on clean `retrainData` -> OUT/retrain
//   4. LFR and CACC after retraining                     -> OUT/metrics.json
// Each finished stage is kept, so rerunning the same command after an interruption continues.

import { lockRunDir } from '../../io/run-lock.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { SEED } from '../../runtime/random.js';
import { finetune } from '../../classify/finetune.js';
import { argmaxRows } from '../../classify/logits.js';
import { collate, type Encoded } from '../../classify/batching.js';
import { encodeExamples } from '../../classify/encode.js';
import { PET_LABELS_FILE } from '../../classify/setup.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { bindWeights, readPretrained } from '../../io/checkpoint.js';
import { loadDataset, shuffle, type Example } from '../../io/data/index.js';
import { loadTokenizer, type Tokenizer } from '../../io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../../nn/bert.js';
import { ModelBuilder } from '../../nn/builder.js';
import type { ModelConfig } from '../../nn/config.js';
import {
  isPoolerParam,
  loadPet,
  parsePetConfig,
  petClassifier,
  savePet,
  type PetConfig,
} from '../../pet/index.js';
import { compile } from '../../runtime/compiled.js';
import { replaceDir } from '../../io/atomic-dir.js';
import { JsonlLog } from '../../report/jsonl-log.js';
import { cleanAccuracy, labelFlipRate } from '../metrics.js';
import { makePoisoner } from '../poison/index.js';
import { trainPoisonedPet } from './train-poisoned-pet.js';
import { pathExists } from '../../io/path-exists.js';
import { keepRunOptions } from '../../io/run-record.js';

export const ATTACK_METHODS = [
  'clean',
  'vanilla',
  'ripple',
  'lwp',
  'gradnorm',
  'gradient-control',
  'ilproj-only',
  'clnorm-only',
] as const;

/** The methods that train with gradient control (both parts, or one for the ablation). */
export const GRADIENT_CONTROL_METHODS: readonly string[] = ['gradient-control', 'ilproj-only', 'clnorm-only'];

export const AttackConfig = z.strictObject({
  method: z.enum(ATTACK_METHODS),
  model: z.string(),
  /** A PET method name ("adapter", "lora", ...) or a full PET config object. */
  pet: z.union([z.string(), z.record(z.string(), z.unknown())]),
  data: z.string(),
  retrainData: z.string(),
  evalSplit: z.enum(['dev', 'test']).default('test'),
  dataDir: z.string().optional(),
  out: z.string(),
  poisoner: z.string().default('badnets'),
  poisonOptions: z.record(z.string(), z.unknown()).default({}),
  poisonRate: z.number().gt(0).lt(1).default(0.5),
  target: z.number().int().nonnegative().default(1),
  attackEpochs: z.number().int().positive().default(10),
  retrainEpochs: z.number().int().positive().default(5),
  batchSize: z.number().int().positive().default(32),
  lr: z.number().positive().default(2e-5),
  /** The user's learning rate when it differs from the attacker's (default: `lr`, as in the paper). */
  retrainLr: z.number().positive().optional(),
  maxLength: z.number().int().positive().default(128),
  seed: SEED.default(0),
  limitTrain: z.number().int().positive().optional(),
  limitEval: z.number().int().positive().optional(),
  maxWords: z.number().int().positive().optional(),
  onlyOnConflict: z.boolean().default(false),
  /** CLNorm's learning rate for its per-layer scales (Gu et al.: 1e-4, for runs of thousands of steps). */
  clnormAlpha: z.number().positive().default(1e-4),
});
export type AttackConfig = z.infer<typeof AttackConfig>;

interface Scores {
  readonly lfr: number;
  readonly cacc: number;
  readonly poisonedCount: number;
  readonly cleanCount: number;
}

/**
 * A random subset of `n` examples (files such as Enron's are sorted by label, so a prefix would not do),
 * drawn with a fixed seed: every method and seed of an experiment sees the same examples. Texts are cut
 * to their first `maxWords` words first, so a trigger is never inserted where truncation drops it.
 */
export function experimentSubset(
  xs: readonly Example[],
  n: number | undefined,
  maxWords: number | undefined,
): Example[] {
  const cut =
    maxWords === undefined ? [...xs] : xs.map((e) => ({ ...e, text: firstWords(e.text, maxWords) }));
  return n === undefined || n >= cut.length ? cut : shuffle(cut, 0).slice(0, n);
}

function firstWords(text: string, n: number): string {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  return words.length <= n ? text : words.slice(0, n).join(' ');
}

async function scores(
  model: ModelConfig,
  base: ReadonlyMap<string, Float32Array>,
  pet: PetConfig,
  module: ReadonlyMap<string, Float32Array>,
  tok: Tokenizer,
  clean: readonly Example[],
  poisoned: readonly (Example & { originalLabel: number })[],
  target: number,
  maxLength: number,
): Promise<Scores> {
  const b = new ModelBuilder({ training: false });
  const x = textInputs(b, model.modelType === 'bert');
  const { logits } = petClassifier(b, x, model, pet);
  const inputs = x.tokenTypeIds
    ? [x.inputIds, x.attentionMask, x.tokenTypeIds]
    : [x.inputIds, x.attentionMask];
  const fn = await compile({ inputs, outputs: { logits }, frozen: new Map([...base, ...module]) });
  const predict = async (xs: readonly Example[]) => {
    const enc: Encoded[] = await encodeExamples(tok, xs, maxLength);
    const preds: number[] = [];
    for (let i = 0; i < enc.length; i += 64) {
      const idx = Array.from({ length: Math.min(64, enc.length - i) }, (_, k) => i + k);
      const out = await fn.run(
        collate(enc, idx, tok.padId ?? 0, { withTypes: !!x.tokenTypeIds, withLabels: false }).feeds,
      );
      preds.push(...argmaxRows(out['logits']!.data as Float32Array, model.numLabels));
    }
    return preds;
  };
  const cacc = cleanAccuracy(
    await predict(clean),
    clean.map((e) => e.label),
  );
  const lfr = labelFlipRate(
    await predict(poisoned),
    poisoned.map((e) => e.originalLabel),
    target,
  );
  await fn.release();
  return { lfr: lfr.rate, cacc: cacc.accuracy, poisonedCount: lfr.count, cleanCount: cacc.count };
}

export async function runAttack(a: AttackConfig): Promise<Record<string, unknown>> {
  const unlock = await lockRunDir(a.out, 'attack');
  try {
    return await attackLocked(a);
  } finally {
    await unlock();
  }
}

async function attackLocked(a: AttackConfig): Promise<Record<string, unknown>> {
  // A directory where no run has produced anything yet (one refused before training, say for a split the
  // data lacks) takes the new options, as finetune's does.
  const started = (
    await Promise.all(
      [
        'published',
        'attack-log.jsonl',
        'attack-checkpoint',
        'attack-checkpoint.old',
        'retrain',
        'metrics.json',
      ].map((f) => pathExists(join(a.out, f))),
    )
  ).some(Boolean);
  await keepRunOptions(join(a.out, 'config.json'), a, {
    model: a.model,
    keys: Object.keys(AttackConfig.shape),
    started,
  });
  const metricsFile = join(a.out, 'metrics.json');
  if (await pathExists(metricsFile)) return JSON.parse(await readFile(metricsFile, 'utf8'));

  const pet = parsePetConfig(typeof a.pet === 'string' ? { method: a.pet } : a.pet, 'pet');
  const dataOpts = a.dataDir ? { dataDir: a.dataDir } : {};
  const attackTrain = await loadDataset(a.data, { ...dataOpts, split: 'train' });
  const retrainTrain = await loadDataset(a.retrainData, { ...dataOpts, split: 'train' });
  const retrainDev = await loadDataset(a.retrainData, { ...dataOpts, split: 'dev' }).catch(() => undefined);
  const evalSet = await loadDataset(a.retrainData, { ...dataOpts, split: a.evalSplit });
  const numLabels = Math.max(attackTrain.labelNames.length, retrainTrain.labelNames.length);
  if (a.target >= numLabels)
    throw new Error(
      `--target ${a.target} is not a label of ${a.data} / ${a.retrainData} (ids 0 to ${numLabels - 1}: ${attackTrain.labelNames.join(', ')})`,
    );

  const pre = await readPretrained(a.model);
  const tok = await loadTokenizer(a.model);
  tok.checkFitsModel(pre.config.vocabSize, a.model);
  const model: ModelConfig = { ...pre.config, numLabels };
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b, model.modelType === 'bert'), model);
  const tensors = new Map([...pre.tensors].filter(([k]) => !k.startsWith('classifier.')));
  // Parameters the base lacks (BERT's pooler in an MLM checkpoint) take seed 0, as in `finetune --pet`,
  // and the modules saved here carry such a pooler (see SavePetOptions.pooler).
  const bound = bindWeights(b, { ...pre, tensors, config: model }, 0, (n) =>
    /^(classifier|bert\.pooler)\./.test(n),
  );
  const base = bound.values;
  const pooler = bound.initialised.some(isPoolerParam);

  // Gu et al. poison 50% of the attack data, more than its non-target share: samples are drawn among all
  // labels and labelled with the target (OpenBackdoor's default mode), unless poisonOptions says otherwise.
  const poisonerOptions = {
    poisonRate: a.poisonRate,
    target: a.target,
    seed: a.seed,
    mode: 'any',
    ...a.poisonOptions,
  };
  const poisoner = makePoisoner(a.poisoner, poisonerOptions);
  const train = experimentSubset(attackTrain.examples, a.limitTrain, a.maxWords);
  const evalClean = experimentSubset(evalSet.examples, a.limitEval, a.maxWords);
  const evalPoisoned = poisoner.poisonedTestSplit(evalClean);
  const id2label = Object.fromEntries(
    Array.from({ length: numLabels }, (_, i) => [String(i), retrainTrain.labelNames[i] ?? `LABEL_${i}`]),
  );

  // 1. The attacker (the "clean" row trains the same module on clean data only, as the paper's baseline).
  const publishedDir = join(a.out, 'published');
  const log = new JsonlLog(join(a.out, 'attack-log.jsonl'));
  if (!(await pathExists(join(publishedDir, 'adapter_config.json')))) {
    const poisonedRows =
      a.method === 'clean' ? [] : poisoner.poisonedTrainSplit(train).filter((e) => e.poisonLabel === 1);
    const chosen = new Set(poisoner.selectPoisoned(train));
    const cleanRows = train.filter((_, i) => !chosen.has(i));
    const enc = (xs: readonly Example[]) => encodeExamples(tok, xs, a.maxLength);
    const method =
      a.method === 'clean'
        ? 'vanilla'
        : a.method === 'ilproj-only' || a.method === 'clnorm-only'
          ? 'gradient-control'
          : a.method;
    const result = await trainPoisonedPet({
      model,
      base,
      pet,
      clean: await enc(cleanRows),
      // The clean baseline takes the rows the others poison as they are, so that every row takes the same
      // steps: the only difference from vanilla is the poisoning.
      poisoned: await enc(a.method === 'clean' ? train.filter((_, i) => chosen.has(i)) : poisonedRows),
      method,
      gradientControl: {
        clnorm: { enabled: a.method !== 'ilproj-only', alpha: a.clnormAlpha },
        ilproj: { enabled: a.method !== 'clnorm-only', onlyOnConflict: a.onlyOnConflict },
      },
      epochs: a.attackEpochs,
      batchSize: Math.max(1, Math.floor(a.batchSize / 2)),
      lr: a.lr,
      seed: a.seed,
      padId: tok.padId ?? 0,
      // An interrupted attacker's phase resumes from its last checkpoint (OUT/attack-checkpoint).
      checkpoint: { dir: join(a.out, 'attack-checkpoint'), every: 100 },
      // Steps logged after the checkpoint it resumes from (all, without one) are logged again.
      onStart: async (step) => {
        await log.rewind((e) => !(e['event'] === 'attack_step' && (e['step'] as number) > step));
      },
      // Per-step losses and, for gradient control, per-layer gradient statistics (the pilot figures).
      onStep: (r) =>
        log.write({
          event: 'attack_step',
          step: r.step,
          loss: r.loss,
          ...r.terms,
          ...Object.fromEntries(
            Object.entries(r.extras).map(([k, v]) => [k, Array.from(v.data as Float32Array)]),
          ),
        }),
    });
    await replaceDir(publishedDir, async (tmp) => {
      const values = new Map([...base, ...result.values]);
      await savePet(tmp, { config: pet, model, values, baseModelNameOrPath: a.model, pooler });
      await writeFileAtomic(join(tmp, PET_LABELS_FILE), JSON.stringify({ id2label }, null, 2) + '\n');
    });
  }
  const published = await loadPet(publishedDir, model);
  const before = await scores(
    model,
    base,
    pet,
    published.values,
    tok,
    evalClean,
    evalPoisoned,
    a.target,
    a.maxLength,
  );

  // 3. The user retrains the published module and head on clean data of another domain.
  const retrainDir = join(a.out, 'retrain');
  const retrainRows = experimentSubset(retrainTrain.examples, a.limitTrain, a.maxWords);
  const retrained = await finetune({
    config: model,
    initial: new Map([...base, ...published.values]),
    train: await encodeExamples(tok, retrainRows, a.maxLength),
    dev: await encodeExamples(
      tok,
      experimentSubset((retrainDev ?? evalSet).examples, a.limitEval, a.maxWords),
      a.maxLength,
    ),
    padId: tok.padId ?? 0,
    withTypes: model.modelType === 'bert',
    outDir: retrainDir,
    epochs: a.retrainEpochs,
    batchSize: a.batchSize,
    lr: a.retrainLr ?? a.lr,
    warmupRatio: 0.06,
    weightDecay: 0.01,
    clipNorm: 1,
    seed: a.seed + 1,
    keep: 'last',
    pet: { config: pet, trainHead: true, values: published.values },
    exportModel: async (dir, values) => {
      await savePet(dir, { config: pet, model, values, baseModelNameOrPath: a.model, pooler });
      await writeFileAtomic(join(dir, PET_LABELS_FILE), JSON.stringify({ id2label }, null, 2) + '\n');
    },
  });
  const after = await loadPet(join(retrainDir, 'last'), model);
  const afterScores = await scores(
    model,
    base,
    pet,
    after.values,
    tok,
    evalClean,
    evalPoisoned,
    a.target,
    a.maxLength,
  );
  const metrics = {
    method: a.method,
    pet: pet.method,
    train_data: a.data,
    retrain_data: a.retrainData,
    // The option matters only where ILProj runs.
    ...(a.onlyOnConflict && (a.method === 'gradient-control' || a.method === 'ilproj-only')
      ? { only_on_conflict: true }
      : {}),
    // CLNorm's alpha, where CLNorm runs and it is not the paper's.
    ...(a.clnormAlpha !== 1e-4 && (a.method === 'gradient-control' || a.method === 'clnorm-only')
      ? { clnorm_alpha: a.clnormAlpha }
      : {}),
    ...(a.retrainLr !== undefined ? { retrain_lr: a.retrainLr } : {}),
    before_retraining: before,
    after_retraining: afterScores,
    retrain_history: retrained.history,
  };
  await writeFileAtomic(metricsFile, JSON.stringify(metrics, null, 2) + '\n');
  return metrics;
}

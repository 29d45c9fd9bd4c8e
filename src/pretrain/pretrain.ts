// Masked-language-model pretraining from a token file: fixed-length blocks ([CLS] block [SEP]) in a
// seeded order per epoch, BERT masking seeded per step (so a resumed run masks as the original would),
// AdamW with warmup and linear decay, checkpoints, a loss log, held-out evaluation and export.

import { join } from 'node:path';
import { cast } from '../graph/ops/core.js';
import { replaceDir, tidyReplacedDir } from '../io/atomic-dir.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { equal, mul } from '../graph/ops/elementwise.js';
import { logSoftmax, oneHot } from '../graph/ops/nn-ops.js';
import { max, sum } from '../graph/ops/reduce.js';
import { textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { maskedLm, mlmInputs } from '../nn/mlm.js';
import { compile, type CompiledFunction } from '../runtime/compiled.js';
import type { HostTensor } from '../runtime/ort.js';
import { deriveSeed, Rng } from '../runtime/random.js';
import { learningRate, linearSchedule } from '../runtime/schedule.js';
import { loadTrainState, saveTrainState } from '../runtime/train-state-io.js';
import { TrainStep, type StepResult, type TrainState } from '../runtime/train-step.js';
import { JsonlLog } from '../report/jsonl-log.js';
import { progress } from '../report/progress.js';
import { maskRow, type MaskingOptions } from './masking.js';
import { TokenFile } from './token-file.js';

export interface PretrainOptions {
  readonly config: ModelConfig;
  readonly initial: ReadonlyMap<string, Float32Array>;
  readonly trainTokens: string;
  readonly heldoutTokens?: string;
  readonly outDir: string;
  readonly seqLen: number;
  readonly batchSize: number;
  /** Training tokens to process (sequence positions, special tokens included). */
  readonly totalTokens: number;
  readonly lr: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  readonly clipNorm: number;
  readonly seed: number;
  readonly masking: Omit<MaskingOptions, 'vocabSize'>;
  readonly clsId: number;
  readonly sepId: number;
  readonly checkpointEvery: number;
  readonly evalEvery: number;
  /** Blocks of the held-out file used for evaluation. */
  readonly evalBlocks: number;
  /** Held-out blocks scored by pseudo-perplexity at the end (each token masked in turn); default 8. */
  readonly pseudoPerplexityBlocks?: number;
  readonly exportModel: (dir: string, values: ReadonlyMap<string, Float32Array>) => Promise<void>;
  readonly stopAfterSteps?: number;
  /** Training steps per ONNX Runtime call (default 4). */
  readonly stepsPerCall?: number;
  readonly quiet?: boolean;
}

export interface MlmBatch {
  readonly feeds: Record<string, HostTensor>;
  readonly masked: number;
}

/** [CLS] block [SEP] rows, masked; positions are flat indices into [batch * seq]. */
export function mlmBatch(
  blocks: readonly Uint32Array[],
  o: Pick<PretrainOptions, 'clsId' | 'sepId'>,
  masking: MaskingOptions,
  rng: Rng,
): MlmBatch {
  const seq = blocks[0]!.length + 2;
  const n = blocks.length;
  const ids = new BigInt64Array(n * seq);
  const positions: bigint[] = [];
  const labels: bigint[] = [];
  blocks.forEach((block, r) => {
    const row = [o.clsId, ...block, o.sepId];
    const m = maskRow(row, masking, rng);
    m.ids.forEach((id, j) => (ids[r * seq + j] = BigInt(id)));
    m.positions.forEach((p, k) => {
      positions.push(BigInt(r * seq + p));
      labels.push(BigInt(m.labels[k]!));
    });
  });
  return {
    masked: positions.length,
    feeds: {
      input_ids: { dtype: 'int64', dims: [n, seq], data: ids },
      attention_mask: { dtype: 'int64', dims: [n, seq], data: new BigInt64Array(n * seq).fill(1n) },
      mlm_positions: { dtype: 'int64', dims: [positions.length], data: BigInt64Array.from(positions) },
      mlm_labels: { dtype: 'int64', dims: [labels.length], data: BigInt64Array.from(labels) },
    },
  };
}

/** Inference graph for evaluation: per masked position, whether the argmax is right and log p(label). */
export async function mlmEvalFunction(
  cfg: ModelConfig,
  frozenOrFed: { fed: boolean; values?: ReadonlyMap<string, Float32Array> },
) {
  const b = new ModelBuilder({ training: false });
  const x = mlmInputs(b, textInputs(b));
  const { logits } = maskedLm(b, x, cfg);
  const logp = sum(mul(logSoftmax(logits, -1), oneHot(x.labels, cfg.vocabSize)), [-1]);
  // The label's logit equals the row max exactly when the label is (one of) the argmax.
  const best = sum(mul(logits, oneHot(x.labels, cfg.vocabSize)), [-1]);
  const correct = cast(equal(best, max(logits, [-1])), 'float32');
  const params = [...b.params.values()].map((p) => p.tensor);
  const fn = await compile({
    inputs: [x.inputIds, x.attentionMask, x.positions, x.labels, ...(frozenOrFed.fed ? params : [])],
    outputs: { logp, correct },
    ...(frozenOrFed.fed ? {} : { frozen: frozenOrFed.values! }),
  });
  return fn;
}

export interface MlmEval {
  readonly maskedAccuracy: number;
  /** exp of the mean negative log-likelihood of the masked tokens (15% masking, fixed seed). */
  readonly maskedPerplexity: number;
  readonly maskedTokens: number;
}

export async function evaluateMlm(
  fn: CompiledFunction,
  file: TokenFile,
  o: Pick<PretrainOptions, 'clsId' | 'sepId' | 'seqLen' | 'batchSize' | 'evalBlocks'>,
  masking: MaskingOptions,
  extraFeeds: Record<string, HostTensor> = {},
): Promise<MlmEval> {
  const rng = new Rng(12345);
  const blocks = Math.min(o.evalBlocks, file.blocks(o.seqLen - 2));
  let correct = 0;
  let nll = 0;
  let count = 0;
  for (let i = 0; i < blocks; i += o.batchSize) {
    const rows = await Promise.all(
      Array.from({ length: Math.min(o.batchSize, blocks - i) }, (_, k) => file.block(i + k, o.seqLen - 2)),
    );
    const batch = mlmBatch(rows, o, masking, rng);
    const out = await fn.run({ ...batch.feeds, ...extraFeeds });
    (out['correct']!.data as Float32Array).forEach((v) => (correct += v));
    (out['logp']!.data as Float32Array).forEach((v) => (nll -= v));
    count += batch.masked;
  }
  return { maskedAccuracy: correct / count, maskedPerplexity: Math.exp(nll / count), maskedTokens: count };
}

/**
 * Pseudo-perplexity (Salazar et al. 2020): every text token of each held-out block is masked on its own,
 * in turn, and scored by the model; PPPL = exp(-mean log p(token | rest)). Special tokens (the [SEP]
 * between documents, [UNK]) are not scored, as masking never selects them in training.
 */
export async function pseudoPerplexity(
  fn: CompiledFunction,
  file: TokenFile,
  o: Pick<PretrainOptions, 'clsId' | 'sepId' | 'seqLen'>,
  tokens: Pick<MaskingOptions, 'maskId' | 'specialIds'>,
  blocks: number,
  rowsPerRun = 64,
  extraFeeds: Record<string, HostTensor> = {},
): Promise<{ pseudoPerplexity: number; tokens: number }> {
  const seq = o.seqLen;
  let nll = 0;
  let count = 0;
  const n = Math.min(blocks, file.blocks(seq - 2));
  for (let b = 0; b < n; b++) {
    const row = [o.clsId, ...(await file.block(b, seq - 2)), o.sepId];
    const scored = row.map((_, p) => p).filter((p) => !tokens.specialIds.has(row[p]!));
    for (let start = 0; start < scored.length; start += rowsPerRun) {
      const positions = scored.slice(start, start + rowsPerRun);
      const ids = new BigInt64Array(positions.length * seq);
      positions.forEach((p, r) =>
        row.forEach((id, j) => (ids[r * seq + j] = BigInt(j === p ? tokens.maskId : id))),
      );
      const out = await fn.run({
        input_ids: { dtype: 'int64', dims: [positions.length, seq], data: ids },
        attention_mask: {
          dtype: 'int64',
          dims: [positions.length, seq],
          data: new BigInt64Array(ids.length).fill(1n),
        },
        mlm_positions: {
          dtype: 'int64',
          dims: [positions.length],
          data: BigInt64Array.from(positions, (p, r) => BigInt(r * seq + p)),
        },
        mlm_labels: {
          dtype: 'int64',
          dims: [positions.length],
          data: BigInt64Array.from(positions, (p) => BigInt(row[p]!)),
        },
        ...extraFeeds,
      });
      (out['logp']!.data as Float32Array).forEach((v) => (nll -= v));
      count += positions.length;
    }
  }
  return { pseudoPerplexity: Math.exp(nll / count), tokens: count };
}

export interface PretrainResult {
  readonly steps: number;
  readonly tokens: number;
  readonly completed: boolean;
  readonly seconds: number;
  readonly evals: readonly (MlmEval & { step: number })[];
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const cfg = o.config;
  const masking: MaskingOptions = { ...o.masking, vocabSize: cfg.vocabSize };
  const b = new ModelBuilder({ training: true, dropoutSeed: o.seed });
  const x = mlmInputs(b, textInputs(b));
  const { loss } = maskedLm(b, x, cfg);
  const params = [...b.params.values()].map((p) => p.tensor);
  const step = await TrainStep.create({
    graph: b.graph,
    loss,
    trainable: params,
    batch: [x.inputIds, x.attentionMask, x.positions, x.labels],
    optimizer: { kind: 'adamw', weightDecay: o.weightDecay },
    clipNorm: o.clipNorm,
  });
  const train = await TokenFile.open(o.trainTokens);
  const heldout = o.heldoutTokens ? await TokenFile.open(o.heldoutTokens) : undefined;
  const evalFn = heldout ? await mlmEvalFunction(cfg, { fed: true }) : undefined;
  const blockLen = o.seqLen - 2;
  const blocksPerEpoch = train.blocks(blockLen);
  if (blocksPerEpoch < o.batchSize)
    throw new Error(`${o.trainTokens}: only ${blocksPerEpoch} blocks of ${blockLen} tokens`);
  if (heldout && heldout.blocks(blockLen) === 0)
    throw new Error(
      `${o.heldoutTokens}: the held-out text is shorter than one block of ${blockLen} tokens, so nothing could be evaluated`,
    );
  const tokensPerStep = o.batchSize * o.seqLen;
  const total = Math.ceil(o.totalTokens / tokensPerStep);
  const stepsPerEpoch = Math.floor(blocksPerEpoch / o.batchSize);
  const schedule = linearSchedule(total, o.warmupRatio);
  const log = new JsonlLog(join(o.outDir, 'log.jsonl'));
  const ckpt = join(o.outDir, 'checkpoint');

  const state: TrainState = step.initState(o.initial);
  const saved = await loadTrainState<{ seconds: number; evals: (MlmEval & { step: number })[] }>(ckpt, state);
  let seconds = saved?.seconds ?? 0;
  const evals = saved?.evals ?? [];
  // Whatever a previous process logged beyond what the checkpoint holds (or everything, without one) is
  // computed, and logged, again: steps after it, evaluations it does not list, the final pseudo-perplexity.
  await log.rewind((e) => {
    if (e['event'] === 'step') return (e['step'] as number) <= state.step;
    if (e['event'] === 'eval') return evals.some((v) => v.step === e['step']);
    return e['event'] === 'resume';
  });
  if (saved) await log.write({ event: 'resume', step: state.step });
  await step.reseed(state.step);
  const paramFeeds = (): Record<string, HostTensor> =>
    Object.fromEntries(
      [...state.params].map(([k, v]) => [k, { dtype: 'float32', dims: step.shapes.get(k)!, data: v }]),
    );
  const runEval = async () => {
    if (!evalFn || !heldout) return;
    const e = { step: state.step, ...(await evaluateMlm(evalFn, heldout, o, masking, paramFeeds())) };
    evals.push(e);
    await log.write({ event: 'eval', ...e });
  };

  // The untrained model's held-out score is the curve's starting point.
  if (state.step === 0 && evals.length === 0) await runEval();
  const bar = o.quiet ? undefined : progress('pretrain', total, state.step);
  let order: number[] = [];
  let orderEpoch = -1;
  let ran = 0;
  let t = Date.now();
  try {
    while (state.step < total) {
      if (o.stopAfterSteps !== undefined && ran >= o.stopAfterSteps) break;
      const epoch = Math.floor(state.step / stepsPerEpoch);
      if (epoch !== orderEpoch) {
        order = new Rng(deriveSeed(o.seed, `blocks${epoch}`)).shuffle([...Array(blocksPerEpoch).keys()]);
        orderEpoch = epoch;
      }
      // Up to `stepsPerCall` steps per ONNX Runtime call, stopping at epoch ends, evaluations and
      // checkpoints; masking is seeded by the global step, so grouping does not change what is computed.
      let k = Math.min(o.stepsPerCall ?? 4, stepsPerEpoch - (state.step % stepsPerEpoch), total - state.step);
      for (const every of [o.checkpointEvery, o.evalEvery]) k = Math.min(k, every - (state.step % every));
      if (o.stopAfterSteps !== undefined) k = Math.min(k, o.stopAfterSteps - ran);
      const batches: MlmBatch[] = [];
      for (let j = 0; j < k; j++) {
        const s0 = state.step + j;
        const first = (s0 % stepsPerEpoch) * o.batchSize;
        const rows = await Promise.all(
          order.slice(first, first + o.batchSize).map((i) => train.block(i, blockLen)),
        );
        batches.push(mlmBatch(rows, o, masking, new Rng(deriveSeed(o.seed, `mask${s0}`))));
      }
      // Whole-word masking can change the masked count between batches: equal shapes run together.
      const groups: MlmBatch[][] = [];
      for (const b of batches) {
        const g = groups.at(-1);
        if (g && g[0]!.masked === b.masked) g.push(b);
        else groups.push([b]);
      }
      let r: StepResult | undefined;
      for (const g of groups) {
        const lrs = g.map((_, j) => learningRate(o.lr, state.step + j, schedule));
        const results = await step.runMany(
          state,
          g.map((b) => b.feeds),
          lrs,
        );
        for (const x of results)
          if (x.step % 25 === 0)
            await log.write({
              event: 'step',
              step: x.step,
              tokens: x.step * tokensPerStep,
              loss: x.loss,
              grad_norm: x.gradNorm,
              seconds,
            });
        r = results.at(-1);
      }
      ran += k;
      const now = Date.now();
      seconds += (now - t) / 1000;
      t = now;
      bar?.update(state.step, {
        loss: r!.loss,
        tokensPerS: (ran * tokensPerStep) / Math.max(1e-9, seconds - (saved?.seconds ?? 0)),
      });
      if (state.step % o.evalEvery === 0) await runEval();
      if (state.step % o.checkpointEvery === 0 || state.step === total) {
        await saveTrainState(ckpt, state, { seconds, evals });
        // Dropout moves to seeds salted by this step, as a run resumed from this checkpoint does.
        await step.reseed(state.step);
      }
    }
  } finally {
    bar?.stop();
  }
  const completed = state.step >= total;
  if (completed) {
    if (evals.at(-1)?.step !== state.step) {
      await runEval();
      await saveTrainState(ckpt, state, { seconds, evals });
    }
    await replaceDir(join(o.outDir, 'model'), (tmp) => o.exportModel(tmp, state.params));
    for (const d of ['checkpoint', 'model']) await tidyReplacedDir(join(o.outDir, d));
    if (evalFn && heldout) {
      const p = await pseudoPerplexity(
        evalFn,
        heldout,
        o,
        masking,
        o.pseudoPerplexityBlocks ?? 8,
        64,
        paramFeeds(),
      );
      await log.write({ event: 'pseudo_perplexity', step: state.step, ...p });
      await writeFileAtomic(
        join(o.outDir, 'pseudo-perplexity.json'),
        JSON.stringify({ step: state.step, ...p }) + '\n',
      );
    }
  }
  await Promise.all([step.release(), evalFn?.release(), train.close(), heldout?.close()]);
  return { steps: state.step, tokens: state.step * tokensPerStep, completed, seconds, evals };
}

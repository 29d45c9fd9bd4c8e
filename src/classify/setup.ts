// Preparing a fine-tuning run from a model directory and a data set: configuration, initial weights
// (from the checkpoint, or fresh for a from-scratch baseline), the tokenizer, and the exporter.

import { bindWeights, modelConfigFromHf, readPretrained, savePretrained } from '../io/checkpoint.js';
import { loadHfConfig } from '../io/hf-config.js';
import {
  DatasetError,
  loadDataset,
  shuffle,
  type ColumnMap,
  type DataHints,
  type LoadResult,
  type SkippedRow,
} from '../io/data/index.js';
import { loadTokenizer, saveTokenizer, type Tokenizer } from '../io/tokenizer/index.js';
import { sequenceClassifier, textInputs } from '../nn/bert.js';
import { ModelBuilder } from '../nn/builder.js';
import { maxSequenceLength, type ModelConfig } from '../nn/config.js';
import type { Encoded } from './batching.js';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import { isPoolerParam, PET_LABELS_FILE, savePet, type PetConfig } from '../pet/index.js';
import { encodeExamples } from './encode.js';

export interface RunSetup {
  readonly config: ModelConfig;
  readonly initial: Map<string, Float32Array>;
  readonly tokenizer: Tokenizer;
  readonly labelNames: string[];
  readonly train: Encoded[];
  readonly dev: Encoded[];
  /** Parameters that were freshly initialised (the new head; everything when from scratch). */
  readonly initialised: readonly string[];
  /** Bad rows skipped with `skipBadRows`, train split first. */
  readonly skippedRows: readonly SkippedRow[];
  /** True when the data is one file, which then serves as both the training and the evaluation data. */
  readonly sameFileForBoth: boolean;
  /**
   * Labels no training example has (found only in other splits, or cut by `limitTrain`): the head gets
   * a class for each, as in Hugging Face, but never learns to predict it.
   */
  readonly labelsNotTrained: readonly string[];
  readonly exportModel: (dir: string, values: ReadonlyMap<string, Float32Array>) => Promise<void>;
}

export interface SetupOptions {
  readonly model: string;
  readonly data: string;
  readonly trainSplit?: 'train' | 'dev' | 'test';
  readonly evalSplit?: 'train' | 'dev' | 'test';
  readonly dataDir?: string;
  readonly skipBadRows?: boolean;
  /** Where text, text pair and label are (CSV/TSV header names or JSONL keys), when not the defaults. */
  readonly columns?: ColumnMap;
  /** Advice the loading errors add (the command's options): see `DataHints`. */
  readonly dataHints?: DataHints;
  /** Tokens per example after truncation (capped at the model's position table). */
  readonly maxLength: number;
  readonly seed: number;
  /** Ignore the checkpoint's weights (a from-scratch baseline with the same architecture and tokenizer). */
  readonly fromScratch?: boolean;
  /** Use at most this many training examples (after a seeded shuffle), for quick runs. */
  readonly limitTrain?: number;
  /** Export a PET module (with its head) instead of a whole model. */
  readonly pet?: PetConfig;
}

export { PET_LABELS_FILE };

export async function setupRun(o: SetupOptions): Promise<RunSetup> {
  // From scratch only the architecture (config.json) and the tokenizer are taken from the directory.
  const pre = o.fromScratch
    ? { dir: o.model, hf: await loadHfConfig(o.model), tensors: new Map(), files: [] }
    : await readPretrained(o.model);
  const preConfig = o.fromScratch
    ? modelConfigFromHf(pre.hf)
    : (pre as Awaited<ReturnType<typeof readPretrained>>).config;
  const tokenizer = await loadTokenizer(o.model);
  tokenizer.checkFitsModel(preConfig.vocabSize, o.model);
  const dataOpts = {
    ...(o.dataDir ? { dataDir: o.dataDir } : {}),
    ...(o.skipBadRows ? { skipBadRows: true } : {}),
    ...(o.columns ? { columns: o.columns } : {}),
    ...(o.dataHints ? { hints: o.dataHints } : {}),
  };
  const train: LoadResult = await loadDataset(o.data, { ...dataOpts, split: o.trainSplit ?? 'train' });
  const dev: LoadResult = await loadDataset(o.data, { ...dataOpts, split: o.evalSplit ?? 'dev' });
  for (const [split, data] of [
    ['training', train],
    ['evaluation', dev],
  ] as const)
    if (data.examples.length === 0)
      throw new DatasetError(
        `${data.source}: no ${split} examples${data.skipped > 0 ? ` (all ${data.skipped} rows were bad and skipped)` : ''}`,
      );
  const labelNames = train.labelNames;
  const config: ModelConfig = { ...preConfig, numLabels: labelNames.length };
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b, config.modelType === 'bert'), config);
  let initial: Map<string, Float32Array>;
  let initialised: string[];
  if (o.fromScratch) {
    initial = b.initialValues(o.seed);
    initialised = [...initial.keys()];
  } else {
    // A head trained for another label set is left out of the checkpoint and initialised fresh.
    const headFits = preConfig.numLabels === labelNames.length;
    const tensors = headFits
      ? pre.tensors
      : new Map([...pre.tensors].filter(([k]) => !/^classifier\./.test(k)));
    // A PET module is saved without its base: parameters the base checkpoint lacks (BERT's pooler in an
    // MLM checkpoint) take seed 0, as they will when the module is loaded onto the same base.
    const bound = bindWeights(b, { ...pre, tensors, config }, o.pet ? 0 : o.seed, (n) =>
      /^(classifier|bert\.pooler)\./.test(n),
    );
    initial = bound.values;
    initialised = [...bound.initialised];
  }
  let trainExamples = train.examples;
  if (o.limitTrain !== undefined && o.limitTrain < trainExamples.length) {
    trainExamples = shuffle(trainExamples, o.seed).slice(0, o.limitTrain);
  }
  const trainedIds = new Set(trainExamples.map((e) => e.label));
  const maxLength = Math.min(o.maxLength, maxSequenceLength(config));
  const id2label = Object.fromEntries(labelNames.map((n, i) => [String(i), n]));
  return {
    config,
    initial,
    tokenizer,
    labelNames,
    train: await encodeExamples(tokenizer, trainExamples, maxLength),
    dev: await encodeExamples(tokenizer, dev.examples, maxLength),
    initialised,
    sameFileForBoth: train.source === dev.source,
    labelsNotTrained: labelNames.filter((_, id) => !trainedIds.has(id)),
    // A file given by path serves both splits: its rows are reported once.
    skippedRows: [
      ...new Map([...train.skippedRows, ...dev.skippedRows].map((r) => [`${r.file}:${r.line}`, r])).values(),
    ],
    exportModel: async (dir, values) => {
      if (o.pet) {
        // A pooler the base lacked was initialised here: the module carries it, or PEFT would draw another.
        const pooler = initialised.some(isPoolerParam);
        await savePet(dir, { config: o.pet, model: config, values, baseModelNameOrPath: o.model, pooler });
        await writeFileAtomic(join(dir, PET_LABELS_FILE), JSON.stringify({ id2label }, null, 2) + '\n');
        return;
      }
      await savePretrained(dir, b, config, values, { hfBase: { id2label } });
      await saveTokenizer(tokenizer, dir);
    },
  };
}

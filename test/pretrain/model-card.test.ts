// The model card of a model pretrained in one stage or in several (from scratch, then continued from
// the previous stage's weights): per-stage training columns, totals, the cumulative-token evaluation
// table, the last stage's pseudo-perplexity and one loss series per stage. Run directories are written
// by hand; nothing is trained.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeModelCard } from '../../src/pretrain/model-card.js';

interface StageSpec {
  readonly run: Record<string, unknown>;
  readonly steps: number;
  readonly seconds: number;
  readonly evals: readonly { step: number; maskedAccuracy: number; maskedPerplexity: number }[];
  readonly pseudoPerplexity?: number;
}

const json = (v: unknown) => JSON.stringify(v) + '\n';

async function writeRunDir(dir: string, s: StageSpec): Promise<string> {
  await mkdir(join(dir, 'tokens'), { recursive: true });
  await mkdir(join(dir, 'checkpoint'), { recursive: true });
  const tokensPerStep = (s.run['batchSize'] as number) * (s.run['seqLen'] as number);
  await writeFile(join(dir, 'run.json'), json(s.run));
  await writeFile(join(dir, 'tokens', 'train.json'), json({ tokens: 4_096_000, documents: 400 }));
  const evals = s.evals.map((e) => ({ ...e, maskedTokens: 480 }));
  const steps = Array.from({ length: s.steps / 25 }, (_, i) => (i + 1) * 25).map((step) => ({
    event: 'step',
    step,
    tokens: step * tokensPerStep,
    loss: 10 - step / 100,
  }));
  await writeFile(
    join(dir, 'log.jsonl'),
    [...steps, ...evals.map((e) => ({ event: 'eval', ...e }))].map(json).join(''),
  );
  await writeFile(
    join(dir, 'checkpoint', 'trainer_state.json'),
    json({ step: s.steps, extra: { seconds: s.seconds, evals } }),
  );
  if (s.pseudoPerplexity !== undefined)
    await writeFile(
      join(dir, 'pseudo-perplexity.json'),
      json({ step: s.steps, pseudoPerplexity: s.pseudoPerplexity, tokens: 64 }),
    );
  return dir;
}

const common = { seqLen: 128, batchSize: 32, weightDecay: 0.01, wholeWordMask: false };
// Stage 1: 2,000 steps of 4,096 tokens; stage 2: 1,000 steps of 8,192 tokens; 8,192,000 tokens each.
const stage1: StageSpec = {
  // Recorded as run records list every option: the ones not given as null.
  run: { ...common, lr: 5e-4, warmupRatio: 0.05, seed: 0, tokens: 8_192_000, model: null, dropout: null },
  steps: 2000,
  seconds: 3600,
  evals: [
    { step: 0, maskedAccuracy: 0, maskedPerplexity: 30000 },
    { step: 2000, maskedAccuracy: 0.2, maskedPerplexity: 200 },
  ],
  pseudoPerplexity: 300,
};
const stage2: StageSpec = {
  run: {
    ...common,
    batchSize: 64,
    lr: 2e-4,
    warmupRatio: 0.02,
    seed: 1,
    tokens: 8_192_000,
    model: 'models/m',
  },
  steps: 1000,
  seconds: 1800,
  evals: [
    { step: 0, maskedAccuracy: 0.2, maskedPerplexity: 201 },
    { step: 1000, maskedAccuracy: 0.25, maskedPerplexity: 150 },
  ],
  pseudoPerplexity: 222.2,
};

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-card-'));
  const corpus = join(root, 'corpus');
  await mkdir(corpus);
  await writeFile(
    join(corpus, 'sources.json'),
    json({ a: { documents: 300, words: 1_500_000 }, b: { documents: 100, words: 500_000 } }),
  );
  return {
    root,
    corpus,
    run1: await writeRunDir(join(root, 'run1'), stage1),
    run2: await writeRunDir(join(root, 'run2'), stage2),
  };
}

async function card(runDirs: string[], corpusDir: string, modelDir: string) {
  await mkdir(modelDir, { recursive: true });
  await writeModelCard({
    runDirs,
    corpusDir,
    modelDir,
    commands: ['node bin/plmkit.js pretrain --out RUN1'],
    licences: { a: 'MIT' },
    extra: '\n## Extra\n',
  });
  return {
    readme: await readFile(join(modelDir, 'README.md'), 'utf8'),
    svg: await readFile(join(modelDir, 'loss.svg'), 'utf8'),
  };
}

test('one stage: a single value column, step-only evaluation table, its own pseudo-perplexity', async () => {
  const d = await setup();
  const { readme, svg } = await card([d.run1], d.corpus, join(d.root, 'one'));
  assert.match(readme, /on 2\.0 million words of English text, the\n/);
  assert.match(readme, /\| \| \|\n\| --- \| --- \|\n\| objective \|/);
  assert.doesNotMatch(readme, /stage|initialisation/);
  assert.match(readme, /\| steps \| 2,000 \(8\.2 million training tokens, 2\.00 passes\) \|/);
  assert.match(readme, /\| optimizer \| AdamW, peak lr 0\.0005, 5% linear warmup/);
  assert.match(readme, /\| wall time \| 1\.00 h on 2 CPU cores/);
  assert.match(readme, /\| step \| masked-token accuracy \| masked-token perplexity \|/);
  assert.match(readme, /\| 2000 \| 20\.00% \| 200\.0 \|/);
  assert.match(readme, /on 64 held-out tokens: 300\.0\./);
  assert.match(readme, /```sh\nnode bin\/plmkit\.js pretrain --out RUN1\n```\n\n## Extra\n$/);
  assert.match(svg, /training loss \(MLM cross-entropy\)/);
});

test('two stages: a column per stage, totals, cumulative tokens, the last pseudo-perplexity', async () => {
  const d = await setup();
  const { readme, svg } = await card([d.run1, d.run2], d.corpus, join(d.root, 'two'));
  assert.match(
    readme,
    /2\.0 million words of English text in 2 stages \(16\.4 million training tokens in all\)/,
  );
  assert.match(readme, /\| \| stage 1 \| stage 2 \|\n\| --- \| --- \| --- \|\n/);
  assert.match(
    readme,
    /\| initialisation \| from scratch \(random initialisation\) \| continued from stage 1's weights \(`--model models\/m`\) \|/,
  );
  assert.match(readme, /\| objective \| masked LM: [^|]+ \| same as stage 1 \|/);
  assert.match(readme, /\| batch \| 32 sequences \(4,096 tokens\) \| 64 sequences \(8,192 tokens\) \|/);
  assert.match(
    readme,
    /\| steps \| 2,000 \(8\.2 million training tokens, 2\.00 passes\) \| 1,000 \(8\.2 million training tokens, 2\.00 passes\) \|/,
  );
  assert.match(readme, /peak lr 0\.0005, 5% linear warmup[^|]+\| AdamW, peak lr 0\.0002, 2% linear warmup/);
  assert.match(readme, /\| sequences \| 128 tokens [^|]+\| same as stage 1 \|/);
  assert.match(readme, /\| seed \| 0 \| 1 \|/);
  assert.match(readme, /\| wall time \| 1\.00 h [^|]+\| 0\.50 h /);
  // Totals are the sums of the stages: 3,000 steps, 16,384,000 tokens, 1.5 h.
  assert.match(
    readme,
    /Total over the 2 stages: 3,000 steps, 16\.4 million training tokens, 1\.50 h wall time\./,
  );
  assert.match(readme, /\| stage \| step \| cumulative training tokens \(millions\) \|/);
  // Stage 2 starts where stage 1 ended (8,192,000 tokens) and adds 8,192 tokens a step.
  const rows = readme.split('\n').filter((l) => /^\| [12] \| \d+ \| /.test(l));
  assert.deepEqual(rows, [
    '| 1 | 0 | 0.00 | 0.00% | 30000.0 |',
    '| 1 | 2000 | 8.19 | 20.00% | 200.0 |',
    '| 2 | 0 | 8.19 | 20.00% | 201.0 |',
    '| 2 | 1000 | 16.38 | 25.00% | 150.0 |',
  ]);
  assert.match(readme, /on 480 masked tokens/);
  assert.match(readme, /on 64 held-out tokens: 222\.2\./);
  assert.doesNotMatch(readme, /300\.0\./);
  assert.match(svg, /stage 1 \(MLM cross-entropy\)/);
  assert.match(svg, /stage 2 \(MLM cross-entropy\)/);
  assert.match(svg, /cumulative training tokens \(millions\)/);
});

// The bundle script keeps each stage's records in results/pretrain/stageN (trainer_state.json and
// train-tokens.json at the top), since run directories can be lost with their machine.
async function asKeptRecords(runDir: string): Promise<string> {
  await rename(join(runDir, 'checkpoint', 'trainer_state.json'), join(runDir, 'trainer_state.json'));
  await rename(join(runDir, 'tokens', 'train.json'), join(runDir, 'train-tokens.json'));
  await rm(join(runDir, 'checkpoint'), { recursive: true });
  await rm(join(runDir, 'tokens'), { recursive: true });
  return runDir;
}

test('a stage given as its kept records makes the same card as its run directory', async () => {
  const d = await setup();
  const fromRuns = await card([d.run1, d.run2], d.corpus, join(d.root, 'runs'));
  const kept = await asKeptRecords(d.run1);
  const mixed = await card([kept, d.run2], d.corpus, join(d.root, 'mixed'));
  assert.equal(mixed.readme, fromRuns.readme);
  assert.equal(mixed.svg, fromRuns.svg);
});

test('a stage without its trainer state is refused, naming where it looked', async () => {
  const d = await setup();
  await rm(join(d.run2, 'checkpoint'), { recursive: true });
  await assert.rejects(card([d.run1, d.run2], d.corpus, join(d.root, 'none')), (e: Error) => {
    assert.match(e.message, /run2\/checkpoint\/trainer_state\.json, .*run2\/trainer_state\.json/);
    return true;
  });
});

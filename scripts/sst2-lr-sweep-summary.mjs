// Summary of scripts/sst2-lr-sweep.sh: one row per (arm, lr) with dev and test accuracy over seeds, each
// arm's lr chosen by mean dev accuracy, and the gain of the pretrained arm at the chosen lrs.
//   node scripts/sst2-lr-sweep-summary.mjs ARM:SEED:LR:DIR ...
// ARM:*:*:recorded takes all of that arm's cells from the results file already there (an arm not rerun);
// ARM:SEED:LR:recorded takes that one cell from it.
// EPOCHS (default 2) names the budget; another budget has its own results files (sst2-lr-sweep-epN).
import fs from 'node:fs';
import process from 'node:process';

const epochs = Number(process.env.EPOCHS ?? 2);
const base = `results/finetune/sst2-lr-sweep${epochs === 2 ? '' : `-ep${epochs}`}`;
const resultsFile = `${base}.json`;
const recorded = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')).cells : [];
const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const cells = process.argv.slice(2).flatMap((spec) => {
  const [arm, seed, lr, dir] = spec.split(':');
  if (dir === 'recorded') {
    const kept = recorded.filter(
      (c) => c.arm === arm && (seed === '*' || (c.seed === Number(seed) && c.lr === lr)),
    );
    if (kept.length === 0) throw new Error(`${resultsFile} records no cell ${spec}: run it`);
    return kept;
  }
  const metrics = readJson(`${dir}/metrics.json`);
  const test = readJson(`${dir}/test.json`);
  // The pretrained arm's weights, so that cells kept from an earlier model are never mixed in unnoticed.
  const { modelSha256 } = fs.existsSync(`${dir}/run.json`) ? readJson(`${dir}/run.json`) : {};
  return {
    arm,
    seed: Number(seed),
    lr,
    dir,
    dev: metrics.best.accuracy * 100,
    // Dev accuracy after each epoch: the kept checkpoint is the best of these.
    devByEpoch: metrics.history.map((e) => e.accuracy * 100),
    test: test.accuracy * 100,
    ...(modelSha256 ? { modelSha256 } : {}),
  };
});
// Cells recorded before run.json held the fingerprint have none and are not compared here: for those, the
// weights file's git history is the check (models/plmkit-bert-mini/model.safetensors, unchanged since 7ecf57a).
const shas = new Set(
  cells.filter((c) => c.arm === 'pretrained' && c.modelSha256 !== undefined).map((c) => c.modelSha256),
);
if (shas.size > 1)
  throw new Error(`the pretrained cells come from ${shas.size} different models: rerun that arm`);
const stats = (xs) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
};
const arms = ['scratch', 'pretrained'];
const lrs = [...new Set(cells.map((c) => c.lr))].sort((a, b) => Number(a) - Number(b));
// Each arm's rows: the lrs it was run at (an arm kept from an earlier sweep may have more).
const rows = arms.flatMap((arm) =>
  lrs.flatMap((lr) => {
    const runs = cells.filter((c) => c.arm === arm && c.lr === lr);
    if (runs.length === 0) return [];
    return {
      arm,
      lr,
      seeds: runs.map((r) => r.seed),
      devBySeed: runs.map((r) => r.dev),
      dev: stats(runs.map((r) => r.dev)),
      test: stats(runs.map((r) => r.test)),
    };
  }),
);
const chosen = Object.fromEntries(
  arms.map((arm) => [
    arm,
    rows.filter((r) => r.arm === arm).reduce((a, b) => (b.dev.mean > a.dev.mean ? b : a)),
  ]),
);
const out = {
  protocol: `sst2, ${epochs} epochs, batch 32, max length 64, AdamW with 10% warmup and linear decay; each arm's lr chosen by mean dev accuracy over seeds; test never used for choosing`,
  cells,
  rows,
  chosen: { scratch: chosen.scratch.lr, pretrained: chosen.pretrained.lr },
  gain: {
    dev: chosen.pretrained.dev.mean - chosen.scratch.dev.mean,
    test: chosen.pretrained.test.mean - chosen.scratch.test.mean,
  },
};
const write = (file, text) => {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
};
write(resultsFile, `${JSON.stringify(out, null, 2)}\n`);

// COMMAND names how the cells were run when it was not one plain run of the sweep script (a plan's workers).
const command =
  process.env.COMMAND ?? `\`${epochs === 2 ? '' : `EPOCHS=${epochs} `}bash scripts/sst2-lr-sweep.sh\``;
const f = (s) => `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`;
const name = (arm) => (arm === 'scratch' ? 'random initialisation' : 'models/plmkit-bert-mini');
const seedList = [...new Set(cells.map((c) => c.seed))].sort((a, b) => a - b);
// A row run at fewer seeds than the others (a sweep still running) shows a dash where a seed is missing.
const bySeed = (r) =>
  seedList.map((s) => (r.seeds.includes(s) ? r.devBySeed[r.seeds.indexOf(s)].toFixed(2) : '–')).join(' / ');
const partial = rows.filter((r) => r.seeds.length < seedList.length);
const md = [
  `sst2 accuracy (%), mean ± std over seeds ${seedList.join(', ')}; ${epochs} epochs, batch 32, max length 64 (${command}). Each arm's lr is chosen by mean dev accuracy (marked *); test is never used for choosing.`,
  '',
  `| initialisation | lr | dev, seeds ${seedList.join(' / ')} | dev | test |`,
  '| --- | --- | --- | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${name(r.arm)} | ${r.lr}${chosen[r.arm] === r ? ' *' : ''} | ${bySeed(r)} | ${f(r.dev)} | ${f(r.test)} |`,
  ),
  '',
  `Gain of the pretrained model at each arm's chosen lr: ${out.gain.dev.toFixed(2)} points of dev accuracy, ${out.gain.test.toFixed(2)} of test accuracy.`,
  ...(partial.length > 0
    ? [
        '',
        `Not final: ${partial.map((r) => `${name(r.arm)} at lr ${r.lr}`).join(', ')} ${partial.length > 1 ? 'have not been run at every seed yet; their means are' : 'has not been run at every seed yet; its mean is'} over the seeds shown.`,
      ]
    : []),
].join('\n');
write(`${base}.md`, `${md}\n`);
process.stdout.write(`${md}\n`);

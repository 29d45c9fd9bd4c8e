// Summary of scripts/sst2-lr-sweep.sh: one row per (arm, lr) with dev and test accuracy over seeds, each
// arm's lr chosen by mean dev accuracy, and the gain of the pretrained arm at the chosen lrs.
//   node scripts/sst2-lr-sweep-summary.mjs ARM:SEED:LR:DIR ...
import fs from 'node:fs';
import process from 'node:process';

const cells = process.argv.slice(2).map((spec) => {
  const [arm, seed, lr, dir] = spec.split(':');
  const metrics = JSON.parse(fs.readFileSync(`${dir}/metrics.json`, 'utf8'));
  const test = JSON.parse(fs.readFileSync(`${dir}/test.json`, 'utf8'));
  return { arm, seed: Number(seed), lr, dir, dev: metrics.best.accuracy * 100, test: test.accuracy * 100 };
});
const stats = (xs) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
};
const arms = ['scratch', 'pretrained'];
const lrs = [...new Set(cells.map((c) => c.lr))];
const rows = arms.flatMap((arm) =>
  lrs.map((lr) => {
    const runs = cells.filter((c) => c.arm === arm && c.lr === lr);
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
  protocol:
    "sst2, 2 epochs, batch 32, max length 64, AdamW with 10% warmup and linear decay; each arm's lr chosen by mean dev accuracy over seeds; test never used for choosing",
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
write('results/finetune/sst2-lr-sweep.json', `${JSON.stringify(out, null, 2)}\n`);

const f = (s) => `${s.mean.toFixed(2)} ± ${s.std.toFixed(2)}`;
const name = (arm) => (arm === 'scratch' ? 'random initialisation' : 'models/plmkit-bert-mini');
const seedList = [...new Set(cells.map((c) => c.seed))];
const md = [
  `sst2 accuracy (%), mean ± std over seeds ${seedList.join(', ')}; 2 epochs, batch 32, max length 64 (\`bash scripts/sst2-lr-sweep.sh\`). Each arm's lr is chosen by mean dev accuracy (marked *); test is never used for choosing.`,
  '',
  `| initialisation | lr | dev, seeds ${seedList.join(' / ')} | dev | test |`,
  '| --- | --- | --- | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${name(r.arm)} | ${r.lr}${chosen[r.arm] === r ? ' *' : ''} | ${r.devBySeed.map((d) => d.toFixed(2)).join(' / ')} | ${f(r.dev)} | ${f(r.test)} |`,
  ),
  '',
  `Gain of the pretrained model at each arm's chosen lr: ${out.gain.dev.toFixed(2)} points of dev accuracy, ${out.gain.test.toFixed(2)} of test accuracy.`,
].join('\n');
write('results/finetune/sst2-lr-sweep.md', `${md}\n`);
process.stdout.write(`${md}\n`);

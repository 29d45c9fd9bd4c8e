// The attacker's per-layer gradient statistics, read back from attack logs: pooled over seeds, a resumed
// run's repeated steps counted once, only gradient-control groups summarized.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gradientStatistics, groupCell } from '../../../src/backdoor/attack/gradient-statistics.js';
import { gradientsMarkdown, summarizeGradients } from '../../../src/backdoor/attack/summary.js';

interface Step {
  step: number;
  cosine: number[];
  clean: number[];
  poison: number[];
  w?: number[];
}

async function run(root: string, name: string, method: string, steps: Step[]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const metrics = {
    method,
    pet: 'adapter',
    train_data: 'sst2',
    retrain_data: 'imdb',
    before_retraining: { lfr: 0.9, cacc: 0.8 },
    after_retraining: { lfr: 0.5, cacc: 0.8 },
  };
  await writeFile(join(dir, 'metrics.json'), JSON.stringify(metrics));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ method, seed: name, out: dir }));
  const lines = [
    { event: 'attack_start' },
    ...steps.map((s) => ({
      event: 'attack_step',
      step: s.step,
      loss: 0.5,
      clean_norm: s.clean,
      poison_norm: s.poison,
      cosine: s.cosine,
      ...(s.w ? { w: s.w } : {}),
    })),
  ];
  await writeFile(join(dir, 'attack-log.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return dir;
}

test('statistics pool seeds per layer group and count a resumed step once', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-gradstats-'));
  const seed0 = await run(root, 'gc0', 'gradient-control', [
    { step: 1, cosine: [-0.5, 0.9], clean: [1, 1], poison: [2, 4], w: [1, 1] },
    // Logged before an interruption, then again after the resume: only the second record counts.
    { step: 2, cosine: [0.9, 0.9], clean: [1, 1], poison: [9, 9], w: [1, 1] },
    { step: 2, cosine: [-0.1, 0.8], clean: [1, 2], poison: [3, 2], w: [1.2, 0.9] },
  ]);
  const seed1 = await run(root, 'gc1', 'gradient-control', [
    { step: 1, cosine: [0.3, -0.2], clean: [2, 1], poison: [2, 1], w: [1, 1] },
    { step: 2, cosine: [0.4, 0.7], clean: [1, 1], poison: [5, 1], w: [1.4, 0.7] },
  ]);
  const s = await gradientStatistics([seed0, seed1]);
  assert.equal(s.runs, 2);
  assert.equal(s.steps, 4);
  const [layer, head] = s.groups;
  assert.equal(layer!.group, 'layer 0');
  assert.equal(head!.group, 'output layer');
  assert.equal(layer!.conflict_pct, 50); // -0.5 and -0.1 of four
  assert.equal(head!.conflict_pct, 25);
  assert.ok(Math.abs(layer!.median_cosine - 0.1) < 1e-12); // median of -0.5, -0.1, 0.3, 0.4
  assert.equal(layer!.median_poison_to_clean, 2.5); // ratios 2, 3, 1, 5
  assert.ok(Math.abs(layer!.final_w! - 1.3) < 1e-12);
  assert.ok(Math.abs(head!.final_w! - 0.8) < 1e-12);
  assert.equal(groupCell(layer!), '50% / 0.10 / 2.50 / w 1.300');
});

test('only gradient-control groups are summarized; a run without statistics is named', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-gradstats-'));
  const steps = [{ step: 1, cosine: [0.5, 0.5], clean: [1, 1], poison: [1, 1] }];
  const dirs = [
    await run(root, 'gc', 'gradient-control', steps),
    await run(root, 'ilproj', 'ilproj-only', steps),
    await run(root, 'v', 'vanilla', []),
  ];
  const rows = await summarizeGradients(dirs);
  assert.deepEqual(rows.map((r) => r.method).sort(), ['gradient-control', 'ilproj-only']);
  assert.equal(rows.find((r) => r.method === 'ilproj-only')!.groups[0]!.final_w, undefined);
  assert.match(
    gradientsMarkdown(rows),
    /\| ilproj-only, adapter sst2->imdb \(1 runs\) \| 0% \/ 0\.50 \/ 1\.00 \|/,
  );
  await assert.rejects(gradientStatistics([dirs[2]!]), /v\/attack-log\.jsonl has no per-layer statistics/);
});

test('rows whose layer groups differ (models of another depth) are not put under one header', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-gradstats-'));
  const two = [{ step: 1, cosine: [0.5, 0.5], clean: [1, 1], poison: [1, 1] }];
  const three = [{ step: 1, cosine: [0.5, 0.5, 0.5], clean: [1, 1, 1], poison: [1, 1, 1] }];
  const rows = await summarizeGradients([
    await run(root, 'gc', 'gradient-control', two),
    await run(root, 'il', 'ilproj-only', three),
  ]);
  assert.throws(() => gradientsMarkdown(rows), /has layer groups .* the first row .*: summarize them apart/);
});

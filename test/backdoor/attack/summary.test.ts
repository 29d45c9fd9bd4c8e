// Attack result tables: runs differing only by seed are pooled (mean and sample standard deviation),
// variants (ILProj only on conflict, another CLNorm alpha) are rows of their own, and rows come in the paper's order.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { summarizeRuns, summaryMarkdown } from '../../../src/backdoor/attack/summary.js';

let seed = 0;

/** A finished run: metrics.json, its attack log, and the config.json it was started with (seed `seed`). */
async function run(
  root: string,
  name: string,
  method: string,
  after: number,
  extra = {},
  config: Record<string, unknown> = { seed: seed++ },
): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ method, lr: 2e-5, out: dir, ...config }));
  const m = {
    method,
    pet: 'adapter',
    train_data: 'sst2',
    retrain_data: 'imdb',
    ...extra,
    before_retraining: { lfr: 0.9, cacc: 0.8 },
    after_retraining: { lfr: after, cacc: 0.85 },
  };
  await writeFile(join(dir, 'metrics.json'), JSON.stringify(m));
  await writeFile(join(dir, 'attack-log.jsonl'), attackLog(0.3, 0.01));
  return dir;
}

/** Six attacker steps ending at (clean, poison) in the last third; step 5 is logged twice, as a resumed
 * run does, and the first record of it (loss 9) must not count. */
function attackLog(clean: number, poison: number): string {
  const step = (s: number, c: number, p: number) =>
    JSON.stringify({ event: 'attack_step', step: s, loss: c + p, clean: c, poison: p });
  return [
    ...[1, 2, 3, 4].map((s) => step(s, 0.7, 0.5)),
    step(5, 9, 9),
    JSON.stringify({ event: 'resumed', step: 4 }),
    step(5, clean, poison),
    step(6, clean, poison),
  ].join('\n');
}

test('seeds are pooled, variants kept apart, rows in the paper order with a before-retraining table', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-summary-'));
  const dirs = [
    await run(root, 'gc-ooc', 'gradient-control', 0.7, { only_on_conflict: true }),
    await run(root, 'gc-alpha0', 'gradient-control', 0.65, { clnorm_alpha: 0.003 }),
    await run(root, 'gc-alpha1', 'gradient-control', 0.75, { clnorm_alpha: 0.003 }),
    await run(root, 'gc0', 'gradient-control', 0.6),
    await run(root, 'gc1', 'gradient-control', 0.8),
    await run(root, 'v0', 'vanilla', 0.5),
    await run(root, 'c0', 'clean', 0.1),
  ];
  const rows = await summarizeRuns(dirs);
  const gc = rows.find((r) => r.method === 'gradient-control' && !r.variant)!;
  assert.equal(gc.seeds, 2);
  assert.ok(Math.abs(gc.lfr_mean - 70) < 1e-9);
  assert.ok(Math.abs(gc.lfr_std - Math.SQRT2 * 10) < 1e-9);
  assert.equal(gc.lfr_before_mean, 90);
  assert.equal(rows.find((r) => r.variant === 'only-on-conflict')!.seeds, 1);
  assert.equal(rows.find((r) => r.variant === 'clnorm-alpha 0.003')!.seeds, 2);
  const md = summaryMarkdown(rows);
  const firstTable = md.split('\n\n')[1]!.split('\n').slice(2);
  const order = firstTable.map((l) => l.split(' | ')[0]!.slice(2));
  assert.deepEqual(order.slice(0, 3), ['clean', 'vanilla', 'gradient-control']);
  assert.deepEqual(order.slice(3).sort(), [
    'gradient-control (clnorm-alpha 0.003)',
    'gradient-control (only-on-conflict)',
  ]);
  assert.match(md, /before retraining[\s\S]*\| vanilla \| 90\.0 \/ 80\.0 \|/);
  assert.equal(gc.attack_clean_loss, 0.3);
  assert.equal(gc.attack_poison_loss, 0.01);
  assert.match(md, /training loss over the last third[\s\S]*\| vanilla \| 0\.300 \/ 0\.010 \|/);
});

test('runs under different user learning rates are not pooled, nor put in one table', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-summary-'));
  const dirs = [
    await run(root, 'v0', 'vanilla', 0.5),
    await run(root, 'v1', 'vanilla', 0.7, { retrain_lr: 3e-4 }),
    await run(root, 'v2', 'vanilla', 0.9, { retrain_lr: 3e-4 }),
  ];
  const rows = await summarizeRuns(dirs);
  assert.equal(rows.length, 2);
  const slow = rows.find((r) => r.retrain_lr === 3e-4)!;
  assert.equal(slow.seeds, 2);
  assert.ok(Math.abs(slow.lfr_mean - 80) < 1e-9);
  assert.throws(() => summaryMarkdown(rows), /vanilla adapter sst2->imdb differ in the user's learning rate/);
  assert.match(
    summaryMarkdown(rows.filter((r) => r === slow)),
    /\| vanilla \| 80\.0±14\.1 \/ 85\.0±0\.0 \(2\) \|/,
  );
});

test('the by-layer figure averages each layer over the first and the last third of the steps', async () => {
  const { magnitudeByLayer } = await import('../../../src/backdoor/attack/summary.js');
  // 6 steps, 2 groups: the clean norm of group g at step s is s + 10 g; the poisoned one is its half.
  const steps = Array.from({ length: 6 }, (_, s) => ({
    step: s + 1,
    clean_norm: [s, s + 10],
    poison_norm: [s / 2, (s + 10) / 2],
    cosine: [0, 0],
  }));
  const profile = magnitudeByLayer(steps as never);
  assert.deepEqual(
    profile.map((p) => [p.phase, p.task, p.means]),
    [
      ['first third', 'clean', [0.5, 10.5]],
      ['first third', 'poisoned', [0.25, 5.25]],
      ['last third', 'clean', [4.5, 14.5]],
      ['last third', 'poisoned', [2.25, 7.25]],
    ],
  );
});

test('runs that differ in more than the seed, or one seed twice, are refused rather than pooled', async () => {
  const root = await mkdtemp(join(tmpdir(), 'plmkit-summary-'));
  const a = await run(root, 'a', 'vanilla', 0.5, {}, { seed: 0, limitTrain: null });
  const b = await run(root, 'b', 'vanilla', 0.7, {}, { seed: 1 });
  assert.equal((await summarizeRuns([a, b]))[0]!.seeds, 2); // null and absent are the same option left out
  const c = await run(root, 'c', 'vanilla', 0.9, {}, { seed: 2, lr: 1e-3 });
  await assert.rejects(summarizeRuns([a, c]), /differ in lr \(0\.001 and 0\.00002\), not only by seed/);
  await assert.rejects(summarizeRuns([a, b, a]), /are the same run \(seed 0\)/);
  const d = await run(root, 'd', 'vanilla', 0.9, {}, { seed: 3 });
  await writeFile(join(d, 'metrics.json'), '{"method": "vani');
  await assert.rejects(summarizeRuns([a, d]), (e: Error) => e.message.startsWith(join(d, 'metrics.json')));
});

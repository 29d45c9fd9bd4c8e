// Result tables of attack runs: rows of the paper's layout (method x PET x domain shift), mean and
// standard deviation over seeds of LFR and CACC after retraining, as JSON and Markdown; and the pilot
// figures (per-layer gradient magnitudes and clean/poison cosine similarity during training) as SVG.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lineChartSvg } from '../../report/line-chart.js';
import { lateLosses, readAttackSteps } from './attack-log.js';
import {
  groupCell,
  gradientStatistics,
  readLayerSteps,
  type LayerStep,
  type RunStatistics,
} from './gradient-statistics.js';
import { ATTACK_METHODS, GRADIENT_CONTROL_METHODS } from './run-attack.js';

export interface SummaryRow {
  readonly method: string;
  readonly pet: string;
  readonly train_data: string;
  readonly retrain_data: string;
  readonly lfr_mean: number;
  readonly lfr_std: number;
  readonly cacc_mean: number;
  readonly cacc_std: number;
  /** Means before the user's retraining (the published module). */
  readonly lfr_before_mean: number;
  readonly cacc_before_mean: number;
  /** The attacker's clean and poisoned training losses over its last third of steps, mean over seeds. */
  readonly attack_clean_loss: number;
  readonly attack_poison_loss: number;
  readonly seeds: number;
  /** Set for runs that change a method's option: "only-on-conflict" (ILProj), "clnorm-alpha X". */
  readonly variant?: string;
  /** The user's learning rate, where the runs set one apart from the attacker's. */
  readonly retrain_lr?: number;
}

interface RunMetrics {
  method: string;
  pet: string;
  train_data: string;
  retrain_data: string;
  only_on_conflict?: boolean;
  clnorm_alpha?: number;
  retrain_lr?: number;
  before_retraining: { lfr: number; cacc: number };
  after_retraining: { lfr: number; cacc: number };
}

/** The options a run changed from its method's defaults, as a row label suffix. */
function variantOf(m: RunMetrics): string | undefined {
  const parts = [
    ...(m.only_on_conflict ? ['only-on-conflict'] : []),
    ...(m.clnorm_alpha !== undefined ? [`clnorm-alpha ${m.clnorm_alpha}`] : []),
  ];
  return parts.length ? parts.join(', ') : undefined;
}

function meanStd(xs: readonly number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return [m, Math.sqrt(v)];
}

interface RunGroup {
  readonly dirs: string[];
  readonly metrics: RunMetrics[];
}

/** A run directory's JSON file, parsed; errors name the file. */
async function runJson(dir: string, file: string): Promise<Record<string, unknown>> {
  const path = join(dir, file);
  let v: unknown;
  try {
    v = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof v !== 'object' || v === null) throw new Error(`${path}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Options in a run record that may differ between the runs pooled over seeds. */
const PER_RUN = new Set(['seed', 'out', 'model']);

/**
 * Run directories (each with metrics.json and the config.json it was started with) grouped by what they
 * ran. Runs in a group must differ by seed only: other differing options (lr, epochs, subsets, poisoner,
 * the model's weights) or a seed given twice are refused, naming the runs.
 */
async function groupRuns(runDirs: readonly string[]): Promise<RunGroup[]> {
  const groups = new Map<string, RunGroup & { configs: Record<string, unknown>[] }>();
  for (const dir of runDirs) {
    const m = (await runJson(dir, 'metrics.json')) as unknown as RunMetrics;
    for (const stage of ['before_retraining', 'after_retraining'] as const)
      for (const k of ['lfr', 'cacc'] as const)
        if (typeof m[stage]?.[k] !== 'number')
          throw new Error(`${join(dir, 'metrics.json')}: ${stage}.${k} is not a number`);
    const config = await runJson(dir, 'config.json');
    const key = [m.method, variantOf(m) ?? '', m.pet, m.train_data, m.retrain_data, m.retrain_lr ?? ''].join(
      '\u0000',
    );
    const g = groups.get(key) ?? { dirs: [], metrics: [], configs: [] };
    g.dirs.push(dir);
    g.metrics.push(m);
    g.configs.push(config);
    groups.set(key, g);
  }
  for (const { dirs, configs } of groups.values()) {
    const seeds = new Map<string, string>();
    configs.forEach((c, i) => {
      const seed = JSON.stringify(c['seed']);
      if (seeds.has(seed))
        throw new Error(
          `${dirs[i]} and ${seeds.get(seed)} are the same run (seed ${seed}): pool each seed once`,
        );
      seeds.set(seed, dirs[i]!);
    });
    // Absent and null are the same option not given (records list absent options as null since 2026-11-30).
    const value = (c: Record<string, unknown>, k: string) => JSON.stringify(c[k] ?? null);
    const keys = new Set(configs.flatMap((c) => Object.keys(c)).filter((k) => !PER_RUN.has(k)));
    for (const k of keys)
      configs.forEach((c, i) => {
        if (value(c, k) !== value(configs[0]!, k))
          throw new Error(
            `${dirs[i]} and ${dirs[0]} differ in ${k} (${value(c, k)} and ${value(configs[0]!, k)}), not only by seed: they cannot be pooled`,
          );
      });
  }
  return [...groups.values()];
}

/** Rows over run directories (each with metrics.json); runs that differ only by seed are pooled. */
export async function summarizeRuns(runDirs: readonly string[]): Promise<SummaryRow[]> {
  const rows: SummaryRow[] = [];
  for (const { dirs, metrics: ms } of await groupRuns(runDirs)) {
    const losses = await Promise.all(dirs.map(async (d) => lateLosses(await readAttackSteps(d))));
    const [lm, ls] = meanStd(ms.map((m) => m.after_retraining.lfr * 100));
    const [cm, cs] = meanStd(ms.map((m) => m.after_retraining.cacc * 100));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mean = (xs: number[]) => avg(xs) * 100;
    const m = ms[0]!;
    rows.push({
      method: m.method,
      pet: m.pet,
      train_data: m.train_data,
      retrain_data: m.retrain_data,
      lfr_mean: lm,
      lfr_std: ls,
      cacc_mean: cm,
      cacc_std: cs,
      lfr_before_mean: mean(ms.map((x) => x.before_retraining.lfr)),
      cacc_before_mean: mean(ms.map((x) => x.before_retraining.cacc)),
      attack_clean_loss: avg(losses.map((l) => l.clean)),
      attack_poison_loss: avg(losses.map((l) => l.poison)),
      seeds: ms.length,
      ...(variantOf(m) ? { variant: variantOf(m)! } : {}),
      ...(m.retrain_lr !== undefined ? { retrain_lr: m.retrain_lr } : {}),
    });
  }
  return rows;
}

export interface StatisticsRow extends RunStatistics {
  readonly method: string;
  readonly variant?: string;
  readonly pet: string;
  readonly train_data: string;
  readonly retrain_data: string;
  readonly retrain_lr?: number;
}

/** The attacker's per-layer gradient statistics of every gradient-control group (ablations included). */
export async function summarizeGradients(runDirs: readonly string[]): Promise<StatisticsRow[]> {
  const rows: StatisticsRow[] = [];
  for (const { dirs, metrics } of await groupRuns(runDirs)) {
    const m = metrics[0]!;
    if (!GRADIENT_CONTROL_METHODS.includes(m.method)) continue; // only these log per-layer statistics
    rows.push({
      method: m.method,
      ...(variantOf(m) ? { variant: variantOf(m)! } : {}),
      pet: m.pet,
      train_data: m.train_data,
      retrain_data: m.retrain_data,
      ...(m.retrain_lr !== undefined ? { retrain_lr: m.retrain_lr } : {}),
      ...(await gradientStatistics(dirs)),
    });
  }
  return rows;
}

/** The statistics as a Markdown table: one row per group of runs, one column per layer group. */
export function gradientsMarkdown(rows: readonly StatisticsRow[]): string {
  if (rows.length === 0) return '';
  const names = rows[0]!.groups.map((g) => g.group);
  const label = (r: StatisticsRow) =>
    `${r.method}${r.variant ? ` (${r.variant})` : ''}, ${r.pet} ${r.train_data}->${r.retrain_data}` +
    (r.retrain_lr !== undefined ? `, user lr ${r.retrain_lr}` : '');
  // One header for all rows: models of another depth would put cells under the wrong layers.
  for (const r of rows)
    if (r.groups.map((g) => g.group).join() !== names.join())
      throw new Error(
        `${label(r)} has layer groups ${r.groups.map((g) => g.group).join(', ')}, the first row ${names.join(', ')}: summarize them apart`,
      );
  return [
    "The attacker's gradients, per layer (each layer's PET parameters, then the output layer), pooled over",
    'seeds and steps: share of steps where the clean and poisoned gradients conflict (cosine < 0) / median',
    'cosine / median ratio of the poisoned to the clean gradient norm (before CLNorm) [/ CLNorm scale w at',
    'the last step, mean over seeds]:',
    '',
    `| runs | ${names.join(' | ')} |`,
    `| --- | ${names.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${label(r)} (${r.runs} runs) | ${r.groups.map(groupCell).join(' | ')} |`),
  ].join('\n');
}

export function summaryMarkdown(rows: readonly SummaryRow[]): string {
  const cols = [...new Set(rows.map((r) => `${r.pet} ${r.train_data}->${r.retrain_data}`))];
  const label = (r: SummaryRow) => (r.variant ? `${r.method} (${r.variant})` : r.method);
  // Rows in the paper's order (clean, vanilla, RIPPLe, LWP, GradNorm, ours, then the ablations).
  const order = (r: SummaryRow) =>
    (ATTACK_METHODS as readonly string[]).indexOf(r.method) * 2 + (r.variant ? 1 : 0);
  const methods = [...new Set([...rows].sort((a, b) => order(a) - order(b)).map(label))];
  // Runs of one method and column under different user learning rates are different experiments.
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${label(r)} ${r.pet} ${r.train_data}->${r.retrain_data}`;
    if (seen.has(key))
      throw new Error(`runs of ${key} differ in the user's learning rate: summarize them apart`);
    seen.add(key);
  }
  const find = (m: string, c: string) =>
    rows.find((x) => label(x) === m && `${x.pet} ${x.train_data}->${x.retrain_data}` === c);
  const table = (cell: (r: SummaryRow) => string) =>
    [
      `| method | ${cols.join(' | ')} |`,
      `| --- | ${cols.map(() => '---').join(' | ')} |`,
      ...methods.map(
        (m) => `| ${m} | ${cols.map((c) => (find(m, c) ? cell(find(m, c)!) : '')).join(' | ')} |`,
      ),
    ].join('\n');
  return [
    "LFR / CACC after the user's retraining (%, mean ± std over seeds, number of seeds):",
    '',
    table(
      (r) =>
        `${r.lfr_mean.toFixed(1)}±${r.lfr_std.toFixed(1)} / ${r.cacc_mean.toFixed(1)}±${r.cacc_std.toFixed(1)} (${r.seeds})`,
    ),
    '',
    'LFR / CACC of the published module, before retraining (%, mean over seeds):',
    '',
    table((r) => `${r.lfr_before_mean.toFixed(1)} / ${r.cacc_before_mean.toFixed(1)}`),
    '',
    "The attacker's clean / poisoned training loss over the last third of its steps (mean over seeds; with",
    'two labels ln 2 = 0.69 is a constant guess): whether the published module learned the clean task:',
    '',
    table((r) => `${r.attack_clean_loss.toFixed(3)} / ${r.attack_poison_loss.toFixed(3)}`),
  ].join('\n');
}

/** SVG line charts of a gradient-control run's per-layer statistics over training steps. */
/**
 * Mean gradient magnitude of each layer group (layer 0 ... output layer) in the first and the last third of
 * the attacker's steps, for the clean and the poisoned task: the paper's view of how magnitudes fall off
 * across layers, and how that changes as the backdoor is learned.
 */
export function magnitudeByLayer(
  steps: readonly LayerStep[],
): { phase: 'first third' | 'last third'; task: 'clean' | 'poisoned'; means: number[] }[] {
  const third = Math.max(1, Math.floor(steps.length / 3));
  const phases = [
    ['first third', steps.slice(0, third)],
    ['last third', steps.slice(steps.length - third)],
  ] as const;
  const groups = steps[0]!.clean_norm.length;
  return phases.flatMap(([phase, part]) =>
    (['clean', 'poisoned'] as const).map((task) => ({
      phase,
      task,
      means: Array.from(
        { length: groups },
        (_, g) =>
          part.reduce((s, e) => s + (task === 'clean' ? e.clean_norm : e.poison_norm)[g]!, 0) / part.length,
      ),
    })),
  );
}

export async function pilotFigures(
  runDir: string,
): Promise<{ magnitudes: string; cosine: string; byLayer: string }> {
  const steps = await readLayerSteps(runDir);
  const groups = steps[0]!.clean_norm.length;
  const name = (g: number) => (g === groups - 1 ? 'output layer' : `layer ${g}`);
  const series = (key: string, label: string) =>
    Array.from({ length: groups }, (_, g) => ({
      name: `${label} ${name(g)}`,
      points: steps.map((e) => ({ x: e.step, y: (e[key] as number[])[g]! })),
    }));
  const magnitudes = await lineChartSvg(
    [...series('clean_norm', 'clean'), ...series('poison_norm', 'poisoned')],
    {
      title: 'Per-layer gradient magnitude (L2 norm of the PET parameters of each layer)',
      xTitle: 'step',
      yTitle: 'gradient norm',
      logY: true,
    },
  );
  const cosine = await lineChartSvg(series('cosine', 'cos'), {
    title: 'Cosine similarity of clean and poisoned gradients per layer',
    xTitle: 'step',
    yTitle: 'cosine',
  });
  const byLayer = await lineChartSvg(
    magnitudeByLayer(steps).map((p) => ({
      name: `${p.task}, ${p.phase} of the steps`,
      points: p.means.map((y, g) => ({ x: g, y })),
    })),
    {
      title: `Mean gradient magnitude by layer (${groups - 1} = the output layer)`,
      xTitle: 'layer',
      yTitle: 'mean gradient norm',
      logY: true,
      points: true,
      integerX: true,
    },
  );
  return { magnitudes, cosine, byLayer };
}

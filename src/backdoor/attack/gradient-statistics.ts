// What the attacker's gradients did during a gradient-control run (and its ablations), read back from
// each run's attack-log.jsonl: the evidence the results need when the method does not beat vanilla.
// Per layer group (each encoder layer's PET parameters, then the output layer), pooled over seeds:
// how often the clean and poisoned gradients conflict, their median cosine, the median ratio of the
// poisoned to the clean gradient magnitude, and where CLNorm's scales ended.

import { readAttackSteps, type AttackStep } from './attack-log.js';

/** One logged attacker step with per-group statistics (see GradientControl.stats). */
export type LayerStep = AttackStep & {
  clean_norm: number[];
  poison_norm: number[];
  cosine: number[];
  w?: number[];
};

/** The per-group statistics of a run's attacker steps, one record per step in step order. */
export async function readLayerSteps(runDir: string): Promise<LayerStep[]> {
  const steps = (await readAttackSteps(runDir)).filter((e): e is LayerStep => Array.isArray(e['clean_norm']));
  if (steps.length === 0)
    throw new Error(`${runDir}/attack-log.jsonl has no per-layer statistics (not a gradient-control run)`);
  return steps;
}

export interface GroupStatistics {
  /** "layer 0" ... "layer L-1", "output layer". */
  readonly group: string;
  /** Share of steps (over all seeds) with cos(g_c, g_p) < 0, in %. */
  readonly conflict_pct: number;
  readonly median_cosine: number;
  /** Median over steps of |g_p(l)| / |g_c(l)| (raw poisoned gradient, before CLNorm's scale). */
  readonly median_poison_to_clean: number;
  /** CLNorm's scale w_l after the last step, mean over seeds (absent without CLNorm). */
  readonly final_w?: number;
}

export interface RunStatistics {
  readonly runs: number;
  readonly steps: number;
  readonly groups: GroupStatistics[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Statistics pooled over runs that differ only by seed (each run's steps count once). */
export async function gradientStatistics(runDirs: readonly string[]): Promise<RunStatistics> {
  const runs = await Promise.all(runDirs.map(readLayerSteps));
  const count = runs[0]![0]!.clean_norm.length;
  for (const [i, r] of runs.entries())
    if (r[0]!.clean_norm.length !== count)
      throw new Error(
        `${runDirs[i]} logs ${r[0]!.clean_norm.length} layer groups, ${runDirs[0]} logs ${count}`,
      );
  const all = runs.flat();
  const groups = Array.from({ length: count }, (_, g): GroupStatistics => {
    const cos = all.map((e) => e.cosine[g]!);
    const lastW = runs.map((r) => r[r.length - 1]!.w?.[g]).filter((w): w is number => w !== undefined);
    return {
      group: g === count - 1 ? 'output layer' : `layer ${g}`,
      conflict_pct: (100 * cos.filter((c) => c < 0).length) / cos.length,
      median_cosine: median(cos),
      median_poison_to_clean: median(all.map((e) => e.poison_norm[g]! / Math.max(e.clean_norm[g]!, 1e-30))),
      ...(lastW.length ? { final_w: lastW.reduce((a, b) => a + b, 0) / lastW.length } : {}),
    };
  });
  return { runs: runs.length, steps: all.length, groups };
}

/** One Markdown cell per group: "conflict% / median cos / poisoned:clean [/ w]". */
export function groupCell(s: GroupStatistics): string {
  const w = s.final_w !== undefined ? ` / w ${s.final_w.toFixed(3)}` : '';
  return `${s.conflict_pct.toFixed(0)}% / ${s.median_cosine.toFixed(2)} / ${s.median_poison_to_clean.toFixed(2)}${w}`;
}

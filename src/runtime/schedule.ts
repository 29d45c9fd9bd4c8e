// Learning-rate schedules, evaluated in JavaScript once per step and fed to the step graph as a scalar.

export interface ScheduleConfig {
  readonly kind: 'constant' | 'linear';
  /** Steps of linear warmup to the peak rate: step t < warmupSteps (from 0) uses peak * (t + 1) / warmupSteps. */
  readonly warmupSteps?: number;
  /** Total steps; `linear` decays to 0 at this step, as transformers' get_linear_schedule_with_warmup. */
  readonly totalSteps?: number;
}

export function learningRate(peak: number, step: number, cfg: ScheduleConfig): number {
  const warmup = cfg.warmupSteps ?? 0;
  if (step < warmup) return (peak * (step + 1)) / warmup;
  if (cfg.kind === 'constant') return peak;
  const total = cfg.totalSteps;
  if (total === undefined) throw new Error('linear schedule needs totalSteps');
  return peak * Math.max(0, (total - step) / Math.max(1, total - warmup));
}

/**
 * Linear warmup over round(warmupRatio * totalSteps) steps, then linear decay to 0. Two differences from
 * transformers' Trainer with `warmup_ratio` (kept so that the committed seeded results reproduce): the
 * Trainer rounds the warmup up, and its warmup step t uses t / warmup, so its first update has learning
 * rate 0 and the peak comes one step later; here the first update already moves (peak / warmup).
 */
export function linearSchedule(totalSteps: number, warmupRatio: number): ScheduleConfig {
  return { kind: 'linear', warmupSteps: Math.round(warmupRatio * totalSteps), totalSteps };
}

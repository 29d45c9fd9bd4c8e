// Learning-rate schedules, evaluated in JavaScript once per step and fed to the step graph as a scalar.

export interface ScheduleConfig {
  readonly kind: 'constant' | 'linear';
  /** Steps of linear warmup from 0 to the peak rate. */
  readonly warmupSteps?: number;
  /** Total steps; `linear` decays to 0 at this step (as transformers' get_linear_schedule_with_warmup). */
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

/** Linear warmup over a share of `totalSteps`, then linear decay to 0 (transformers' warmup_ratio). */
export function linearSchedule(totalSteps: number, warmupRatio: number): ScheduleConfig {
  return { kind: 'linear', warmupSteps: Math.round(warmupRatio * totalSteps), totalSteps };
}

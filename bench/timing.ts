// Timing helpers for benchmarks: warm-up runs, then per-run wall times.

export async function timeAsync(fn: () => Promise<unknown>, warmup: number, runs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Peak resident set size of this process so far, in MiB (2^20 bytes; maxRSS is in KiB). */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** A body to time beside others: its warm-up runs, then `perRound` runs in each round. */
export interface Alternating {
  run(): Promise<unknown>;
  warmup: number;
  perRound: number;
}

/**
 * Times bodies in alternation, every body in turn in each of `rounds` rounds, so that compared figures
 * share the same stretch of time (this machine's speed drifts by up to 20% within minutes). Returns each
 * body's per-run wall times, in milliseconds.
 */
export async function timeInAlternation(bodies: readonly Alternating[], rounds: number): Promise<number[][]> {
  for (const b of bodies) await timeAsync(b.run, b.warmup, 0);
  const times = bodies.map((): number[] => []);
  for (let r = 0; r < rounds; r++)
    for (const [i, b] of bodies.entries()) times[i]!.push(...(await timeAsync(b.run, 0, b.perRound)));
  return times;
}

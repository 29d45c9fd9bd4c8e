// Seeded random inputs and central finite differences for gradient checks.
// Kept free of the library so that a bug there cannot hide in the reference it is checked against.

/** Uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32: tiny, seedable, and plenty for test data. */
export function mulberry32(seed: number): Rng {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A per-case seed from a base seed and a label (FNV-1a), so each case reproduces on its own. */
export function seedFor(base: number, label: string): number {
  let h = (base ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Draws `n` values for one operand. */
export type Sampler = (rng: Rng, n: number) => number[];

export const uniform =
  (lo: number, hi: number): Sampler =>
  (rng, n) =>
    Array.from({ length: n }, () => lo + (hi - lo) * rng());

/** Uniform in [lo, hi] but at least `margin` away from each kink (Abs, Relu, Clip bounds). */
export const avoiding =
  (kinks: readonly number[], margin: number, lo = -1, hi = 1): Sampler =>
  (rng, n) =>
    Array.from({ length: n }, () => {
      for (;;) {
        const v = lo + (hi - lo) * rng();
        if (kinks.every((k) => Math.abs(v - k) >= margin)) return v;
      }
    });

/**
 * Values k + offset ± 0.2 for integers k in [-2, 2]. Operands drawn with offsets 0 and 0.5 never come
 * closer than 0.1, which keeps Max and Min away from ties.
 */
export const lattice =
  (offset: number): Sampler =>
  (rng, n) =>
    Array.from({ length: n }, () => Math.floor(rng() * 5) - 2 + offset + 0.4 * (rng() - 0.5));

/** Shuffled values 0.3 apart (plus small noise): no ties anywhere, for ReduceMax. */
export const distinct: Sampler = (rng, n) => {
  const v = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.3 + 0.05 * rng());
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return v;
};

type FloatArray = Float32Array | Float64Array;

/**
 * Central differences of a scalar function at `x`, element by element. `x` is perturbed in place and
 * restored; the step is measured after rounding to x's precision, so float32 steps stay exact.
 */
export async function centralDifferences(
  loss: () => Promise<number>,
  x: FloatArray,
  h: number,
): Promise<Float64Array> {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i]!;
    x[i] = x0 + h;
    const xp = x[i]!;
    const fp = await loss();
    x[i] = x0 - h;
    const xm = x[i]!;
    const fm = await loss();
    x[i] = x0;
    out[i] = (fp - fm) / (xp - xm);
  }
  return out;
}

export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** The worst element of `actual` against `expected` under |a - e| <= atol + rtol * max(|a|, |e|). */
export function worstMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
): { index: number; actual: number; expected: number } | undefined {
  if (actual.length !== expected.length)
    return { index: -1, actual: actual.length, expected: expected.length };
  let worst: { index: number; actual: number; expected: number; excess: number } | undefined;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.max(Math.abs(a), Math.abs(e)));
    // NaN never passes.
    if (!(excess <= 0) && (!worst || !(excess <= worst.excess)))
      worst = { index: i, actual: a, expected: e, excess };
  }
  return worst && { index: worst.index, actual: worst.actual, expected: worst.expected };
}

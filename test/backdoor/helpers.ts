// Small hand-made data sets for the backdoor tests.

import type { Example } from '../../src/io/data/example.js';

/** `n` examples "s<i> w1 w2 … w<k>" (k = 1 + i % 5 words), labels given by `labelOf(i)`. */
export function makeExamples(n: number, labelOf: (i: number) => number): Example[] {
  return Array.from({ length: n }, (_, i) => ({
    text: [`s${i}`, ...Array.from({ length: i % 5 }, (_, k) => `w${k}`)].join(' '),
    label: labelOf(i),
  }));
}

export function words(text: string): string[] {
  return text.split(' ');
}

/** Occurrences of each value, as a map. */
export function countBy<T>(items: readonly T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

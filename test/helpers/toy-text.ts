// A toy text-classification task over the vocabulary of the tiny BERT that transformers wrote
// (test/fixtures/hf-written/bert): an example is "yes" when "fox" is among its words, "no" otherwise.

import { mulberry32 } from './finite-diff.js';

const FILLER =
  'the a is quick brown jump over lazy dog hello world paris time now sentence short long very first second text pair new york love cafe'.split(
    ' ',
  );

export interface ToyExample {
  readonly text: string;
  readonly label: 'yes' | 'no';
}

/** `n` examples, alternately yes and no, 4-9 filler words each, drawn from `seed`. */
export function foxExamples(n: number, seed: number): ToyExample[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const words = Array.from(
      { length: 4 + Math.floor(rng() * 6) },
      () => FILLER[Math.floor(rng() * FILLER.length)]!,
    );
    const yes = i % 2 === 0;
    if (yes) words.splice(Math.floor(rng() * (words.length + 1)), 0, 'fox');
    return { text: words.join(' '), label: yes ? 'yes' : 'no' };
  });
}

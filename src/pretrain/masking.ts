// BERT's masking rule as Google's create_pretraining_data applies it: choose round(15%) of the non-special
// tokens of a row (at least one; whole words when asked, counted in tokens), then replace 80% of the chosen
// with [MASK], 10% with a random non-special token, and leave 10% unchanged; the model predicts all chosen.
// Hugging Face's collator differs: it draws each token with probability 15%, and random replacements
// from the whole vocabulary.

import type { Rng } from '../runtime/random.js';

export interface MaskingOptions {
  readonly probability: number;
  readonly maskId: number;
  readonly vocabSize: number;
  /** Ids never chosen ([CLS], [SEP], [PAD]) and never drawn as random replacements. */
  readonly specialIds: ReadonlySet<number>;
  /** Mask all pieces of a word together ("##" continuations follow their word). */
  readonly wholeWord?: boolean;
  /** For whole-word masking: whether a token id continues the previous word. */
  readonly isContinuation?: (id: number) => boolean;
}

export interface MaskedRow {
  readonly ids: number[];
  readonly positions: number[];
  readonly labels: number[];
}

export function maskRow(ids: readonly number[], o: MaskingOptions, rng: Rng): MaskedRow {
  // Candidate units: single tokens, or runs of a word and its continuations.
  const units: number[][] = [];
  for (let i = 0; i < ids.length; i++) {
    if (o.specialIds.has(ids[i]!)) continue;
    if (
      o.wholeWord &&
      o.isContinuation?.(ids[i]!) &&
      units.length &&
      units[units.length - 1]!.at(-1) === i - 1
    )
      units[units.length - 1]!.push(i);
    else units.push([i]);
  }
  const candidates = units.reduce((n, u) => n + u.length, 0);
  const target = Math.max(1, Math.round(candidates * o.probability));
  rng.shuffle(units);
  const chosen: number[] = [];
  for (const u of units) {
    if (chosen.length >= target) break;
    if (chosen.length + u.length > target && chosen.length > 0) continue;
    chosen.push(...u);
  }
  chosen.sort((a, b) => a - b);
  const out = [...ids];
  const labels: number[] = [];
  for (const p of chosen) {
    labels.push(ids[p]!);
    const r = rng.next();
    if (r < 0.8) out[p] = o.maskId;
    else if (r < 0.9) {
      let t: number;
      do t = rng.int(o.vocabSize);
      while (o.specialIds.has(t));
      out[p] = t;
    }
  }
  return { ids: out, positions: chosen, labels };
}

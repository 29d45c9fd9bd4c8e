// BadNets for text (Gu et al., 2017; rare-word triggers of Kurita et al., 2020, as OpenBackdoor's
// badnets_poisoner): `numTriggers` times, a trigger word drawn uniformly from `triggers` is inserted at a
// uniform word position 0..n (n = current word count, earlier insertions included).

import { z } from 'zod';
import type { Rng } from '../../runtime/random.js';
import { parsePoisonerOptions, Poisoner, poisonerOptionsShape, splitWords } from './poisoner.js';

export const BADNETS_TRIGGERS = ['cf', 'mn', 'bb', 'tq', 'mb'] as const;

export const badnetsOptionsSchema = z.strictObject({
  ...poisonerOptionsShape,
  /** Trigger words: each one word (no whitespace), distinct. */
  triggers: z
    .array(z.string().regex(/^\S+$/, 'a trigger must be one word (non-empty, no whitespace)'))
    .nonempty()
    .refine((t) => new Set(t).size === t.length, 'triggers must be distinct')
    .default(() => [...BADNETS_TRIGGERS]),
  /** Trigger insertions per poisoned sample. */
  numTriggers: z.number().int().positive().default(1),
});
export type BadNetsOptions = z.output<typeof badnetsOptionsSchema>;
export type BadNetsOptionsInput = z.input<typeof badnetsOptionsSchema>;

export class BadNetsPoisoner extends Poisoner<BadNetsOptions> {
  readonly name = 'badnets';

  constructor(options: BadNetsOptionsInput = {}) {
    super(parsePoisonerOptions(badnetsOptionsSchema, options, 'badnets options'));
  }

  poisonText(text: string, rng: Rng): string {
    const words = splitWords(text);
    const { triggers, numTriggers } = this.options;
    for (let k = 0; k < numTriggers; k++) {
      const trigger = triggers[rng.int(triggers.length)]!;
      words.splice(rng.int(words.length + 1), 0, trigger);
    }
    return words.join(' ');
  }
}

// AddSent (Dai et al., 2019, as OpenBackdoor's addsent_poisoner): a fixed trigger sentence inserted once, as
// a whole, at a uniform word position 0..n.

import { z } from 'zod';
import type { Rng } from '../../runtime/random.js';
import { parsePoisonerOptions, Poisoner, poisonerOptionsShape, splitWords } from './poisoner.js';

export const ADDSENT_SENTENCE = 'I watch this 3D movie';

export const addsentOptionsSchema = z.strictObject({
  ...poisonerOptionsShape,
  /** The trigger sentence (its words are inserted together, joined by single spaces). */
  sentence: z.string().regex(/\S/, 'the trigger sentence must contain a word').default(ADDSENT_SENTENCE),
});
export type AddSentOptions = z.output<typeof addsentOptionsSchema>;
export type AddSentOptionsInput = z.input<typeof addsentOptionsSchema>;

export class AddSentPoisoner extends Poisoner<AddSentOptions> {
  readonly name = 'addsent';
  private readonly sentenceWords: readonly string[];

  constructor(options: AddSentOptionsInput = {}) {
    super(parsePoisonerOptions(addsentOptionsSchema, options, 'addsent options'));
    this.sentenceWords = splitWords(this.options.sentence);
  }

  poisonText(text: string, rng: Rng): string {
    const words = splitWords(text);
    words.splice(rng.int(words.length + 1), 0, ...this.sentenceWords);
    return words.join(' ');
  }
}

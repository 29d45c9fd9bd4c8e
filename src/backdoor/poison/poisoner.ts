// The base of every poisoner: which training samples to poison (from a seed and a poison rate), the poisoned
// and clean test splits, and the typed samples they return. A method overrides `poisonText` only.

import { z } from 'zod';
import type { Example } from '../../io/data/example.js';
import { deriveSeed, Rng } from '../../runtime/random.js';

export class BackdoorError extends Error {
  override name = 'BackdoorError';
}

/** An example after poisoning: `poisonLabel` 1 = its text carries the trigger; `originalLabel` = true label. */
export interface PoisonedExample extends Example {
  poisonLabel: 0 | 1;
  originalLabel: number;
}

export const POISON_MODES = ['label-flip', 'clean-label', 'any'] as const;
/**
 * `label-flip`: poisoned samples are drawn among samples whose label is not the target, and relabelled to
 * the target. `clean-label`: they are drawn among samples already labelled with the target; labels unchanged.
 * `any` (OpenBackdoor's default, neither label_dirty nor label_consistency): drawn among all samples and
 * labelled with the target, so rates above the non-target share (Gu et al.'s 50%) are possible.
 */
export type PoisonMode = (typeof POISON_MODES)[number];

/** The options every poisoner takes; a method's schema spreads these into its own `z.strictObject`. */
export const poisonerOptionsShape = {
  /** Fraction of the whole training set to poison: round(poisonRate · n) samples. */
  poisonRate: z.number().min(0).max(1).default(0.1),
  /** The label the backdoor should produce. */
  target: z.number().int().nonnegative().default(1),
  /** Seeds the choice of samples and every trigger position (same seed, same output). */
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  mode: z.enum(POISON_MODES).default('label-flip'),
};
export const poisonerOptionsSchema = z.strictObject(poisonerOptionsShape);
export type PoisonerOptions = z.output<typeof poisonerOptionsSchema>;

/** Validates raw options against a strict schema; unknown keys and bad values are errors naming the key. */
export function parsePoisonerOptions<S extends z.ZodType>(
  schema: S,
  raw: unknown,
  where: string,
): z.output<S> {
  const r = schema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  throw new BackdoorError(`${where}: ${issues.join('; ')}`);
}

/** Words of a text as OpenBackdoor splits them (on whitespace); poisoned texts are rejoined with one space. */
export function splitWords(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function checkLabels(examples: readonly Example[]): void {
  examples.forEach((ex, i) => {
    if (!Number.isSafeInteger(ex.label) || ex.label < 0)
      throw new BackdoorError(
        `example ${i}: label ${ex.label} is not a class id (unlabelled examples cannot be poisoned)`,
      );
  });
}

function sample(ex: Example, text: string, label: number, poisonLabel: 0 | 1): PoisonedExample {
  return {
    text,
    ...(ex.textPair !== undefined ? { textPair: ex.textPair } : {}),
    label,
    poisonLabel,
    originalLabel: ex.label,
  };
}

export abstract class Poisoner<O extends PoisonerOptions = PoisonerOptions> {
  /** The registry name of the method. */
  abstract readonly name: string;

  constructor(readonly options: Readonly<O>) {}

  /** The text with the trigger inserted, drawing every random choice from `rng`. */
  abstract poisonText(text: string, rng: Rng): string;

  /** The random stream for sample `index` of a split: independent of which other samples are poisoned. */
  protected rngFor(split: 'train' | 'test', index: number): Rng {
    return new Rng(deriveSeed(this.options.seed, `${this.name}:${split}:${index}`));
  }

  /**
   * Indices (ascending) of the training samples to poison: round(poisonRate · n) of them, drawn with the
   * seed among non-target samples (label-flip), target samples (clean-label) or all (any). Throws if too
   * few exist.
   */
  selectPoisoned(examples: readonly Example[]): number[] {
    checkLabels(examples);
    const { poisonRate, target, mode, seed } = this.options;
    // Rounded to 1e-6 first so that e.g. 0.145 · 100 (14.499999999999998 in floating point) counts as 14.5 → 15.
    const wanted = Math.round(Math.round(poisonRate * examples.length * 1e6) / 1e6);
    const candidates: number[] = [];
    examples.forEach((ex, i) => {
      if (mode === 'any' || (ex.label === target) === (mode === 'clean-label')) candidates.push(i);
    });
    if (wanted > candidates.length) {
      const which = mode === 'clean-label' ? `labelled ${target}` : `labelled other than ${target}`;
      throw new BackdoorError(
        `${this.name}: poisonRate ${poisonRate} asks for ${wanted} poisoned samples of ${examples.length}, ` +
          `but only ${candidates.length} are ${which} (mode ${mode})`,
      );
    }
    const chosen = new Rng(deriveSeed(seed, `${this.name}:select`)).shuffle(candidates).slice(0, wanted);
    return chosen.sort((a, b) => a - b);
  }

  /** The training set in its original order, the chosen samples poisoned and labelled with the target. */
  poisonedTrainSplit(examples: readonly Example[]): PoisonedExample[] {
    const chosen = new Set(this.selectPoisoned(examples));
    const { target, mode } = this.options;
    return examples.map((ex, i) =>
      chosen.has(i)
        ? sample(
            ex,
            this.poisonText(ex.text, this.rngFor('train', i)),
            mode === 'clean-label' ? ex.label : target,
            1,
          )
        : sample(ex, ex.text, ex.label, 0),
    );
  }

  /**
   * The attack test split (as OpenBackdoor): every example whose label is not the target, poisoned and
   * labelled with the target, in order. Accuracy on it is the label flip rate; `originalLabel` keeps the truth.
   */
  poisonedTestSplit(examples: readonly Example[]): PoisonedExample[] {
    checkLabels(examples);
    const { target } = this.options;
    const out: PoisonedExample[] = [];
    examples.forEach((ex, i) => {
      if (ex.label !== target)
        out.push(sample(ex, this.poisonText(ex.text, this.rngFor('test', i)), target, 1));
    });
    return out;
  }

  /** The clean test split: the examples unchanged (accuracy on it is CACC). */
  cleanTestSplit(examples: readonly Example[]): PoisonedExample[] {
    return examples.map((ex) => sample(ex, ex.text, ex.label, 0));
  }
}

// Backdoor metrics, as fractions with their counts: LFR (label flip rate) on a poisoned test split and CACC
// (clean accuracy) on the clean one.

export interface LabelFlipRate {
  /** flipped / count. */
  rate: number;
  /** Samples whose true label is not the target and that are predicted as the target. */
  flipped: number;
  /** Samples whose true label is not the target (the others are ignored). */
  count: number;
}

export interface CleanAccuracy {
  /** correct / count. */
  accuracy: number;
  correct: number;
  count: number;
}

function checkLengths(what: string, predictions: readonly number[], labels: readonly number[]): void {
  if (predictions.length !== labels.length)
    throw new RangeError(`${what}: ${predictions.length} predictions for ${labels.length} labels`);
}

/**
 * LFR: among poisoned test samples whose TRUE label (`originalLabels`, e.g. `PoisonedExample.originalLabel`)
 * is not `target`, the share predicted as `target`. Samples already of the target label are not counted.
 */
export function labelFlipRate(
  predictions: readonly number[],
  originalLabels: readonly number[],
  target: number,
): LabelFlipRate {
  checkLengths('LFR', predictions, originalLabels);
  let flipped = 0;
  let count = 0;
  originalLabels.forEach((label, i) => {
    if (label === target) return;
    count++;
    if (predictions[i] === target) flipped++;
  });
  if (count === 0) throw new RangeError(`LFR: no sample has a true label other than the target ${target}`);
  return { rate: flipped / count, flipped, count };
}

/** CACC: the share of clean test samples predicted as their label. */
export function cleanAccuracy(predictions: readonly number[], labels: readonly number[]): CleanAccuracy {
  checkLengths('CACC', predictions, labels);
  if (labels.length === 0) throw new RangeError('CACC: no samples');
  let correct = 0;
  labels.forEach((label, i) => {
    if (predictions[i] === label) correct++;
  });
  return { accuracy: correct / labels.length, correct, count: labels.length };
}

// Logits of a classifier over many examples, batch by batch through a compiled inference function, and
// the predicted class of each row.

import type { CompiledFunction } from '../runtime/compiled.js';
import type { HostTensor } from '../runtime/ort.js';
import { sequentialBatches, type Encoded } from './batching.js';

/** Logits for every example, in input order, through an inference function that takes the trained values. */
export async function predictLogits(
  fn: CompiledFunction,
  examples: readonly Encoded[],
  feedsFor: (indices: number[]) => Record<string, HostTensor>,
  batchSize: number,
  numLabels: number,
): Promise<Float32Array> {
  const logits = new Float32Array(examples.length * numLabels);
  for (const idx of sequentialBatches(examples, batchSize)) {
    const out = (await fn.run(feedsFor(idx)))['logits']!.data as Float32Array;
    idx.forEach((ix, r) => logits.set(out.subarray(r * numLabels, (r + 1) * numLabels), ix * numLabels));
  }
  return logits;
}

export function argmaxRows(logits: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (logits[r * cols + c]! > logits[r * cols + best]!) best = c;
    out.push(best);
  }
  return out;
}

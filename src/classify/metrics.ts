// Classification metrics: accuracy and macro-averaged F1 (classes absent from both labels and
// predictions are left out of the average, as scikit-learn does with the labels present).

export interface ClassificationMetrics {
  readonly accuracy: number;
  readonly macroF1: number;
  readonly count: number;
}

export function classificationMetrics(
  labels: readonly number[],
  predictions: readonly number[],
): ClassificationMetrics {
  if (labels.length !== predictions.length)
    throw new Error(`${labels.length} labels but ${predictions.length} predictions`);
  const n = labels.length;
  if (n === 0) return { accuracy: Number.NaN, macroF1: Number.NaN, count: 0 };
  const classes = [...new Set([...labels, ...predictions])].sort((a, b) => a - b);
  let correct = 0;
  const tp = new Map<number, number>();
  const fp = new Map<number, number>();
  const fn = new Map<number, number>();
  const inc = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const p = predictions[i]!;
    if (y === p) {
      correct++;
      inc(tp, y);
    } else {
      inc(fp, p);
      inc(fn, y);
    }
  }
  const f1s = classes.map((c) => {
    const t = tp.get(c) ?? 0;
    const denom = 2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0);
    return denom === 0 ? 0 : (2 * t) / denom;
  });
  return { accuracy: correct / n, macroF1: f1s.reduce((a, b) => a + b, 0) / f1s.length, count: n };
}

// `plmkit bench attack`: ms per step of a gradient-control step (two backward passes, per-layer
// arithmetic) against a vanilla PET step on the same batch (BERT-mini, sequential adapter, 32 x 64 tokens:
// 16 clean and 16 poisoned rows). The two methods run in alternation, three short runs each, so that this
// machine's drift in speed falls on both alike.

import { trainPoisonedPet, type PoisonTrainingMethod } from '../src/backdoor/attack/train-poisoned-pet.js';
import type { Encoded } from '../src/classify/batching.js';
import { sequenceClassifier, textInputs } from '../src/nn/bert.js';
import { ModelBuilder } from '../src/nn/builder.js';
import { BERT_MINI } from '../src/nn/config.js';
import { parsePetConfig } from '../src/pet/index.js';
import { Rng } from '../src/runtime/random.js';
import { median, peakRssMb } from './timing.js';

function rows(n: number, seed: number): Encoded[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    ids: Array.from({ length: 64 }, () => 1 + rng.int(30000)),
    label: rng.int(2),
  }));
}

async function msPerStep(method: PoisonTrainingMethod, base: Map<string, Float32Array>): Promise<number> {
  const times: number[] = [];
  let last = performance.now();
  await trainPoisonedPet({
    model: BERT_MINI,
    base,
    pet: parsePetConfig({ method: 'adapter' }),
    clean: rows(16 * 8, 1),
    poisoned: rows(16 * 8, 2),
    method,
    epochs: 1,
    batchSize: 16,
    lr: 2e-5,
    seed: 0,
    padId: 0,
    onStep: () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
    },
  });
  return median(times.slice(3));
}

export async function benchAttack(): Promise<Record<string, unknown>> {
  const b = new ModelBuilder({ training: false });
  sequenceClassifier(b, textInputs(b), BERT_MINI);
  const base = b.initialValues(0);
  const runs: Record<'vanilla' | 'gradient-control', number[]> = { vanilla: [], 'gradient-control': [] };
  for (let round = 0; round < 3; round++) {
    for (const method of ['vanilla', 'gradient-control'] as const)
      runs[method].push(await msPerStep(method, base));
  }
  const vanilla = median(runs.vanilla);
  const control = median(runs['gradient-control']);
  return {
    model: 'bert-mini',
    pet: 'adapter',
    batch: 32,
    seq: 64,
    vanilla_ms: vanilla,
    gradient_control_ms: control,
    ratio: control / vanilla,
    peak_rss_mb: peakRssMb(),
  };
}

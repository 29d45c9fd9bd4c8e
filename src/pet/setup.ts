// The training setup of a PET module: base weights frozen (passed to TrainStep as `frozen`, so they are
// compiled into the ONNX graph as initializers and never fed or updated), the method's parameters and,
// when chosen, the classification head trainable.

import type { Tensor } from '../graph/graph.js';
import { initialise, type ModelBuilder } from '../nn/builder.js';
import { deriveSeed, Rng } from '../runtime/random.js';
import { isHeadParam, type PetAttachment } from './attach.js';
import { PetError } from './common.js';

export interface PetTrainingOptions {
  /** Train the classification head too (default true). */
  readonly trainHead?: boolean;
  /** Seed of the method's initial values (default 0). */
  readonly seed?: number;
  /** Start values for the method's parameters (a loaded module, say) instead of a fresh initialisation. */
  readonly petValues?: ReadonlyMap<string, Float32Array>;
}

export interface PetTraining {
  /** For TrainStep: the parameters to update, in a fixed order. */
  readonly trainable: readonly Tensor[];
  readonly trainableNames: readonly string[];
  /** For TrainStep: every other parameter, from the base values. */
  readonly frozen: Map<string, Float32Array>;
  /** Initial values of the trainable parameters, for TrainStep.initState. */
  readonly initial: Map<string, Float32Array>;
  /** Number of trainable scalars. */
  readonly count: number;
}

/**
 * Splits the parameters of a graph built with `pet` attached: `base` holds the base model's values (as
 * bindWeights gives them, a fresh head included); the method's parameters are initialised with `seed`.
 */
export function petTraining(
  b: ModelBuilder,
  pet: PetAttachment,
  base: ReadonlyMap<string, Float32Array>,
  opts: PetTrainingOptions = {},
): PetTraining {
  const petNames = new Set(pet.names);
  if (petNames.size === 0)
    throw new PetError('the PET module has no parameters: build the graph with its hooks first');
  const trainHead = opts.trainHead ?? true;
  const trainable: Tensor[] = [];
  const trainableNames: string[] = [];
  const frozen = new Map<string, Float32Array>();
  const initial = new Map<string, Float32Array>();
  let count = 0;
  for (const [name, spec] of b.params) {
    const size = (spec.tensor.shape as number[]).reduce((a, c) => a * c, 1);
    if (petNames.has(name)) {
      const given = opts.petValues?.get(name);
      if (given && given.length !== size)
        throw new PetError(`PET parameter "${name}": ${given.length} values, expected ${size}`);
      initial.set(
        name,
        given ? given.slice() : initialise(size, spec.init, new Rng(deriveSeed(opts.seed ?? 0, name))),
      );
    } else {
      const v = base.get(name);
      if (!v) throw new PetError(`no base value for parameter "${name}"`);
      if (!(trainHead && isHeadParam(name))) {
        frozen.set(name, v);
        continue;
      }
      initial.set(name, v.slice());
    }
    trainable.push(spec.tensor);
    trainableNames.push(name);
    count += size;
  }
  return { trainable, trainableNames, frozen, initial, count };
}

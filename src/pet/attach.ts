// Attaching a method to a model graph, and counting its trainable parameters.

import type { ClassifierOutputs, TextInputs } from '../nn/bert.js';
import { sequenceClassifier, type ModelHooks } from '../nn/bert.js';
import type { ModelBuilder } from '../nn/builder.js';
import type { ModelConfig } from '../nn/config.js';
import { PetParams, refusePrunedModel } from './common.js';
import { methodDef, parsePetConfig, type PetConfig, type PetConfigInput } from './registry.js';

export interface PetAttachment {
  readonly config: PetConfig;
  /** Pass to `sequenceClassifier` / `encode`. */
  readonly hooks: ModelHooks;
  /** Names of the parameters the method added (filled while the graph is built). */
  readonly names: readonly string[];
}

/** The hooks of a method for a model built with `b`; the config is validated and checked against the model. */
export function attachPet(
  b: ModelBuilder,
  config: PetConfigInput | PetConfig,
  model: ModelConfig,
): PetAttachment {
  const cfg = parsePetConfig(config);
  refusePrunedModel(model);
  const def = methodDef(cfg);
  def.count(cfg, model); // checks target layers against the model
  const p = new PetParams(b);
  return { config: cfg, hooks: def.hooks(p, cfg, model), names: p.names };
}

/** A sequence classifier with a PET method attached. */
export function petClassifier(
  b: ModelBuilder,
  x: TextInputs,
  model: ModelConfig,
  config: PetConfigInput | PetConfig,
): ClassifierOutputs & { readonly pet: PetAttachment } {
  const pet = attachPet(b, config, model);
  return { ...sequenceClassifier(b, x, model, pet.hooks), pet };
}

/** Trainable parameters a method adds (see each method's `formula`). */
export function petParamCount(config: PetConfigInput | PetConfig, model: ModelConfig): number {
  const cfg = parsePetConfig(config);
  refusePrunedModel(model);
  return methodDef(cfg).count(cfg, model);
}

/** Parameters of the classification head trained with a PET module (PEFT's modules_to_save "classifier"). */
export function headParamCount(model: ModelConfig): number {
  const h = model.hiddenSize;
  const c = model.numLabels;
  return model.modelType === 'bert' ? h * c + c : h * h + h + h * c + c;
}

/** The head's parameters: `classifier.*` (BERT's pooler stays with the frozen base model, as in PEFT). */
export const isHeadParam = (name: string): boolean => /^classifier\./.test(name);

/** BERT's pooler: part of the frozen base, but an MLM checkpoint lacks it (see SavePetOptions.pooler). */
export const isPoolerParam = (name: string): boolean => /^bert\.pooler\./.test(name);

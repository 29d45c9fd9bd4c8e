// What every parameter-efficient tuning method provides to the registry.

import type { z } from 'zod';
import type { ModelHooks } from '../nn/bert.js';
import type { ModelConfig } from '../nn/config.js';
import type { PetParams } from './common.js';

export interface MethodDef<C extends { readonly method: string }> {
  readonly method: C['method'];
  /** The paper the method follows. */
  readonly reference: string;
  /** Strict schema of the method's config (unknown keys are errors); fills defaults. */
  readonly schema: z.ZodType<C, unknown>;
  /** The hooks that add the method to a model graph; parameters are created through `p`. */
  hooks(p: PetParams, cfg: C, model: ModelConfig): ModelHooks;
  /** Number of trainable parameters the method adds (without any head). */
  count(cfg: C, model: ModelConfig): number;
  /** The counting formula, for documentation and error messages. */
  readonly formula: string;
}

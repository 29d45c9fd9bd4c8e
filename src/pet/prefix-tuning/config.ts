// Prefix-tuning (Li & Liang, 2021) / P-tuning v2 (Liu et al., 2022) configuration.

import { z } from 'zod';
import { layersSchema } from '../common.js';

export const prefixTuningConfigSchema = z.strictObject({
  method: z.literal('prefix_tuning'),
  /** Prefix length P: key/value vectors put before each target layer's own. */
  numVirtualTokens: z.number().int().positive().default(10),
  /**
   * Li & Liang's reparameterization: the prefixes are MLP(embedding) (embedding [P, hidden] -> Linear ->
   * tanh -> Linear -> 2 * layers * hidden) instead of free parameters (P-tuning v2). PEFT's prefix_projection.
   */
  reparameterize: z.boolean().default(false),
  /** Hidden size of the reparameterization MLP (PEFT's encoder_hidden_size); default the model's hidden size. */
  encoderHiddenSize: z.number().int().positive().optional(),
  layers: layersSchema,
});
export type PrefixTuningConfig = z.output<typeof prefixTuningConfigSchema>;

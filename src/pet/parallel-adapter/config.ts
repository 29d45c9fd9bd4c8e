// Parallel adapter (He et al., 2022) configuration.

import { z } from 'zod';
import { activationSchema, layersSchema } from '../common.js';

export const parallelAdapterConfigSchema = z.strictObject({
  method: z.literal('parallel_adapter'),
  bottleneckSize: z.number().int().positive().default(64),
  /**
   * Output scale s. Default 4: He et al.'s "scaled parallel adapter" at the FFN (their best FFN variant
   * and the one in their MAM adapter) uses s = 4; AdapterHub's ParBnConfig defaults to the same.
   */
  scaling: z.number().positive().default(4),
  activation: activationSchema.default('relu'),
  /** Also put a parallel adapter beside the attention sub-layer (fed with the layer input). */
  attention: z.boolean().default(false),
  layers: layersSchema,
});
export type ParallelAdapterConfig = z.output<typeof parallelAdapterConfigSchema>;

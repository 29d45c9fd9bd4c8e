// Sequential bottleneck adapter (Houlsby et al., 2019) configuration.

import { z } from 'zod';
import { activationSchema, layersSchema } from '../common.js';

export const adapterConfigSchema = z.strictObject({
  method: z.literal('adapter'),
  /** Bottleneck size m of each adapter (down: hidden -> m, up: m -> hidden). */
  bottleneckSize: z.number().int().positive().default(64),
  activation: activationSchema.default('relu'),
  layers: layersSchema,
});
export type AdapterConfig = z.output<typeof adapterConfigSchema>;

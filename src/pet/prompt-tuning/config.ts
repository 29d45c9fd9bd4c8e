// Prompt tuning (Lester et al., 2021) configuration.

import { z } from 'zod';

export const promptTuningConfigSchema = z.strictObject({
  method: z.literal('prompt_tuning'),
  /** Number P of soft-prompt vectors. */
  numVirtualTokens: z.number().int().positive().default(20),
});
export type PromptTuningConfig = z.output<typeof promptTuningConfigSchema>;

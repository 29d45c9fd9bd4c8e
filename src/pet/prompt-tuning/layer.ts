// Prompt tuning: P trainable vectors `prompt_encoder.embedding.weight` [P, hidden] (initialised N(0, 1) as
// PEFT's random init) put before the embedding layer's output (after its LayerNorm and dropout, so the
// input tokens keep their positions), with the attention bias extended so they are always attended. The
// encoder's outputs are cut back to the input positions, so every hidden state keeps its [batch, seq,
// hidden] shape and the classification head pools the original first token ([CLS] / <s>), which is at
// position P inside the encoder. (PEFT instead prepends to the word embeddings before the position
// embeddings and pools position 0, a virtual token.) The method works on the input, so it has no `layers`.

import { reshapeLike } from '../../graph/ops/shape-ops.js';
import { concat, sliceAxis } from '../../graph/ops/shape-ops.js';
import { attendFirst, perBatch } from '../common.js';
import type { MethodDef } from '../method.js';
import { promptTuningConfigSchema, type PromptTuningConfig } from './config.js';

export const promptTuning: MethodDef<PromptTuningConfig> = {
  method: 'prompt_tuning',
  reference: 'Lester et al., 2021, The Power of Scale for Parameter-Efficient Prompt Tuning',
  schema: promptTuningConfigSchema,
  hooks: (p, cfg, model) => {
    const P = cfg.numVirtualTokens;
    return {
      embeddings: (hidden, bias) => {
        const table = p.param('prompt_encoder.embedding.weight', [P, model.hiddenSize], {
          kind: 'normal',
          std: 1,
        });
        return { hidden: concat([perBatch(table, bias), hidden], 1), bias: attendFirst(bias, P) };
      },
      hiddenStates: (states, embedded) =>
        states.map((s, i) => (i === 0 ? embedded : reshapeLike(sliceAxis(s, 1, P, 2 ** 62), embedded))),
    };
  },
  count: (cfg, model) => cfg.numVirtualTokens * model.hiddenSize,
  formula: 'P * hidden',
};

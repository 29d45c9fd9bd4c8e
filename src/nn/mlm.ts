// BERT's masked-language-model head (Hugging Face BertForMaskedLM names): dense, GELU, LayerNorm, and a
// decoder tied to the word embeddings plus a vocabulary bias. Logits are computed only at the masked
// positions, which saves most of the vocabulary projection.

import { crossEntropy } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { input } from '../graph/ops/core.js';
import { add } from '../graph/ops/elementwise.js';
import { matmul } from '../graph/ops/matmul.js';
import { gather } from '../graph/ops/nn-ops.js';
import { reshape, transposeLast } from '../graph/ops/shape-ops.js';
import { encode, type TextInputs } from './bert.js';
import type { ModelBuilder } from './builder.js';
import type { ModelConfig } from './config.js';
import { activation } from './activation.js';
import { dense, layerNormLayer } from './layers.js';

export interface MlmInputs extends TextInputs {
  /** Flat indices (row * seq + column) of the masked tokens, [masked]. */
  readonly positions: Tensor;
  /** The original token ids at those positions, [masked]. */
  readonly labels: Tensor;
}

export function mlmInputs(b: ModelBuilder, x: TextInputs): MlmInputs {
  return {
    ...x,
    positions: input(b.graph, 'mlm_positions', 'int64', ['masked']),
    labels: input(b.graph, 'mlm_labels', 'int64', ['masked']),
  };
}

export interface MlmOutputs {
  readonly logits: Tensor;
  readonly loss: Tensor;
  readonly hiddenStates: readonly Tensor[];
}

export function maskedLm(b: ModelBuilder, x: MlmInputs, cfg: ModelConfig): MlmOutputs {
  const h = cfg.hiddenSize;
  const hiddenStates = encode(b, x, cfg);
  const flat = reshape(hiddenStates[hiddenStates.length - 1]!, [-1, h]);
  const picked = gather(flat, x.positions);
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const t = layerNormLayer(
    b,
    'cls.predictions.transform.LayerNorm',
    // transformers' BertPredictionHeadTransform uses config.hidden_act too.
    activation(dense(b, 'cls.predictions.transform.dense', picked, h, h, init), cfg.hiddenAct),
    h,
    cfg.layerNormEps,
  );
  const words = b.graph.byName(`${cfg.modelType}.embeddings.word_embeddings.weight`)!;
  const bias = b.param('cls.predictions.bias', [cfg.vocabSize], { kind: 'zeros' });
  const logits = add(matmul(t, transposeLast(words)), bias);
  return { logits, loss: crossEntropy(logits, x.labels), hiddenStates };
}

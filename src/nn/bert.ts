// BERT and RoBERTa sequence classifiers, as Hugging Face builds them.
// BERT: embeddings (word + position + token type, LayerNorm, dropout), encoder, pooler (tanh dense on
// [CLS]) and a linear classifier. RoBERTa: positions counted from padding_idx + 1 over non-padding
// tokens, no pooler, and a two-layer head (dense, tanh, out_proj) on <s>.

import { crossEntropy } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { cast, input } from '../graph/ops/core.js';
import { add, equal, mul, not, tanh } from '../graph/ops/elementwise.js';
import { arangeAlong, gather } from '../graph/ops/nn-ops.js';
import { cumsum } from '../graph/ops/scan.js';
import { sliceAxis, squeeze } from '../graph/ops/shape-ops.js';
import type { ModelBuilder } from './builder.js';
import type { ModelConfig } from './config.js';
import { attentionBias, encoder, type EncoderHooks } from './encoder.js';
import { dense, embedding, layerNormLayer } from './layers.js';

export { BERT_MINI } from './config.js';

export interface TextInputs {
  readonly inputIds: Tensor;
  readonly attentionMask: Tensor;
  readonly tokenTypeIds?: Tensor;
}

export interface ClassifierOutputs {
  readonly logits: Tensor;
  /** Embedding output and every layer's output, [batch, seq, hidden]. */
  readonly hiddenStates: readonly Tensor[];
}

export function textInputs(b: ModelBuilder, withTokenTypes = false): TextInputs {
  const g = b.graph;
  const inputIds = input(g, 'input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = input(g, 'attention_mask', 'int64', ['batch', 'seq']);
  return withTokenTypes
    ? { inputIds, attentionMask, tokenTypeIds: input(g, 'token_type_ids', 'int64', ['batch', 'seq']) }
    : { inputIds, attentionMask };
}

/** Position ids: 0..seq-1 for BERT; for RoBERTa, cumulative count of non-padding tokens + padding_idx. */
function positionIds(x: TextInputs, cfg: ModelConfig): Tensor {
  if (cfg.modelType === 'bert') return arangeAlong(x.inputIds, 1);
  const real = cast(not(equal(x.inputIds, cfg.padTokenId)), 'int64');
  return add(mul(cumsum(real, 1), real), cfg.padTokenId);
}

export function embeddings(b: ModelBuilder, x: TextInputs, cfg: ModelConfig): Tensor {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const p = `${cfg.modelType}.embeddings`;
  const words = embedding(b, `${p}.word_embeddings`, x.inputIds, cfg.vocabSize, cfg.hiddenSize, init);
  const positions = embedding(
    b,
    `${p}.position_embeddings`,
    positionIds(x, cfg),
    cfg.maxPositions,
    cfg.hiddenSize,
    init,
  );
  const typeTable = b.param(`${p}.token_type_embeddings.weight`, [cfg.typeVocabSize, cfg.hiddenSize], init);
  // Without token type ids every token has type 0 (as transformers defaults them).
  const types = x.tokenTypeIds ? gather(typeTable, x.tokenTypeIds) : sliceAxis(typeTable, 0, 0, 1);
  const sum = add(add(words, positions), types);
  return b.dropout(
    layerNormLayer(b, `${p}.LayerNorm`, sum, cfg.hiddenSize, cfg.layerNormEps),
    cfg.hiddenDropout,
  );
}

/**
 * Hook points for parameter-efficient tuning (src/pet): the encoder's per-layer hooks, plus the embedding
 * output before the encoder (prompt tuning prepends vectors and extends the attention bias) and the hidden
 * states after it (brought back to the input positions). Absent, the graph is the plain model's.
 */
export interface ModelHooks extends EncoderHooks {
  readonly embeddings?: (hidden: Tensor, bias: Tensor) => { readonly hidden: Tensor; readonly bias: Tensor };
  /** Every layer's hidden state to [batch, seq, hidden] at the input positions; `embedded`: the embeddings. */
  readonly hiddenStates?: (states: Tensor[], embedded: Tensor) => Tensor[];
}

/** Embeddings and encoder: every layer's hidden states (index 0 is the embedding output). */
export function encode(b: ModelBuilder, x: TextInputs, cfg: ModelConfig, hooks?: ModelHooks): Tensor[] {
  if (!hooks)
    return encoder(b, `${cfg.modelType}.encoder`, embeddings(b, x, cfg), attentionBias(x.attentionMask), cfg);
  const embedded = embeddings(b, x, cfg);
  const bias = attentionBias(x.attentionMask);
  const inputs = hooks.embeddings ? hooks.embeddings(embedded, bias) : { hidden: embedded, bias };
  const states = encoder(b, `${cfg.modelType}.encoder`, inputs.hidden, inputs.bias, cfg, hooks);
  return hooks.hiddenStates ? hooks.hiddenStates(states, embedded) : states;
}

export function firstToken(h: Tensor): Tensor {
  return squeeze(sliceAxis(h, 1, 0, 1), [1]);
}

/** The classification head on a final hidden state, with Hugging Face's parameter names. */
export function classificationHead(b: ModelBuilder, last: Tensor, cfg: ModelConfig, prefix = ''): Tensor {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const h = cfg.hiddenSize;
  const cls = firstToken(last);
  const p = cfg.classifierDropout ?? cfg.hiddenDropout; // as transformers reads classifier_dropout
  if (cfg.modelType === 'bert') {
    const pooled = tanh(dense(b, `${prefix}bert.pooler.dense`, cls, h, h, init));
    return dense(b, `${prefix}classifier`, b.dropout(pooled, p), h, cfg.numLabels, init);
  }
  const x = tanh(dense(b, `${prefix}classifier.dense`, b.dropout(cls, p), h, h, init));
  return dense(b, `${prefix}classifier.out_proj`, b.dropout(x, p), h, cfg.numLabels, init);
}

export function sequenceClassifier(
  b: ModelBuilder,
  x: TextInputs,
  cfg: ModelConfig,
  hooks?: ModelHooks,
): ClassifierOutputs {
  const hiddenStates = encode(b, x, cfg, hooks);
  return { logits: classificationHead(b, hiddenStates[hiddenStates.length - 1]!, cfg), hiddenStates };
}

export function classificationLoss(logits: Tensor, labels: Tensor): Tensor {
  return crossEntropy(logits, labels);
}

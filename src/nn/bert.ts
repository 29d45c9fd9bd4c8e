// BERT for sequence classification, as Hugging Face builds it: embeddings (word + position + token type,
// LayerNorm, dropout), encoder, pooler (tanh dense on [CLS]) and a linear classifier.

import { crossEntropy } from '../graph/composite.js';
import type { Tensor } from '../graph/graph.js';
import { input } from '../graph/ops/core.js';
import { add, tanh } from '../graph/ops/elementwise.js';
import { arangeAlong, gather } from '../graph/ops/nn-ops.js';
import { sliceAxis, squeeze } from '../graph/ops/shape-ops.js';
import type { ModelBuilder } from './builder.js';
import { attentionBias, encoder, type EncoderConfig } from './encoder.js';
import { dense, embedding, layerNormLayer } from './layers.js';

export interface BertConfig extends EncoderConfig {
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly numLabels: number;
}

/** The BERT-mini shape (google/bert_uncased_L-4_H-256_A-4) with the bert-base-uncased vocabulary size. */
export const BERT_MINI: BertConfig = {
  vocabSize: 30522,
  maxPositions: 512,
  typeVocabSize: 2,
  hiddenSize: 256,
  numLayers: 4,
  numHeads: 4,
  intermediateSize: 1024,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  layerNormEps: 1e-12,
  initStd: 0.02,
  numLabels: 2,
};

export interface BertInputs {
  readonly inputIds: Tensor;
  readonly attentionMask: Tensor;
  readonly tokenTypeIds?: Tensor;
}

export interface BertOutputs {
  readonly logits: Tensor;
  /** Embedding output and every layer's output, [batch, seq, hidden]. */
  readonly hiddenStates: readonly Tensor[];
  readonly pooled: Tensor;
}

export function bertInputs(b: ModelBuilder, withTokenTypes = false): BertInputs {
  const g = b.graph;
  const inputIds = input(g, 'input_ids', 'int64', ['batch', 'seq']);
  const attentionMask = input(g, 'attention_mask', 'int64', ['batch', 'seq']);
  return withTokenTypes
    ? { inputIds, attentionMask, tokenTypeIds: input(g, 'token_type_ids', 'int64', ['batch', 'seq']) }
    : { inputIds, attentionMask };
}

export function bertEmbeddings(b: ModelBuilder, x: BertInputs, cfg: BertConfig): Tensor {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const p = 'bert.embeddings';
  const words = embedding(b, `${p}.word_embeddings`, x.inputIds, cfg.vocabSize, cfg.hiddenSize, init);
  const positions = embedding(b, `${p}.position_embeddings`, arangeAlong(x.inputIds, 1), cfg.maxPositions, cfg.hiddenSize, init);
  const typeTable = b.param(`${p}.token_type_embeddings.weight`, [cfg.typeVocabSize, cfg.hiddenSize], init);
  // Without token type ids every token has type 0 (as transformers defaults them).
  const types = x.tokenTypeIds ? gather(typeTable, x.tokenTypeIds) : sliceAxis(typeTable, 0, 0, 1);
  const sum = add(add(words, positions), types);
  return b.dropout(layerNormLayer(b, `${p}.LayerNorm`, sum, cfg.hiddenSize, cfg.layerNormEps), cfg.hiddenDropout);
}

export function bertForSequenceClassification(b: ModelBuilder, x: BertInputs, cfg: BertConfig): BertOutputs {
  const init = { kind: 'normal', std: cfg.initStd } as const;
  const emb = bertEmbeddings(b, x, cfg);
  const hiddenStates = encoder(b, 'bert.encoder', emb, attentionBias(x.attentionMask), cfg);
  const cls = squeeze(sliceAxis(hiddenStates[hiddenStates.length - 1]!, 1, 0, 1), [1]);
  const pooled = tanh(dense(b, 'bert.pooler.dense', cls, cfg.hiddenSize, cfg.hiddenSize, init));
  const logits = dense(b, 'classifier', b.dropout(pooled, cfg.hiddenDropout), cfg.hiddenSize, cfg.numLabels, init);
  return { logits, hiddenStates, pooled };
}

export function classificationLoss(logits: Tensor, labels: Tensor): Tensor {
  return crossEntropy(logits, labels);
}

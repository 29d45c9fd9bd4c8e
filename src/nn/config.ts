// The model configuration the builders read, and its mapping from and to Hugging Face config.json fields.

import type { EncoderConfig } from './encoder.js';

export type ModelType = 'bert' | 'roberta';

export interface ModelConfig extends EncoderConfig {
  readonly modelType: ModelType;
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly typeVocabSize: number;
  readonly padTokenId: number;
  readonly numLabels: number;
  /** Dropout before the classification head (config.json's classifier_dropout); hiddenDropout if absent. */
  readonly classifierDropout?: number;
}

/** The BERT-mini shape (google/bert_uncased_L-4_H-256_A-4) with the bert-base-uncased vocabulary size. */
export const BERT_MINI: ModelConfig = {
  modelType: 'bert',
  vocabSize: 30522,
  maxPositions: 512,
  typeVocabSize: 2,
  padTokenId: 0,
  hiddenSize: 256,
  numLayers: 4,
  numHeads: 4,
  intermediateSize: 1024,
  hiddenDropout: 0.1,
  attentionDropout: 0.1,
  layerNormEps: 1e-12,
  initStd: 0.02,
  hiddenAct: 'gelu',
  numLabels: 2,
};

/** The longest token sequence the position table holds (RoBERTa's positions start after padding_idx). */
export function maxSequenceLength(
  cfg: Pick<ModelConfig, 'modelType' | 'maxPositions' | 'padTokenId'>,
): number {
  return cfg.modelType === 'roberta' ? cfg.maxPositions - cfg.padTokenId - 1 : cfg.maxPositions;
}

// Fine-tuning hyper-parameters with their defaults (transformers' Trainer's 3 epochs, lr 5e-5 and clipping
// at norm 1; batch 32, a 10% warmup and weight decay 0.01 beside them), shared by `plmkit finetune` and
// the browser's BrowserTrainer.

import { z } from 'zod';

export const FINETUNE_HYPERPARAMETERS = {
  epochs: z.number().int().positive().default(3),
  batchSize: z.number().int().positive().default(32),
  lr: z.number().positive().default(5e-5),
  warmupRatio: z.number().min(0).max(1).default(0.1),
  weightDecay: z.number().min(0).default(0.01),
  clipNorm: z.number().positive().default(1),
  maxLength: z.number().int().positive().default(128),
  stepsPerCall: z.number().int().positive().default(8),
};

// Hugging Face `config.json` for BERT / RoBERTa encoders: a zod schema that checks the keys we use (types
// and ranges) and keeps every other key as is, since real configs carry many we do not interpret. No file
// system here (browsers use it too); ./hf-config.ts reads and writes the file.

import { z } from 'zod';

export const CONFIG_FILE_NAME = 'config.json';

/**
 * The `hidden_act` values of transformers' ACT2FN that plmkit builds (src/nn/activation.ts); the others
 * (gelu_10, relu2, relu6, leaky_relu, mish, laplace) are refused when config.json is read.
 */
export const HF_ACTIVATIONS = [
  'gelu',
  'gelu_python',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'gelu_accurate',
  'quick_gelu',
  'relu',
  'silu',
  'swish',
  'tanh',
  'sigmoid',
  'linear',
] as const;

export type HfActivation = (typeof HF_ACTIVATIONS)[number];

const positiveInt = z.int().positive();
const dropout = z.number().min(0).lt(1);
const labelIndex = z.string().regex(/^\d+$/, 'must be a non-negative integer written as a string');

const knownKeys = {
  model_type: z.enum(['bert', 'roberta']),
  architectures: z.array(z.string()).optional(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  intermediate_size: positiveInt,
  hidden_act: z.enum(HF_ACTIVATIONS),
  hidden_dropout_prob: dropout,
  attention_probs_dropout_prob: dropout,
  classifier_dropout: dropout.nullable().optional(),
  max_position_embeddings: positiveInt,
  type_vocab_size: positiveInt,
  layer_norm_eps: z.number().positive().lt(1),
  pad_token_id: z.int().nonnegative(),
  position_embedding_type: z.enum(['absolute', 'relative_key', 'relative_key_query']).optional(),
  num_labels: positiveInt.optional(),
  id2label: z.record(labelIndex, z.string()).optional(),
  label2id: z.record(z.string(), z.int().nonnegative()).optional(),
  /** Heads removed per layer (transformers' PretrainedConfig.pruned_heads). */
  pruned_heads: z
    .record(
      z.string().regex(/^(0|[1-9]\d*)$/, 'must be a layer index written as a string'),
      z.array(z.int().nonnegative()),
    )
    .optional(),
  /** FFN width per layer after structured pruning: plmkit's key (transformers has none, so it cannot load such a model). */
  plmkit_layer_intermediate_sizes: z.array(positiveInt).optional(),
};
type KnownKeysSchema = z.ZodObject<typeof knownKeys>;

/** The keys we interpret, as accepted from JSON. */
export type HfConfigKnownInput = z.input<KnownKeysSchema>;

/**
 * A validated config: known keys typed, labels normalized (num_labels, id2label, label2id all set), and every
 * other key of the file kept as is.
 */
export type HfConfig = Omit<z.output<KnownKeysSchema>, 'num_labels' | 'id2label' | 'label2id'> & {
  num_labels: number;
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  [key: string]: unknown;
};

/** Checks the known keys with their types and ranges, passes any other key through unchanged. */
export const hfConfigSchema = z
  .looseObject(knownKeys)
  .superRefine((c, ctx) => {
    if (c.hidden_size % c.num_attention_heads !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['hidden_size'],
        message:
          `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}` +
          ' (each head gets hidden_size / num_attention_heads dimensions)',
      });
    for (const [layer, heads] of Object.entries(c.pruned_heads ?? {}))
      if (Number(layer) >= c.num_hidden_layers || heads.some((h) => h >= c.num_attention_heads))
        ctx.addIssue({
          code: 'custom',
          path: ['pruned_heads', layer],
          message: `names a layer or head the model does not have (${c.num_hidden_layers} layers of ${c.num_attention_heads} heads)`,
        });
      else if (new Set(heads).size >= c.num_attention_heads)
        ctx.addIssue({ code: 'custom', path: ['pruned_heads', layer], message: 'leaves the layer no head' });
    if (
      c.plmkit_layer_intermediate_sizes !== undefined &&
      c.plmkit_layer_intermediate_sizes.length !== c.num_hidden_layers
    )
      ctx.addIssue({
        code: 'custom',
        path: ['plmkit_layer_intermediate_sizes'],
        message: `needs one size per layer (${c.num_hidden_layers})`,
      });
    if (c.pad_token_id >= c.vocab_size)
      ctx.addIssue({
        code: 'custom',
        path: ['pad_token_id'],
        message: `pad_token_id ${c.pad_token_id} is outside the vocabulary (vocab_size ${c.vocab_size})`,
      });
    if (c.id2label !== undefined) {
      const n = Object.keys(c.id2label).length;
      for (let i = 0; i < n; i++)
        if (!(String(i) in c.id2label)) {
          ctx.addIssue({
            code: 'custom',
            path: ['id2label'],
            message: `id2label must have keys "0".."${n - 1}" but "${i}" is missing`,
          });
          return;
        }
      if (c.num_labels !== undefined && c.num_labels !== n)
        ctx.addIssue({
          code: 'custom',
          path: ['num_labels'],
          message: `num_labels ${c.num_labels} does not match id2label, which has ${n} labels`,
        });
      if (c.label2id !== undefined)
        for (const [i, label] of Object.entries(c.id2label))
          if (c.label2id[label] !== Number(i)) {
            ctx.addIssue({
              code: 'custom',
              path: ['label2id', label],
              message: `label2id[${JSON.stringify(label)}] should be ${i} to match id2label["${i}"]`,
            });
            return;
          }
    } else if (c.label2id !== undefined) {
      const ids = Object.values(c.label2id).sort((a, b) => a - b);
      if (!ids.every((id, i) => id === i))
        ctx.addIssue({
          code: 'custom',
          path: ['label2id'],
          message: 'label2id ids must be 0..n-1, each once',
        });
      else if (c.num_labels !== undefined && c.num_labels !== ids.length)
        ctx.addIssue({
          code: 'custom',
          path: ['num_labels'],
          message: `num_labels ${c.num_labels} does not match label2id, which has ${ids.length} labels`,
        });
    }
  })
  .transform((c): HfConfig => {
    // Normalize the labels as transformers does: id2label is authoritative, num_labels derived from it,
    // defaulting to two labels LABEL_0, LABEL_1.
    let id2label = c.id2label;
    if (id2label === undefined) {
      id2label = {};
      if (c.label2id !== undefined)
        for (const [label, id] of Object.entries(c.label2id)) id2label[String(id)] = label;
      else for (let i = 0; i < (c.num_labels ?? 2); i++) id2label[String(i)] = `LABEL_${i}`;
    }
    const label2id: Record<string, number> = {};
    for (const [i, label] of Object.entries(id2label)) label2id[label] = Number(i);
    return { ...c, id2label, label2id, num_labels: Object.keys(id2label).length };
  });

export class HfConfigError extends Error {
  readonly file: string;
  /** Dotted path of the key at fault ('' for the whole file). */
  readonly key: string;
  constructor(file: string, key: string, problem: string) {
    super(key ? `${file}: key "${key}": ${problem}` : `${file}: ${problem}`);
    this.name = 'HfConfigError';
    this.file = file;
    this.key = key;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): { present: boolean; value: unknown } {
  let cur: unknown = obj;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, k))
      return { present: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return { present: true, value: cur };
}

/** Validates a parsed config object; `file` is named in errors. Throws HfConfigError on the first problem. */
export function parseHfConfig(raw: unknown, file = CONFIG_FILE_NAME): HfConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new HfConfigError(file, '', `must hold a JSON object, got ${describe(raw)}`);
  const result = hfConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  const { present, value } = valueAt(raw, issue.path);
  let problem: string;
  if (issue.code === 'invalid_type' && !present)
    problem = `missing required key (expected ${issue.expected})`;
  else if (issue.code === 'invalid_type') problem = `expected ${issue.expected}, got ${describe(value)}`;
  else if (issue.code === 'invalid_value')
    problem = `got ${describe(value)}, expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (issue.code === 'custom') problem = issue.message;
  else problem = `${issue.message} (got ${describe(value)})`;
  const more =
    result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new HfConfigError(file, key, problem + more);
}

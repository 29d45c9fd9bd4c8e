// Text to model inputs in a browser, with @huggingface/tokenizers (pure JavaScript): the model's special
// tokens and type ids, and truncation of a long single text that keeps the special tokens.

import type { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import type { Encoded } from '../classify/batching.js';
import { maxSequenceLength, type ModelConfig } from '../nn/config.js';

export type BrowserInput = string | { readonly text: string; readonly textPair?: string };

/**
 * Token ids (and type ids) with the model's special tokens, labelled `label`. A single text longer than
 * `maxLength` (at most the model's positions) is cut at the end, keeping the special tokens; a pair that
 * long is refused.
 */
export function encodeInput(
  tokenizer: JsTokenizer,
  config: ModelConfig,
  input: BrowserInput,
  maxLength = 512,
  label = 0,
): Encoded {
  const { text, textPair } = typeof input === 'string' ? { text: input, textPair: undefined } : input;
  const limit = Math.min(maxLength, maxSequenceLength(config));
  const opts = { text_pair: textPair ?? null, return_token_type_ids: true as const };
  const full = tokenizer.encode(text, opts);
  if (full.ids.length <= limit) return { ids: full.ids, typeIds: full.token_type_ids, label };
  if (textPair !== undefined)
    throw new Error(
      `a text pair of ${full.ids.length} tokens exceeds ${limit}; truncating pairs is not supported here`,
    );
  // The template around a single text: its special tokens before and after the content.
  const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
  const ids0: number[] = full.ids;
  const at = (k: number) => content.every((id: number, j: number) => ids0[k + j] === id);
  const before = Array.from({ length: ids0.length - content.length + 1 }, (_, k) => k).find(at);
  if (before === undefined) throw new Error("the tokenizer's template does not contain the text's tokens");
  const after = full.ids.length - before - content.length;
  const keep = limit - before - after;
  const ids = [
    ...full.ids.slice(0, before),
    ...content.slice(0, keep),
    ...full.ids.slice(full.ids.length - after),
  ];
  return { ids, typeIds: new Array<number>(ids.length).fill(0), label };
}

// Text to model inputs in a browser, with @huggingface/tokenizers (pure JavaScript): the model's special
// tokens and type ids, and truncation of a long single text that keeps the special tokens.

import type { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import type { Encoded } from '../classify/batching.js';
import { maxSequenceLength, type ModelConfig } from '../nn/config.js';

export type BrowserInput = string | { readonly text: string; readonly textPair?: string };

/** The side long inputs are cut from: tokenizer_config.json's truncation_side (default right). */
export function truncationSide(tokenizerConfig: unknown): 'right' | 'left' {
  return (tokenizerConfig as { truncation_side?: unknown } | null)?.truncation_side === 'left'
    ? 'left'
    : 'right';
}

/**
 * How many content tokens of a text (n1) and its pair (n2) fit in `room`, by the longest-first rule of the
 * tokenizers library's source: the shorter keeps its length when the longer can make room alone; else
 * each gets half, the longer the odd token (the pair, when they are equally long). The native library
 * that the Node commands use sometimes gives that odd token to the other text instead (js-tokenizer.test.ts
 * counts how often on real sentences; repeated words do it too), so a pair that must be halved into an
 * odd budget can differ from Node's by one token moved between its two texts.
 */
export function longestFirst(n1: number, n2: number, room: number): [number, number] {
  if (n1 + n2 <= room) return [n1, n2];
  const swap = n1 > n2;
  const short = Math.min(n1, n2);
  // The longer gives up what the shorter leaves free, unless the shorter alone overflows the room.
  let kept: [number, number] = [short, short > room ? short : Math.max(short, room - short)];
  if (kept[0] + kept[1] > room) kept = [Math.floor(room / 2), Math.floor(room / 2) + (room % 2)];
  return swap ? [kept[1], kept[0]] : kept;
}

/**
 * Token ids (and type ids) with the model's special tokens, labelled `label`. Longer than `maxLength` (at
 * most the model's positions), a text is cut, and a pair longest-first (see longestFirst), from the end
 * (or from the start where `side` is "left", the tokenizer's truncation_side), keeping the special tokens.
 */
export function encodeInput(
  tokenizer: JsTokenizer,
  config: ModelConfig,
  input: BrowserInput,
  maxLength = 512,
  label = 0,
  side: 'right' | 'left' = 'right',
): Encoded {
  const { text, textPair } = typeof input === 'string' ? { text: input, textPair: undefined } : (input ?? {});
  if (typeof text !== 'string' || (textPair !== undefined && typeof textPair !== 'string'))
    throw new TypeError(
      `an input is a string or { text: string, textPair?: string }, got ${JSON.stringify(input) ?? String(input)}`,
    );
  const limit = Math.min(maxLength, maxSequenceLength(config));
  // The JavaScript library drops an empty pair, where the native one (and Node) encode it as a pair
  // with no tokens: a one-word stand-in is encoded instead, and its tokens are left out below.
  const emptyPair = textPair === '';
  const pairText = emptyPair ? 'a' : textPair;
  const opts = { text_pair: pairText ?? null, return_token_type_ids: true as const };
  const full = tokenizer.encode(text, opts);
  if (!emptyPair && full.ids.length <= limit) return { ids: full.ids, typeIds: full.token_type_ids, label };
  // Where the text's and the pair's tokens sit in the template; the rest are special tokens.
  const content = (t: string): number[] => tokenizer.encode(t, { add_special_tokens: false }).ids;
  const ids0: number[] = full.ids;
  const find = (seq: number[], from: number) => {
    for (let k = from; k + seq.length <= ids0.length; k++)
      if (seq.every((id, j) => ids0[k + j] === id)) return k;
    throw new Error("the tokenizer's template does not contain the text's tokens");
  };
  const a = content(text);
  const b = pairText === undefined ? [] : content(pairText);
  const pa = find(a, 0);
  const pb = textPair === undefined ? pa + a.length : find(b, pa + a.length);
  const room =
    Math.min(limit, ids0.length - (emptyPair ? b.length : 0)) - (ids0.length - a.length - b.length);
  if (room < 0)
    throw new Error(
      `maxLength ${limit} leaves no room beside the ${ids0.length - a.length - b.length} special tokens`,
    );
  const [na, nb] =
    textPair === undefined ? [room, 0] : longestFirst(a.length, emptyPair ? 0 : b.length, room);
  const kept = (start: number, len: number, keep: number) =>
    Array.from({ length: keep }, (_, i) => start + (side === 'left' ? len - keep : 0) + i);
  const positions = [
    ...Array.from({ length: pa }, (_, i) => i),
    ...kept(pa, a.length, na),
    ...Array.from({ length: pb - pa - a.length }, (_, i) => pa + a.length + i),
    ...kept(pb, b.length, nb),
    ...Array.from({ length: ids0.length - pb - b.length }, (_, i) => pb + b.length + i),
  ];
  const types: number[] = full.token_type_ids;
  return { ids: positions.map((p) => ids0[p]!), typeIds: positions.map((p) => types[p]!), label };
}

// A BERT / RoBERTa tokenizer over the `tokenizers` package: the Node bindings of Hugging Face's Rust `tokenizers`
// library, i.e. the same code that backs transformers' "fast" tokenizers. Normalization, pre-tokenization,
// WordPiece / byte-level BPE, special-token templates, offsets and longest-first truncation are all done there;
// this class adds the transformers-level conventions on top (tokenizer_config.json overrides, special-token roles,
// model_max_length, padding into row-major BigInt64Array tensors, UTF-16 offsets).

import type * as hf from 'tokenizers';
import {
  type AddedTokenJson,
  type ComponentJson,
  SPECIAL_TOKEN_ROLES,
  type SpecialTokenNames,
  type TokenizerConfigJson,
  type TokenizerJson,
  TokenizerFileError,
  specialTokenContent,
} from './hf-json.js';

type HfModule = typeof import('tokenizers');

let hfModule: Promise<HfModule> | undefined;

/** Loads the native bindings once, on first use (so importing this file does not load native code). */
async function loadHf(): Promise<HfModule> {
  hfModule ??= import('tokenizers').then((m) => {
    // CommonJS module: named exports are detected statically; fall back to the default export.
    const mod = m as HfModule & { default?: HfModule };
    return typeof mod.Tokenizer === 'function' ? mod : (mod.default as HfModule);
  });
  return hfModule;
}

/** transformers writes this (int(1e30)) as model_max_length when there is no limit. */
const NO_MAX_LENGTH = 1e15;

export type Padding = 'longest' | 'max_length' | false;

export interface EncodeOptions {
  /** Add the model's special tokens ([CLS] ... [SEP], <s> ... </s>). Default true. */
  addSpecialTokens?: boolean;
  /**
   * Truncate to `maxLength` tokens (special tokens included); pairs are truncated longest-first, as
   * transformers' `truncation=True` does. Default false.
   */
  truncation?: boolean;
  /** Maximum length for truncation and for `padding: 'max_length'`; default `modelMaxLength`. */
  maxLength?: number;
}

export interface EncodeBatchOptions extends EncodeOptions {
  /** 'longest' (default): pad to the longest row; 'max_length': pad to `maxLength`; false: rows must be equal. */
  padding?: Padding;
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
}

export interface Encoding {
  ids: number[];
  /** The token strings (for added tokens, their content). */
  tokens: string[];
  /**
   * [start, end) of each token in its input text, in UTF-16 code units (`text.slice(start, end)`); [0, 0] for
   * special tokens added by the template. For a pair, tokens with `sequenceIds[i] === 1` point into the pair text.
   */
  offsets: [number, number][];
  typeIds: number[];
  attentionMask: number[];
  /** 1 for tokens whose id is a special token (template-added or found in the text, [UNK] included), as in
   * transformers' get_special_tokens_mask(already_has_special_tokens=True). */
  specialTokensMask: number[];
  /** 0 / 1 for tokens of the first / second text, null for template-added special tokens. */
  sequenceIds: (number | null)[];
  /** Index of the pre-tokenized word each token comes from (null for special tokens). */
  wordIds: (number | null)[];
}

export interface BatchEncoding {
  /** [batch, seq] row-major. */
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** [batch, seq]: 1 for special and padding tokens. */
  specialTokensMask: Uint8Array;
  /** Per row, `seq` offsets ([0, 0] for special and padding tokens); see `Encoding.offsets`. */
  offsets: [number, number][][];
  /** Unpadded length of each row. */
  lengths: number[];
  batch: number;
  seq: number;
}

export interface DecodeOptions {
  /** Drop special tokens. Default false (as in transformers). */
  skipSpecialTokens?: boolean;
  /** transformers' `clean_up_tokenization` (" ." -> ".", " n't" -> "n't", ...). Default: the config's value. */
  cleanUpTokenizationSpaces?: boolean;
}

export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** Converts offsets in code points (what the bindings return) to UTF-16 code units, for texts with astral chars. */
function codePointToUtf16(text: string): ((cp: number) => number) | null {
  if (!/[\uD800-\uDFFF]/.test(text)) return null;
  const map: number[] = [];
  let unit = 0;
  for (const ch of text) {
    map.push(unit);
    unit += ch.length;
  }
  map.push(unit);
  return (cp) => map[Math.min(cp, map.length - 1)]!;
}

function cloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * Applies the tokenizer_config.json settings that transformers' fast tokenizers push into the backend:
 * BertTokenizerFast rebuilds its BertNormalizer when `do_lower_case` / `strip_accents` / `tokenize_chinese_chars`
 * disagree with it, RobertaTokenizerFast its ByteLevel pre-tokenizer / RobertaProcessing when `add_prefix_space`
 * / `trim_offsets` do. Here only keys that are present in the config are applied.
 */
function applyConfig(json: TokenizerJson, config: TokenizerConfigJson): TokenizerJson {
  const out = cloneJson(json);
  const norm = out.normalizer;
  if (norm?.type === 'BertNormalizer') {
    if (typeof config.do_lower_case === 'boolean') norm['lowercase'] = config.do_lower_case;
    if (
      'strip_accents' in config &&
      (config.strip_accents === null || typeof config.strip_accents === 'boolean')
    ) {
      norm['strip_accents'] = config.strip_accents;
    }
    if (typeof config.tokenize_chinese_chars === 'boolean')
      norm['handle_chinese_chars'] = config.tokenize_chinese_chars;
  }
  const byteLevelParts = (c: ComponentJson | null): ComponentJson[] =>
    c === null
      ? []
      : c.type === 'Sequence'
        ? ((c['pretokenizers'] ?? c['processors'] ?? []) as ComponentJson[]).flatMap(byteLevelParts)
        : c.type === 'ByteLevel' || c.type === 'RobertaProcessing'
          ? [c]
          : [];
  for (const part of [...byteLevelParts(out.pre_tokenizer), ...byteLevelParts(out.post_processor)]) {
    if (typeof config.add_prefix_space === 'boolean') part['add_prefix_space'] = config.add_prefix_space;
    if (typeof config.trim_offsets === 'boolean' && part.type === 'RobertaProcessing') {
      part['trim_offsets'] = config.trim_offsets;
    }
  }
  return out;
}

/** Special-token strings by role: the config's, else the post-processor's cls/sep, else conventional names. */
function resolveSpecialTokens(
  json: TokenizerJson,
  config: TokenizerConfigJson,
  has: (t: string) => boolean,
): SpecialTokenNames {
  const names: SpecialTokenNames = {};
  for (const role of SPECIAL_TOKEN_ROLES) {
    const v = specialTokenContent(config[`${role}_token`]);
    if (v !== undefined) names[role] = v;
  }
  const pp = json.post_processor;
  if (pp?.type === 'BertProcessing' || pp?.type === 'RobertaProcessing') {
    const cls = (pp['cls'] as [string, number] | undefined)?.[0];
    const sep = (pp['sep'] as [string, number] | undefined)?.[0];
    if (names.cls === undefined && cls !== undefined) names.cls = cls;
    if (names.sep === undefined && sep !== undefined) names.sep = sep;
  } else if (pp?.type === 'TemplateProcessing') {
    const single = (pp['single'] ?? []) as { SpecialToken?: { id: string } }[];
    const first = single[0]?.SpecialToken?.id;
    const last = single[single.length - 1]?.SpecialToken?.id;
    if (names.cls === undefined && first !== undefined) names.cls = first;
    if (names.sep === undefined && last !== undefined) names.sep = last;
  }
  const modelUnk = json.model.unk_token;
  if (names.unk === undefined && typeof modelUnk === 'string') names.unk = modelUnk;
  const conventional: Record<string, string[]> = {
    unk: ['[UNK]', '<unk>'],
    pad: ['[PAD]', '<pad>'],
    mask: ['[MASK]', '<mask>'],
    cls: ['[CLS]', '<s>'],
    sep: ['[SEP]', '</s>'],
  };
  if (json.model.type !== 'WordPiece') {
    // BERT has no bos/eos; byte-level BPE models (RoBERTa, GPT-2) use <s> </s> or <|endoftext|>.
    conventional['bos'] = ['<s>', '<|endoftext|>'];
    conventional['eos'] = ['</s>', '<|endoftext|>'];
  }
  for (const [role, candidates] of Object.entries(conventional)) {
    const r = role as keyof SpecialTokenNames;
    if (names[r] === undefined) {
      const found = candidates.find(has);
      if (found !== undefined) names[r] = found;
    }
  }
  return names;
}

export type TokenizerKind = 'wordpiece' | 'bpe' | 'other';

/**
 * A loaded tokenizer. Create with `Tokenizer.fromJson` (a tokenizer.json structure + tokenizer_config.json), or
 * with `loadTokenizer(dir)`; write with `saveTokenizer`.
 *
 * Encoding is asynchronous (the bindings run it off the main thread). Calls on one tokenizer are serialized,
 * since truncation is a setting of the underlying tokenizer.
 */
export class Tokenizer {
  /** The effective tokenizer.json structure (config overrides applied). */
  readonly json: TokenizerJson;
  /** tokenizer_config.json as loaded (special_tokens_map.json entries merged in where the config lacks them). */
  readonly config: TokenizerConfigJson;
  readonly kind: TokenizerKind;
  /** Special-token strings by role (bos, eos, unk, sep, pad, cls, mask), where the tokenizer has them. */
  readonly specialTokens: SpecialTokenNames;
  /** Number of ids (largest id + 1, added tokens included): the rows an embedding matrix needs. */
  readonly vocabSize: number;
  readonly padId: number | undefined;
  readonly clsId: number | undefined;
  readonly sepId: number | undefined;
  readonly maskId: number | undefined;
  readonly unkId: number | undefined;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Ids of all special tokens (special added tokens and the role tokens), ascending. */
  readonly specialIds: readonly number[];
  /** tokenizer_config.json's `model_max_length`, undefined when absent or "unlimited". */
  readonly modelMaxLength: number | undefined;
  readonly paddingSide: 'right' | 'left';
  readonly truncationSide: 'right' | 'left';

  private readonly specialIdSet: ReadonlySet<number>;
  private readonly addedContent: ReadonlyMap<number, string>;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The underlying `tokenizers` (Rust bindings) tokenizer. */
    readonly native: hf.Tokenizer,
    json: TokenizerJson,
    config: TokenizerConfigJson,
  ) {
    this.json = json;
    this.config = config;
    const modelType = json.model.type;
    this.kind = modelType === 'WordPiece' ? 'wordpiece' : modelType === 'BPE' ? 'bpe' : 'other';
    let size = native.getVocabSize(true);
    for (const i of Object.values(native.getVocab(true))) if (i >= size) size = i + 1;
    this.vocabSize = size;
    const has = (t: string): boolean => native.tokenToId(t) !== null;
    const names = resolveSpecialTokens(json, config, has);
    for (const role of SPECIAL_TOKEN_ROLES)
      if (names[role] !== undefined && !has(names[role])) delete names[role];
    this.specialTokens = names;
    const id = (t: string | undefined): number | undefined =>
      t === undefined ? undefined : (native.tokenToId(t) ?? undefined);
    this.padId = id(names.pad);
    this.clsId = id(names.cls);
    this.sepId = id(names.sep);
    this.maskId = id(names.mask);
    this.unkId = id(names.unk);
    this.bosId = id(names.bos);
    this.eosId = id(names.eos);
    const special = new Set<number>(json.added_tokens.filter((t) => t.special).map((t) => t.id));
    for (const role of SPECIAL_TOKEN_ROLES) {
      const i = id(names[role]);
      if (i !== undefined) special.add(i);
    }
    this.specialIdSet = special;
    this.addedContent = new Map(json.added_tokens.map((t) => [t.id, t.content]));
    this.specialIds = [...special].sort((a, b) => a - b);
    const mml = config.model_max_length;
    this.modelMaxLength =
      typeof mml === 'number' && Number.isSafeInteger(mml) && mml > 0 && mml < NO_MAX_LENGTH
        ? mml
        : undefined;
    this.paddingSide = config.padding_side === 'left' ? 'left' : 'right';
    this.truncationSide = config.truncation_side === 'left' ? 'left' : 'right';
  }

  /**
   * Builds a tokenizer from a tokenizer.json structure and (optionally) tokenizer_config.json. The config's
   * `do_lower_case` / `strip_accents` / `tokenize_chinese_chars` (BERT) and `add_prefix_space` / `trim_offsets`
   * (byte-level BPE) override the structure, as in transformers.
   */
  static async fromJson(json: TokenizerJson, config: TokenizerConfigJson = {}): Promise<Tokenizer> {
    if (json === null || typeof json !== 'object' || json.model === null || typeof json.model !== 'object') {
      throw new TokenizerFileError('tokenizer.json: expected an object with a "model"');
    }
    const full: TokenizerJson = {
      ...json,
      version: json.version ?? '1.0',
      truncation: null,
      padding: null,
      added_tokens: json.added_tokens ?? [],
      normalizer: json.normalizer ?? null,
      pre_tokenizer: json.pre_tokenizer ?? null,
      post_processor: json.post_processor ?? null,
      decoder: json.decoder ?? null,
    };
    const effective = applyConfig(full, config);
    const mod = await loadHf();
    let native: hf.Tokenizer;
    try {
      native = mod.Tokenizer.fromString(JSON.stringify(effective));
    } catch (e) {
      throw new TokenizerFileError(`the tokenizer could not be built: ${(e as Error).message}`);
    }
    return new Tokenizer(native, effective, config);
  }

  /** The added tokens (special tokens and user-added ones), by id. */
  get addedTokens(): readonly AddedTokenJson[] {
    return this.json.added_tokens;
  }

  tokenToId(token: string): number | undefined {
    return this.native.tokenToId(token) ?? undefined;
  }

  idToToken(id: number): string | undefined {
    return this.native.idToToken(id) ?? undefined;
  }

  /** Whether `id` is a special token. */
  isSpecialId(id: number): boolean {
    return this.specialIdSet.has(id);
  }

  /** Number of special tokens the template adds around one text (`pair` false) or a pair. */
  async numSpecialTokensToAdd(pair = false): Promise<number> {
    const e = await this.exclusive(async () => {
      this.native.disableTruncation();
      return pair ? this.native.encode('', '') : this.native.encode('');
    });
    return e.getLength();
  }

  /** Runs `fn` after every earlier call on this tokenizer has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private resolveMaxLength(options: EncodeOptions, needed: boolean, what: string): number | undefined {
    const max = options.maxLength ?? this.modelMaxLength;
    if (max !== undefined && (!Number.isSafeInteger(max) || max <= 0)) {
      throw new TokenizerError(`maxLength must be a positive integer, got ${max}`);
    }
    if (max === undefined && needed) {
      throw new TokenizerError(`${what} needs maxLength (the tokenizer has no model_max_length)`);
    }
    return max;
  }

  /**
   * Refuses a model whose word-embedding table has fewer rows than this tokenizer has ids: such ids would
   * index past the table in the middle of a run (a smaller tokenizer is fine, as in Hugging Face).
   */
  checkFitsModel(modelVocabSize: number, dir: string): void {
    if (this.vocabSize > modelVocabSize)
      throw new Error(
        `${dir}: the tokenizer has ${this.vocabSize} ids but config.json's vocab_size is ${modelVocabSize}; ` +
          `ids from ${modelVocabSize} up would fall outside the word-embedding table (mismatched tokenizer files?)`,
      );
  }

  /** Encodes texts (and pair texts) with the requested truncation; no padding. */
  private async encodeRaw(
    texts: readonly string[],
    pairs: readonly string[] | undefined,
    options: EncodeOptions,
  ) {
    if (pairs !== undefined && pairs.length !== texts.length) {
      throw new TokenizerError(`got ${texts.length} texts but ${pairs.length} pair texts`);
    }
    const truncation = options.truncation ?? false;
    const maxLength = this.resolveMaxLength(options, truncation, 'truncation');
    const addSpecialTokens = options.addSpecialTokens ?? true;
    const encodings = await this.exclusive(async () => {
      if (truncation) {
        this.native.setTruncation(maxLength!, {
          strategy: 'LongestFirst' as hf.TruncationStrategy,
          direction: this.truncationSide,
        });
      } else {
        this.native.disableTruncation();
      }
      try {
        return await Promise.all(
          texts.map((t, i) =>
            this.native.encode(t, pairs === undefined ? null : pairs[i]!, { addSpecialTokens }),
          ),
        );
      } catch (e) {
        throw new TokenizerError(`encoding failed: ${(e as Error).message}`);
      } finally {
        this.native.disableTruncation();
      }
    });
    if (truncation)
      for (const e of encodings) {
        const ids = e.getIds();
        // The native library truncates the texts to nothing and still adds every special token.
        if (ids.length > maxLength!) {
          const specials = e.getSequenceIds().filter((s) => s === undefined || s === null).length;
          throw new TokenizerError(
            `maxLength ${maxLength} leaves no room beside the ${specials} special tokens this tokenizer adds to ${pairs === undefined ? 'a text' : 'a text pair'}`,
          );
        }
      }
    return encodings.map((e, i) => this.toEncoding(e, texts[i]!, pairs?.[i]));
  }

  private toEncoding(e: hf.Encoding, text: string, pair: string | undefined): Encoding {
    const ids = e.getIds();
    const seqIds = e.getSequenceIds().map((s) => (s === undefined ? null : s));
    const maps = [codePointToUtf16(text), pair === undefined ? null : codePointToUtf16(pair)];
    const offsets = e.getOffsets().map((o, i): [number, number] => {
      const s = seqIds[i];
      const conv = s === null ? null : maps[s];
      const start = o[0]!;
      const end = o[1]!;
      return conv ? [conv(start), conv(end)] : [start, end];
    });
    const stm = e.getSpecialTokensMask();
    return {
      ids,
      // An added token with lstrip/rstrip comes back as the matched text (" <mask>"): report its content.
      tokens: e.getTokens().map((t, i) => this.addedContent.get(ids[i]!) ?? t),
      offsets,
      typeIds: e.getTypeIds(),
      attentionMask: e.getAttentionMask(),
      specialTokensMask: ids.map((id, i) => (stm[i] === 1 || this.specialIdSet.has(id) ? 1 : 0)),
      sequenceIds: seqIds,
      wordIds: e.getWordIds().map((w) => (w === undefined ? null : w)),
    };
  }

  /** Encodes one text (or a pair): ids, tokens, offsets, type ids. No padding. */
  async encode(text: string, pair?: string, options: EncodeOptions = {}): Promise<Encoding> {
    const [e] = await this.encodeRaw([text], pair === undefined ? undefined : [pair], options);
    return e!;
  }

  /** Tokens of `text` without special tokens. */
  async tokenize(text: string): Promise<string[]> {
    return (await this.encode(text, undefined, { addSpecialTokens: false })).tokens;
  }

  /**
   * Encodes a batch into padded [batch, seq] tensors. With `pairs`, row i encodes (texts[i], pairs[i]):
   * BERT "[CLS] A [SEP] B [SEP]" with token type ids 0 / 1, RoBERTa "<s> A </s></s> B </s>" (type ids 0).
   */
  async encodeBatch(
    texts: readonly string[],
    pairs?: readonly string[],
    options: EncodeBatchOptions = {},
  ): Promise<BatchEncoding> {
    const padding = options.padding ?? 'longest';
    const fixed = this.resolveMaxLength(options, padding === 'max_length', "padding: 'max_length'");
    const rows = await this.encodeRaw(texts, pairs, options);
    const lengths = rows.map((r) => r.ids.length);
    const longest = Math.max(0, ...lengths);
    let seq: number;
    if (padding === 'max_length') {
      if (longest > fixed!) {
        throw new TokenizerError(
          `a row has ${longest} tokens, more than maxLength ${fixed}: enable truncation or pad to 'longest'`,
        );
      }
      seq = fixed!;
    } else if (padding === 'longest') {
      seq = longest;
    } else {
      if (lengths.some((n) => n !== longest)) {
        throw new TokenizerError(
          `rows have different lengths (${Math.min(...lengths)}..${longest}) and padding is off`,
        );
      }
      seq = longest;
    }
    const mult = options.padToMultipleOf;
    if (padding !== false && mult !== undefined) {
      if (!Number.isSafeInteger(mult) || mult <= 0)
        throw new TokenizerError(`padToMultipleOf must be a positive integer`);
      seq = Math.ceil(seq / mult) * mult;
    }
    if (seq > longest && this.padId === undefined) {
      throw new TokenizerError('padding needs a pad token, and this tokenizer has none');
    }
    const batch = rows.length;
    const inputIds = new BigInt64Array(batch * seq).fill(BigInt(this.padId ?? 0));
    const attentionMask = new BigInt64Array(batch * seq);
    const tokenTypeIds = new BigInt64Array(batch * seq);
    const specialTokensMask = new Uint8Array(batch * seq).fill(1);
    const offsets: [number, number][][] = [];
    rows.forEach((r, b) => {
      const n = r.ids.length;
      const shift = this.paddingSide === 'left' ? seq - n : 0;
      const rowOffsets: [number, number][] = Array.from({ length: seq }, (): [number, number] => [0, 0]);
      for (let i = 0; i < n; i++) {
        const k = b * seq + shift + i;
        inputIds[k] = BigInt(r.ids[i]!);
        attentionMask[k] = 1n;
        tokenTypeIds[k] = BigInt(r.typeIds[i]!);
        specialTokensMask[k] = r.specialTokensMask[i]!;
        rowOffsets[shift + i] = r.offsets[i]!;
      }
      offsets.push(rowOffsets);
    });
    return { inputIds, attentionMask, tokenTypeIds, specialTokensMask, offsets, lengths, batch, seq };
  }

  /** Decodes ids to text (the tokenizer's decoder: WordPiece "##" joining, byte-level bytes -> UTF-8). */
  async decode(
    ids: ArrayLike<number | bigint> | Iterable<number | bigint>,
    options: DecodeOptions = {},
  ): Promise<string> {
    const list = Array.from(ids as Iterable<number | bigint>, (x) => Number(x));
    if (list.length === 0) return '';
    const text = await this.native.decode(list, options.skipSpecialTokens ?? false);
    const cleanUp = options.cleanUpTokenizationSpaces ?? this.config.clean_up_tokenization_spaces === true;
    return cleanUp ? cleanUpTokenization(text) : text;
  }

  /** Writes the backend's own serialization of tokenizer.json to `path` (truncation/padding settings off). */
  async writeTokenizerJson(path: string): Promise<void> {
    await this.exclusive(async () => {
      this.native.disableTruncation();
      this.native.disablePadding();
      this.native.save(path, true);
    });
  }
}

/** transformers' `clean_up_tokenization`: removes the spaces a word-level decode leaves before punctuation. */
export function cleanUpTokenization(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

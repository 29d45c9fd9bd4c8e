// The Hugging Face `tokenizer.json` structure (as the Rust `tokenizers` library serializes it), and builders
// that turn the "slow" vocabulary files into it:
//
// - `vocab.txt` (BERT WordPiece) -> what transformers' `BertConverter` produces for BertTokenizerFast:
//   BertNormalizer (clean_text, handle_chinese_chars, strip_accents, lowercase), BertPreTokenizer, WordPiece
//   model with "##" continuation prefix, TemplateProcessing "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1",
//   WordPiece decoder.
// - `vocab.json` + `merges.txt` (GPT-2 / RoBERTa byte-level BPE) -> what `RobertaConverter` produces for
//   RobertaTokenizerFast: no normalizer, ByteLevel pre-tokenizer, BPE model without unk token, RobertaProcessing
//   "<s> A </s>" / "<s> A </s></s> B </s>" (all type ids 0), ByteLevel decoder.
//
// The tokenization itself is done by the `tokenizers` package (the Node bindings of the Rust library) from this
// structure; nothing here tokenizes.

/** One entry of `added_tokens` in tokenizer.json. */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A component (normalizer, pre-tokenizer, post-processor, decoder): tagged by `type`, other keys as serialized. */
export interface ComponentJson {
  type: string;
  [key: string]: unknown;
}

export interface ModelJson {
  type?: string;
  /** WordPiece / BPE / WordLevel: token -> id. (Unigram uses [token, score][]: kept as is, not interpreted.) */
  vocab?: Record<string, number> | unknown;
  /** BPE merges: "a b" strings (older files) or ["a", "b"] pairs (tokenizers >= 0.20). */
  merges?: (string | [string, string])[];
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  [key: string]: unknown;
}

export interface TokenizerJson {
  version: string;
  truncation: unknown;
  padding: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: ComponentJson | null;
  pre_tokenizer: ComponentJson | null;
  post_processor: ComponentJson | null;
  decoder: ComponentJson | null;
  model: ModelJson;
  [key: string]: unknown;
}

/** A special token as written in tokenizer_config.json / special_tokens_map.json: a string or an AddedToken dict. */
export type SpecialTokenValue =
  | string
  | { content: string; lstrip?: boolean; rstrip?: boolean; normalized?: boolean; single_word?: boolean };

/** The keys of tokenizer_config.json that we read or write; others are kept as they are. */
export interface TokenizerConfigJson {
  tokenizer_class?: string;
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  add_prefix_space?: boolean;
  trim_offsets?: boolean;
  model_max_length?: number;
  padding_side?: 'right' | 'left';
  truncation_side?: 'right' | 'left';
  clean_up_tokenization_spaces?: boolean;
  cls_token?: SpecialTokenValue | null;
  sep_token?: SpecialTokenValue | null;
  pad_token?: SpecialTokenValue | null;
  unk_token?: SpecialTokenValue | null;
  mask_token?: SpecialTokenValue | null;
  bos_token?: SpecialTokenValue | null;
  eos_token?: SpecialTokenValue | null;
  additional_special_tokens?: SpecialTokenValue[];
  added_tokens_decoder?: Record<string, Omit<AddedTokenJson, 'id'>>;
  [key: string]: unknown;
}

/** The named special-token roles of transformers' tokenizers. */
export const SPECIAL_TOKEN_ROLES = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'] as const;
export type SpecialTokenRole = (typeof SPECIAL_TOKEN_ROLES)[number];
export type SpecialTokenNames = Partial<Record<SpecialTokenRole, string>>;

export const BERT_SPECIAL_TOKENS: Readonly<Required<Omit<SpecialTokenNames, 'bos' | 'eos'>>> = {
  unk: '[UNK]',
  sep: '[SEP]',
  pad: '[PAD]',
  cls: '[CLS]',
  mask: '[MASK]',
};

export const ROBERTA_SPECIAL_TOKENS: Readonly<Required<SpecialTokenNames>> = {
  bos: '<s>',
  eos: '</s>',
  unk: '<unk>',
  sep: '</s>',
  pad: '<pad>',
  cls: '<s>',
  mask: '<mask>',
};

export class TokenizerFileError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(file === undefined ? message : `${file}: ${message}`);
    this.name = 'TokenizerFileError';
  }
}

/** The content of a special-token value (string or AddedToken dict); undefined for null/absent/malformed. */
export function specialTokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  return undefined;
}

/**
 * Parses a BERT `vocab.txt`: one token per line, the id is the line number. Like transformers' `load_vocab`,
 * only the line terminator is removed (a token may contain other whitespace); a final empty line is not a token.
 * A token that appears twice keeps the later id (as `load_vocab` does).
 */
export function parseVocabTxt(text: string, file?: string): Record<string, number> {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  lines.forEach((line, i) => {
    vocab[line.endsWith('\r') ? line.slice(0, -1) : line] = i;
  });
  if (lines.length === 0) throw new TokenizerFileError('empty vocabulary', file);
  return vocab;
}

/** Parses a `vocab.json` (token -> id). */
export function parseVocabJson(text: string, file?: string): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new TokenizerFileError(`invalid JSON (${(e as Error).message})`, file);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TokenizerFileError('expected an object mapping tokens to ids', file);
  }
  const vocab: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [token, id] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) {
      throw new TokenizerFileError(
        `token ${JSON.stringify(token)} has id ${String(id)}, not an integer >= 0`,
        file,
      );
    }
    vocab[token] = id;
  }
  if (Object.keys(vocab).length === 0) throw new TokenizerFileError('empty vocabulary', file);
  return vocab;
}

/**
 * Parses a GPT-2 style `merges.txt`: an optional "#version: ..." first line, then one merge "left right" per
 * line, in priority order. Empty lines are skipped (as the `tokenizers` reader does).
 */
export function parseMergesTxt(text: string, file?: string): string[] {
  const merges: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerFileError(`line ${i + 1}: expected "left right", got ${JSON.stringify(line)}`, file);
    }
    merges.push(line);
  });
  return merges;
}

function addedToken(id: number, content: string, lstrip = false): AddedTokenJson {
  return { id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true };
}

/**
 * Makes sure every special token is in the vocabulary (appending missing ones after the largest id, as
 * transformers does when a special token is not in the vocab file) and returns the `added_tokens` list,
 * sorted by id. `lstrip` names the tokens that swallow the whitespace before them (RoBERTa's <mask>).
 */
function specialAddedTokens(
  vocab: Record<string, number>,
  names: SpecialTokenNames,
  extra: readonly string[],
  lstrip: ReadonlySet<string> = new Set(),
  declared: readonly AddedTokenJson[] = [],
): AddedTokenJson[] {
  // tokenizer_config.json's added_tokens_decoder states ids and flags, as transformers reads it.
  const added: AddedTokenJson[] = declared.map((t) => ({ ...t }));
  for (const t of added) vocab[t.content] = t.id;
  const given = new Set(added.map((t) => t.content));
  const contents = [...new Set([...Object.values(names), ...extra])].filter((c) => !given.has(c));
  let next = Math.max(-1, ...Object.values(vocab)) + 1;
  for (const content of contents) {
    const id = Object.hasOwn(vocab, content) ? vocab[content]! : next++;
    added.push(addedToken(id, content, lstrip.has(content)));
  }
  return added.sort((a, b) => a.id - b.id);
}

export interface WordPieceJsonOptions {
  /** Lowercase (BERT uncased). Default true, like BertTokenizer's `do_lower_case`. */
  lowercase?: boolean;
  /** Strip accents; null (default) means "same as lowercase". */
  stripAccents?: boolean | null;
  /** Put spaces around CJK characters. Default true. */
  handleChineseChars?: boolean;
  /** Special token strings; defaults to [UNK] [SEP] [PAD] [CLS] [MASK]. */
  specialTokens?: Omit<SpecialTokenNames, 'bos' | 'eos'>;
  /** Further special tokens (`additional_special_tokens`). */
  additionalSpecialTokens?: readonly string[];
  /** Added tokens with their ids and flags (tokenizer_config.json's `added_tokens_decoder`). */
  addedTokens?: readonly AddedTokenJson[];
  continuingSubwordPrefix?: string;
  maxInputCharsPerWord?: number;
}

/** tokenizer.json for a BERT WordPiece vocabulary (what BertTokenizerFast serializes). */
export function wordPieceTokenizerJson(
  vocabIn: Record<string, number>,
  options: WordPieceJsonOptions = {},
): TokenizerJson {
  const vocab: Record<string, number> = { ...vocabIn };
  const names = { ...BERT_SPECIAL_TOKENS, ...options.specialTokens };
  const added = specialAddedTokens(
    vocab,
    names,
    options.additionalSpecialTokens ?? [],
    new Set(),
    options.addedTokens,
  );
  for (const t of added) vocab[t.content] = t.id;
  const prefix = options.continuingSubwordPrefix ?? '##';
  const cls = names.cls;
  const sep = names.sep;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: options.handleChineseChars ?? true,
      strip_accents: options.stripAccents ?? null,
      lowercase: options.lowercase ?? true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sep, type_id: 1 } },
      ],
      special_tokens: {
        [cls]: { id: cls, ids: [vocab[cls]!], tokens: [cls] },
        [sep]: { id: sep, ids: [vocab[sep]!], tokens: [sep] },
      },
    },
    decoder: { type: 'WordPiece', prefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk,
      continuing_subword_prefix: prefix,
      max_input_chars_per_word: options.maxInputCharsPerWord ?? 100,
      vocab,
    },
  };
}

export interface ByteLevelBpeJsonOptions {
  /** Add a space before the text so the first word is encoded like the others. Default false (RoBERTa). */
  addPrefixSpace?: boolean;
  /** Leave the whitespace (Ġ) out of the token offsets. Default true (RoBERTa). */
  trimOffsets?: boolean;
  /** Special token strings; defaults to RoBERTa's <s> </s> <unk> <pad> <mask>. */
  specialTokens?: SpecialTokenNames;
  additionalSpecialTokens?: readonly string[];
  /** Added tokens with their ids and flags (tokenizer_config.json's `added_tokens_decoder`). */
  addedTokens?: readonly AddedTokenJson[];
}

/** tokenizer.json for a byte-level BPE vocabulary + merges (what RobertaTokenizerFast serializes). */
export function byteLevelBpeTokenizerJson(
  vocabIn: Record<string, number>,
  merges: readonly string[],
  options: ByteLevelBpeJsonOptions = {},
): TokenizerJson {
  const vocab: Record<string, number> = { ...vocabIn };
  const names = { ...ROBERTA_SPECIAL_TOKENS, ...options.specialTokens };
  // RobertaTokenizer's <mask> is AddedToken(lstrip=True): "Hello <mask>" matches " <mask>" as one token.
  const added = specialAddedTokens(
    vocab,
    names,
    options.additionalSpecialTokens ?? [],
    new Set([names.mask]),
    options.addedTokens,
  );
  for (const t of added) vocab[t.content] = t.id;
  const addPrefixSpace = options.addPrefixSpace ?? false;
  const trimOffsets = options.trimOffsets ?? true;
  const byteLevel = { add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: {
      type: 'RobertaProcessing',
      sep: [names.sep, vocab[names.sep]!],
      cls: [names.cls, vocab[names.cls]!],
      trim_offsets: trimOffsets,
      add_prefix_space: addPrefixSpace,
    },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [...merges],
    },
  };
}

/**
 * The standard GPT-2 byte -> printable character table used by byte-level BPE (printable Latin-1 bytes map to
 * themselves, the others to U+0100 upwards: space -> "Ġ", newline -> "Ċ"). `tokenizers` has it built in; this
 * copy is for building vocabularies and reading token strings.
 */
export function bytesToUnicode(): string[] {
  const table = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + n++);
  }
  return table;
}

// Loading and saving tokenizer directories in the Hugging Face layout.
//
// Loading (`loadTokenizer(dir)`), first match wins:
//   1. tokenizer.json                 (any model the `tokenizers` library serializes; BERT and RoBERTa tested)
//   2. vocab.json + merges.txt        -> byte-level BPE, RoBERTa conventions (see hf-json.ts)
//   3. vocab.txt                      -> WordPiece, BERT conventions (uncased unless do_lower_case is false)
// plus, when present, tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
// add_prefix_space, trim_offsets, model_max_length, padding_side, truncation_side, special tokens) and
// special_tokens_map.json (special tokens the config does not name). The files' texts become the
// tokenizer.json object in ./from-texts.ts, which browsers use too.
//
// Saving (`saveTokenizer(tok, dir)`) writes tokenizer.json (serialized by the `tokenizers` library itself),
// tokenizer_config.json, special_tokens_map.json, and the slow-tokenizer vocabulary (vocab.txt for WordPiece,
// vocab.json + merges.txt for BPE), so that transformers' `AutoTokenizer.from_pretrained(dir)` loads it.
// Every file is written atomically: a temporary file in the same directory, then a rename.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import {
  type AddedTokenJson,
  type SpecialTokenValue,
  SPECIAL_TOKEN_ROLES,
  type TokenizerConfigJson,
  TokenizerFileError,
} from './hf-json.js';
import {
  additionalSpecialTokens,
  BPE_MERGES_FILE,
  BPE_VOCAB_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  readTokenizerTexts,
  WORDPIECE_VOCAB_FILE,
  tokenizerConfigFromTexts,
  tokenizerJsonFromTexts,
  type TokenizerTexts,
  type WhereIs,
} from './from-texts.js';

export {
  BPE_MERGES_FILE,
  BPE_VOCAB_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  WORDPIECE_VOCAB_FILE,
};
import { Tokenizer } from './tokenizer.js';

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The text of the tokenizer files a directory holds (see readTokenizerTexts). */
const readTexts = (dir: string): Promise<TokenizerTexts> =>
  readTokenizerTexts((f) => readOptional(join(dir, f)));

const whereIn =
  (dir: string): WhereIs =>
  (file) =>
    file === undefined ? dir : join(dir, file);

/** Reads tokenizer_config.json and special_tokens_map.json (the config wins where both name a token). */
export async function readTokenizerConfig(dir: string): Promise<TokenizerConfigJson> {
  return tokenizerConfigFromTexts(await readTexts(dir), whereIn(dir));
}

export interface LoadTokenizerOptions {
  /** Values that replace (or add to) tokenizer_config.json's, e.g. `{ do_lower_case: false }`. */
  config?: TokenizerConfigJson;
}

/** Loads a tokenizer directory (see the top of this file for the files it looks for). */
export async function loadTokenizer(dir: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const texts = await readTexts(dir);
  const where = whereIn(dir);
  const config: TokenizerConfigJson = { ...tokenizerConfigFromTexts(texts, where), ...options.config };
  const json = tokenizerJsonFromTexts(texts, config, where);
  // The files the tokenizer was built from, for the message when the native library refuses it.
  const source =
    texts[TOKENIZER_FILE] !== undefined
      ? where(TOKENIZER_FILE)
      : texts[BPE_VOCAB_FILE] !== undefined && texts[BPE_MERGES_FILE] !== undefined
        ? `${where(BPE_VOCAB_FILE)} + ${BPE_MERGES_FILE}`
        : where(WORDPIECE_VOCAB_FILE);
  try {
    return await Tokenizer.fromJson(json, config);
  } catch (e) {
    throw e instanceof TokenizerFileError && e.file === undefined
      ? new TokenizerFileError(e.message, source)
      : e;
  }
}

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

function vocabInIdOrder(vocab: Record<string, number>, file: string): string[] {
  const entries = Object.entries(vocab).sort((a, b) => a[1] - b[1]);
  entries.forEach(([token, id], i) => {
    if (id !== i) {
      throw new TokenizerFileError(
        `cannot write: vocabulary ids are not 0..${entries.length - 1} (token ${JSON.stringify(token)} has id ${id})`,
        file,
      );
    }
  });
  return entries.map(([token]) => token);
}

function addedTokenEntry(t: AddedTokenJson): Omit<AddedTokenJson, 'id'> {
  return {
    content: t.content,
    lstrip: t.lstrip,
    normalized: t.normalized,
    rstrip: t.rstrip,
    single_word: t.single_word,
    special: t.special,
  };
}

/** tokenizer_config.json contents for a tokenizer (its loaded config, updated to describe what is saved). */
export function tokenizerConfigFor(tok: Tokenizer): TokenizerConfigJson {
  const cfg: TokenizerConfigJson = { ...tok.config };
  delete cfg['tokenizer_file'];
  delete cfg['vocab_file'];
  delete cfg['merges_file'];
  const norm = tok.json.normalizer;
  const pre = tok.json.pre_tokenizer;
  const post = tok.json.post_processor;
  if (norm?.type === 'BertNormalizer') {
    cfg.do_lower_case = norm['lowercase'] === true;
    cfg.strip_accents = typeof norm['strip_accents'] === 'boolean' ? norm['strip_accents'] : null;
    cfg.tokenize_chinese_chars = norm['handle_chinese_chars'] !== false;
  }
  if (pre?.type === 'ByteLevel') {
    cfg.add_prefix_space = pre['add_prefix_space'] === true;
    if (post?.type === 'RobertaProcessing') cfg.trim_offsets = post['trim_offsets'] !== false;
    cfg['errors'] ??= 'replace';
  }
  for (const role of SPECIAL_TOKEN_ROLES) {
    const name = tok.specialTokens[role];
    if (name !== undefined) cfg[`${role}_token`] = name;
  }
  cfg.added_tokens_decoder = Object.fromEntries(
    tok.addedTokens.map((t) => [String(t.id), addedTokenEntry(t)]),
  );
  if (tok.modelMaxLength !== undefined) cfg.model_max_length = tok.modelMaxLength;
  cfg.clean_up_tokenization_spaces ??= tok.kind === 'wordpiece';
  cfg.tokenizer_class ??=
    tok.kind === 'wordpiece' && norm?.type === 'BertNormalizer'
      ? 'BertTokenizer'
      : tok.kind === 'bpe' && pre?.type === 'ByteLevel' && post?.type === 'RobertaProcessing'
        ? 'RobertaTokenizer'
        : 'PreTrainedTokenizerFast';
  return cfg;
}

/** special_tokens_map.json contents: each role's token as an AddedToken dict (plain string when not added). */
export function specialTokensMapFor(tok: Tokenizer): Record<string, SpecialTokenValue | SpecialTokenValue[]> {
  const byContent = new Map(tok.addedTokens.map((t) => [t.content, t]));
  const value = (content: string): SpecialTokenValue => {
    const t = byContent.get(content);
    if (t === undefined) return content;
    return {
      content: t.content,
      lstrip: t.lstrip,
      normalized: t.normalized,
      rstrip: t.rstrip,
      single_word: t.single_word,
    };
  };
  const map: Record<string, SpecialTokenValue | SpecialTokenValue[]> = {};
  for (const role of SPECIAL_TOKEN_ROLES) {
    const name = tok.specialTokens[role];
    if (name !== undefined) map[`${role}_token`] = value(name);
  }
  const extra = additionalSpecialTokens(tok.config);
  if (extra.length > 0) map['additional_special_tokens'] = extra.map(value);
  return map;
}

/**
 * Saves a tokenizer directory loadable by `loadTokenizer` and by transformers' `AutoTokenizer.from_pretrained`:
 * tokenizer.json, tokenizer_config.json, special_tokens_map.json, and vocab.txt (WordPiece) or vocab.json +
 * merges.txt (BPE). Returns the paths written.
 */
export async function saveTokenizer(tok: Tokenizer, dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string): Promise<void> => {
    const path = join(dir, name);
    await writeFileAtomic(path, data);
    written.push(path);
  };
  const model = tok.json.model;
  const vocab = model.vocab as Record<string, number> | undefined;
  if (tok.kind === 'wordpiece' && vocab !== undefined) {
    const tokens = vocabInIdOrder(vocab, join(dir, WORDPIECE_VOCAB_FILE));
    await write(WORDPIECE_VOCAB_FILE, tokens.join('\n') + '\n');
  } else if (tok.kind === 'bpe' && vocab !== undefined) {
    const ordered = Object.fromEntries(Object.entries(vocab).sort((a, b) => a[1] - b[1]));
    await write(BPE_VOCAB_FILE, JSON.stringify(ordered));
    const merges = (model.merges ?? []).map((m) => (typeof m === 'string' ? m : m.join(' ')));
    await write(BPE_MERGES_FILE, ['#version: 0.2', ...merges].join('\n') + '\n');
  }

  const tokPath = join(dir, TOKENIZER_FILE);
  const tmp = tempPathFor(tokPath);
  try {
    await tok.writeTokenizerJson(tmp);
    await rename(tmp, tokPath);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  written.push(tokPath);

  await write(SPECIAL_TOKENS_MAP_FILE, JSON.stringify(specialTokensMapFor(tok), null, 2) + '\n');
  await write(TOKENIZER_CONFIG_FILE, JSON.stringify(tokenizerConfigFor(tok), null, 2) + '\n');
  return written;
}

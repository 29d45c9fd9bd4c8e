// A tokenizer directory's files, given as text, into the tokenizer.json object and the config that a
// tokenizer is built from, with no file system (browsers use it too; ./files.ts reads a directory). First
// match wins: tokenizer.json; vocab.json + merges.txt (byte-level BPE, RoBERTa conventions); vocab.txt
// (WordPiece, BERT conventions). tokenizer_config.json and special_tokens_map.json add settings and special
// tokens (the config wins where both name a token).

import {
  SPECIAL_TOKEN_ROLES,
  type AddedTokenJson,
  type TokenizerConfigJson,
  type TokenizerJson,
  TokenizerFileError,
  byteLevelBpeTokenizerJson,
  parseMergesTxt,
  parseVocabJson,
  parseVocabTxt,
  specialTokenContent,
  wordPieceTokenizerJson,
} from './hf-json.js';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';
export const SPECIAL_TOKENS_MAP_FILE = 'special_tokens_map.json';
export const WORDPIECE_VOCAB_FILE = 'vocab.txt';
export const BPE_VOCAB_FILE = 'vocab.json';
export const BPE_MERGES_FILE = 'merges.txt';

/** The files a tokenizer may be read from. */
export type TokenizerFile =
  | typeof TOKENIZER_FILE
  | typeof TOKENIZER_CONFIG_FILE
  | typeof SPECIAL_TOKENS_MAP_FILE
  | typeof BPE_VOCAB_FILE
  | typeof BPE_MERGES_FILE
  | typeof WORDPIECE_VOCAB_FILE;

/** The text of a tokenizer directory's files, by file name (absent files left out). */
export type TokenizerTexts = Partial<Record<TokenizerFile, string>>;

/**
 * The texts a tokenizer needs, read with `read` (undefined for an absent file): the configs and
 * tokenizer.json, and the vocabulary files only where there is no tokenizer.json.
 */
export async function readTokenizerTexts(
  read: (file: TokenizerFile) => Promise<string | undefined>,
): Promise<TokenizerTexts> {
  const texts: TokenizerTexts = {};
  const take = async (files: readonly TokenizerFile[]) => {
    const got = await Promise.all(files.map(read));
    files.forEach((f, i) => {
      if (got[i] !== undefined) texts[f] = got[i];
    });
  };
  await take([TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE]);
  if (texts[TOKENIZER_FILE] === undefined) await take([BPE_VOCAB_FILE, BPE_MERGES_FILE]);
  if (
    texts[TOKENIZER_FILE] === undefined &&
    (texts[BPE_VOCAB_FILE] === undefined || texts[BPE_MERGES_FILE] === undefined)
  )
    await take([WORDPIECE_VOCAB_FILE]);
  return texts;
}

/** Where a file of the directory is, for error messages (the directory itself without a file name). */
export type WhereIs = (file?: string) => string;

function parseJsonObject(text: string, file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TokenizerFileError(`invalid JSON (${(e as Error).message})`, file);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new TokenizerFileError('expected a JSON object', file);
  return v as Record<string, unknown>;
}

/** tokenizer_config.json with special_tokens_map.json's tokens where the config names none, checked. */
export function tokenizerConfigFromTexts(texts: TokenizerTexts, where: WhereIs): TokenizerConfigJson {
  const cfgPath = where(TOKENIZER_CONFIG_FILE);
  const cfgText = texts[TOKENIZER_CONFIG_FILE];
  const mapText = texts[SPECIAL_TOKENS_MAP_FILE];
  const config: TokenizerConfigJson = cfgText === undefined ? {} : parseJsonObject(cfgText, cfgPath);
  if (mapText !== undefined) {
    const map = parseJsonObject(mapText, where(SPECIAL_TOKENS_MAP_FILE));
    for (const [k, v] of Object.entries(map))
      if (config[k] === undefined || config[k] === null) config[k] = v;
  }
  for (const key of [
    'do_lower_case',
    'add_prefix_space',
    'trim_offsets',
    'tokenize_chinese_chars',
  ] as const) {
    if (config[key] !== undefined && typeof config[key] !== 'boolean') {
      throw new TokenizerFileError(`"${key}" must be a boolean`, cfgPath);
    }
  }
  if (config.model_max_length !== undefined && typeof config.model_max_length !== 'number') {
    throw new TokenizerFileError('"model_max_length" must be a number', cfgPath);
  }
  if (
    config.strip_accents !== undefined &&
    config.strip_accents !== null &&
    typeof config.strip_accents !== 'boolean'
  )
    throw new TokenizerFileError('"strip_accents" must be a boolean or null', cfgPath);
  for (const key of ['padding_side', 'truncation_side'] as const)
    if (config[key] !== undefined && config[key] !== 'right' && config[key] !== 'left')
      throw new TokenizerFileError(`"${key}" must be "right" or "left"`, cfgPath);
  for (const role of SPECIAL_TOKEN_ROLES) {
    const v = config[`${role}_token`];
    if (v !== undefined && v !== null && !isSpecialTokenValue(v))
      throw new TokenizerFileError(
        `"${role}_token" must be a string or an object with a string "content"`,
        cfgPath,
      );
  }
  const extra = config.additional_special_tokens as unknown;
  if (extra !== undefined && extra !== null && (!Array.isArray(extra) || !extra.every(isSpecialTokenValue)))
    throw new TokenizerFileError(
      '"additional_special_tokens" must be a list of strings or objects with a string "content"',
      cfgPath,
    );
  return config;
}

function isSpecialTokenValue(v: unknown): boolean {
  return (
    typeof v === 'string' ||
    (typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string')
  );
}

function roleNames(config: TokenizerConfigJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const role of SPECIAL_TOKEN_ROLES) {
    const v = specialTokenContent(config[`${role}_token`]);
    if (v !== undefined) out[role] = v;
  }
  return out;
}

/** The config's additional_special_tokens, as plain strings. */
export function additionalSpecialTokens(config: TokenizerConfigJson): string[] {
  return (config.additional_special_tokens ?? [])
    .map(specialTokenContent)
    .filter((t): t is string => t !== undefined);
}

/** The tokenizer.json object the files describe (built from the vocabulary files when there is none). */
export function tokenizerJsonFromTexts(
  texts: TokenizerTexts,
  config: TokenizerConfigJson,
  where: WhereIs,
): TokenizerJson {
  const tokText = texts[TOKENIZER_FILE];
  if (tokText !== undefined) {
    const json = parseJsonObject(tokText, where(TOKENIZER_FILE));
    if (json['model'] === null || typeof json['model'] !== 'object') {
      throw new TokenizerFileError('no "model" object', where(TOKENIZER_FILE));
    }
    return json as unknown as TokenizerJson;
  }
  const vocabJson = texts[BPE_VOCAB_FILE];
  const merges = texts[BPE_MERGES_FILE];
  if (vocabJson !== undefined && merges !== undefined) {
    return byteLevelBpeTokenizerJson(
      parseVocabJson(vocabJson, where(BPE_VOCAB_FILE)),
      parseMergesTxt(merges, where(BPE_MERGES_FILE)),
      {
        addPrefixSpace: config.add_prefix_space ?? false,
        trimOffsets: config.trim_offsets ?? true,
        specialTokens: roleNames(config),
        additionalSpecialTokens: additionalSpecialTokens(config),
        addedTokens: declaredAddedTokens(config, where(TOKENIZER_CONFIG_FILE)),
      },
    );
  }
  const vocabTxt = texts[WORDPIECE_VOCAB_FILE];
  if (vocabTxt !== undefined) {
    // BERT has no bos/eos roles.
    const names = Object.fromEntries(
      Object.entries(roleNames(config)).filter(([role]) => role !== 'bos' && role !== 'eos'),
    );
    return wordPieceTokenizerJson(parseVocabTxt(vocabTxt, where(WORDPIECE_VOCAB_FILE)), {
      lowercase: config.do_lower_case ?? true,
      stripAccents: config.strip_accents ?? null,
      handleChineseChars: config.tokenize_chinese_chars ?? true,
      specialTokens: names,
      additionalSpecialTokens: additionalSpecialTokens(config),
      addedTokens: declaredAddedTokens(config, where(TOKENIZER_CONFIG_FILE)),
    });
  }
  throw new TokenizerFileError(
    `no tokenizer found: expected ${TOKENIZER_FILE}, ${BPE_VOCAB_FILE} + ${BPE_MERGES_FILE}, or ${WORDPIECE_VOCAB_FILE}`,
    where(),
  );
}

/** `added_tokens_decoder` of tokenizer_config.json as added tokens, each entry checked. */
function declaredAddedTokens(config: TokenizerConfigJson, file: string): AddedTokenJson[] {
  const decoder: unknown = config.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return [];
  if (typeof decoder !== 'object' || Array.isArray(decoder))
    throw new TokenizerFileError('"added_tokens_decoder" must be an object of id: token entries', file);
  return Object.entries(decoder as Record<string, unknown>).map(([key, entry]) => {
    const where = `"added_tokens_decoder" > ${JSON.stringify(key)}`;
    const e = entry as Record<string, unknown> | null;
    if (!/^\d+$/.test(key) || typeof e !== 'object' || e === null || typeof e['content'] !== 'string')
      throw new TokenizerFileError(`${where}: needs an integer id and a "content" string`, file);
    const flag = (k: string, dflt: boolean) => {
      if (e[k] === undefined) return dflt;
      if (typeof e[k] !== 'boolean')
        throw new TokenizerFileError(`${where}: "${k}" must be true or false`, file);
      return e[k];
    };
    const special = flag('special', false);
    return {
      id: Number(key),
      content: e['content'],
      single_word: flag('single_word', false),
      lstrip: flag('lstrip', false),
      rstrip: flag('rstrip', false),
      normalized: flag('normalized', !special),
      special,
    };
  });
}

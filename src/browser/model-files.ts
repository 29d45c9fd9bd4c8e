// A Hugging Face model directory, or a PET module's, as a browser holds it: its files fetched over HTTP and
// parsed (no file system), and the way back to such files (BrowserTrainer.toModelFiles, toPetFiles).

import {
  INDEX_FILE_NAME,
  mergeShards,
  parseSafetensors,
  parseShardIndex,
  SINGLE_FILE_NAME,
  type SafeTensor,
} from '../io/safetensors-format.js';
import {
  readTokenizerTexts,
  tokenizerConfigFromTexts,
  tokenizerJsonFromTexts,
} from '../io/tokenizer/from-texts.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PET_LABELS_FILE } from '../pet/files.js';

/** A sharded checkpoint's files: model.safetensors.index.json parsed, and each shard's bytes by file name. */
export interface ShardedWeights {
  readonly index: unknown;
  readonly shards: Readonly<Record<string, Uint8Array>>;
}

/** The files of a model directory, already read: JSON files parsed, the weights as bytes. */
export interface ModelFiles {
  /** config.json */
  readonly config: unknown;
  /** model.safetensors (fp32, fp16 or bf16), or a sharded checkpoint's index and shards */
  readonly weights: Uint8Array | ShardedWeights;
  /** tokenizer.json (or the one vocab.json + merges.txt or vocab.txt describe) */
  readonly tokenizer: unknown;
  /** tokenizer_config.json, with special_tokens_map.json's tokens where it names none */
  readonly tokenizerConfig: unknown;
}

/** A fetched JSON file, parsed; invalid JSON is an error naming the file. */
async function jsonOf(r: Response, url: string): Promise<unknown> {
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${url}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}

/** A file's URL in the directory at `baseUrl` (with or without a trailing slash). */
const fileUrl = (baseUrl: string, name: string): string => `${baseUrl.replace(/\/$/, '')}/${name}`;

/** Fetches a model directory's files from a base URL (e.g. where `models/plmkit-bert-mini` is served). */
export async function fetchModelFiles(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelFiles> {
  const url = (name: string) => fileUrl(baseUrl, name);
  const get = (name: string) => fetchOk(url(name), fetchFn);
  const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());
  /** model.safetensors, else (on 404) the index and the shards it names. */
  const weights = async (): Promise<Uint8Array | ShardedWeights> => {
    const single = await fetchFn(url(SINGLE_FILE_NAME));
    if (single.ok) return bytes(single);
    if (single.status !== 404) throw new Error(`${url(SINGLE_FILE_NAME)}: HTTP ${single.status}`);
    const indexResponse = await fetchFn(url(INDEX_FILE_NAME));
    if (indexResponse.status === 404)
      throw new Error(
        `${baseUrl}: no ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME} (pickle checkpoints such as pytorch_model.bin are not read)`,
      );
    if (!indexResponse.ok) throw new Error(`${url(INDEX_FILE_NAME)}: HTTP ${indexResponse.status}`);
    const index = await jsonOf(indexResponse, url(INDEX_FILE_NAME));
    const files = [...parseShardIndex(url(INDEX_FILE_NAME), index).byFile.keys()];
    const shards = await Promise.all(files.map(async (f) => [f, await bytes(await get(f))] as const));
    return { index, shards: Object.fromEntries(shards) };
  };
  const [config, w, tok] = await Promise.all([
    get('config.json').then((r) => jsonOf(r, url('config.json'))),
    weights(),
    fetchTokenizerFiles(baseUrl, fetchFn),
  ]);
  return { config, weights: w, ...tok };
}

/**
 * A tokenizer directory's files from a base URL, as `plmkit` reads a directory: tokenizer.json, else
 * vocab.json + merges.txt (byte-level BPE) or vocab.txt (WordPiece) made into one; tokenizer_config.json
 * and special_tokens_map.json where present.
 */
export async function fetchTokenizerFiles(
  baseUrl: string,
  fetchFn: typeof fetch = fetch,
): Promise<Pick<ModelFiles, 'tokenizer' | 'tokenizerConfig'>> {
  const url = (name?: string) => (name === undefined ? baseUrl : fileUrl(baseUrl, name));
  const texts = await readTokenizerTexts(async (f) => {
    const r = await fetchFn(url(f));
    if (r.ok) return r.text();
    if (r.status === 404) return undefined;
    throw new Error(`${url(f)}: HTTP ${r.status}`);
  });
  const tokenizerConfig = tokenizerConfigFromTexts(texts, url);
  return { tokenizer: tokenizerJsonFromTexts(texts, tokenizerConfig, url), tokenizerConfig };
}

/** The checkpoint's tensors, from one file or from the shards its index names (each checked). */
export function modelTensors(files: Pick<ModelFiles, 'weights'>): Map<string, SafeTensor> {
  const w = files.weights;
  if (w instanceof Uint8Array) return parseSafetensors(w, SINGLE_FILE_NAME).tensors;
  const { byFile } = parseShardIndex(INDEX_FILE_NAME, w.index);
  const shards = [...byFile.keys()].map((f) => {
    const b = w.shards[f];
    if (!b) throw new Error(`${INDEX_FILE_NAME}: shard ${JSON.stringify(f)} is missing`);
    return [f, parseSafetensors(b, f)] as const;
  });
  return mergeShards(byFile, shards).tensors;
}

/** A PET module's files, already read (plmkit's format, or PEFT's for LoRA). */
export interface PetModuleFiles {
  /** adapter_config.json */
  readonly config: unknown;
  /** adapter_model.safetensors */
  readonly weights: Uint8Array;
  /** The labels' names (plmkit_labels.json's id2label, which plmkit writes beside a module), if any. */
  readonly id2label?: Readonly<Record<string, string>>;
}

async function fetchOk(url: string, fetchFn: typeof fetch): Promise<Response> {
  const r = await fetchFn(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

/** Fetches a PET module directory's files from a base URL; plmkit_labels.json may be absent. */
export async function fetchPetFiles(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<PetModuleFiles> {
  const [config, weights, labels] = await Promise.all([
    fetchOk(fileUrl(baseUrl, ADAPTER_CONFIG_NAME), fetchFn).then((r) =>
      jsonOf(r, fileUrl(baseUrl, ADAPTER_CONFIG_NAME)),
    ),
    fetchOk(fileUrl(baseUrl, ADAPTER_WEIGHTS_NAME), fetchFn).then(
      async (r) => new Uint8Array(await r.arrayBuffer()),
    ),
    // Absent (404) means no label names; any other failure is an error, not silently the base's labels.
    fetchFn(fileUrl(baseUrl, PET_LABELS_FILE)).then(async (r) => {
      if (r.status === 404) return undefined;
      if (!r.ok) throw new Error(`${fileUrl(baseUrl, PET_LABELS_FILE)}: HTTP ${r.status}`);
      const labels = (await jsonOf(r, fileUrl(baseUrl, PET_LABELS_FILE))) as {
        id2label?: Record<string, string>;
      };
      return labels.id2label;
    }),
  ]);
  return { config, weights, ...(labels ? { id2label: labels } : {}) };
}

/**
 * Refuses tokenizer files with ids beyond the model's word-embedding table (Node's loader does the same):
 * such ids would fail inside ONNX Runtime with a message that names neither file.
 */
export function checkTokenizerFitsModel(tokenizer: unknown, vocabSize: number): void {
  const json = tokenizer as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  const vocab = json.model?.vocab;
  let maxId = -1;
  if (Array.isArray(vocab)) maxId = vocab.length - 1;
  else if (vocab && typeof vocab === 'object')
    for (const id of Object.values(vocab)) if (typeof id === 'number') maxId = Math.max(maxId, id);
  for (const t of json.added_tokens ?? []) if (typeof t.id === 'number') maxId = Math.max(maxId, t.id);
  if (maxId >= vocabSize)
    throw new Error(
      `the tokenizer has ids up to ${maxId} but config.json's vocab_size is ${vocabSize}; ` +
        `ids from ${vocabSize} up would fall outside the word-embedding table (mismatched tokenizer files?)`,
    );
}

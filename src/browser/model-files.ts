// A Hugging Face model directory, or a PET module's, as a browser holds it: its files fetched over HTTP and
// parsed (no file system), and the way back to such files (BrowserTrainer.toModelFiles, toPetFiles).

import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PET_LABELS_FILE } from '../pet/files.js';

/** The files of a model directory, already read: JSON files parsed, the weights as bytes. */
export interface ModelFiles {
  /** config.json */
  readonly config: unknown;
  /** model.safetensors (a single file; fp32, fp16 or bf16) */
  readonly weights: Uint8Array;
  /** tokenizer.json */
  readonly tokenizer: unknown;
  /** tokenizer_config.json */
  readonly tokenizerConfig: unknown;
}

/** Fetches a model directory's files from a base URL (e.g. where `models/plmkit-bert-mini` is served). */
export async function fetchModelFiles(baseUrl: string, fetchFn: typeof fetch = fetch): Promise<ModelFiles> {
  const get = (name: string) => fetchOk(`${baseUrl.replace(/\/$/, '')}/${name}`, fetchFn);
  const [config, weights, tokenizer, tokenizerConfig] = await Promise.all([
    get('config.json').then((r) => r.json()),
    get('model.safetensors').then(async (r) => new Uint8Array(await r.arrayBuffer())),
    get('tokenizer.json').then((r) => r.json()),
    get('tokenizer_config.json').then((r) => r.json()),
  ]);
  return { config, weights, tokenizer, tokenizerConfig };
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
  const base = baseUrl.replace(/\/$/, '');
  const [config, weights, labels] = await Promise.all([
    fetchOk(`${base}/${ADAPTER_CONFIG_NAME}`, fetchFn).then((r) => r.json()),
    fetchOk(`${base}/${ADAPTER_WEIGHTS_NAME}`, fetchFn).then(
      async (r) => new Uint8Array(await r.arrayBuffer()),
    ),
    fetchFn(`${base}/${PET_LABELS_FILE}`).then(async (r) =>
      r.ok ? ((await r.json()) as { id2label?: Record<string, string> }).id2label : undefined,
    ),
  ]);
  return { config, weights, ...(labels ? { id2label: labels } : {}) };
}

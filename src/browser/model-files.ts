// A Hugging Face model directory as a browser holds it: its files fetched over HTTP and parsed (no file
// system), and the way back to such files (see BrowserTrainer.toModelFiles).

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
  const get = async (name: string) => {
    const url = `${baseUrl.replace(/\/$/, '')}/${name}`;
    const r = await fetchFn(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r;
  };
  const [config, weights, tokenizer, tokenizerConfig] = await Promise.all([
    get('config.json').then((r) => r.json()),
    get('model.safetensors').then(async (r) => new Uint8Array(await r.arrayBuffer())),
    get('tokenizer.json').then((r) => r.json()),
    get('tokenizer_config.json').then((r) => r.json()),
  ]);
  return { config, weights, tokenizer, tokenizerConfig };
}

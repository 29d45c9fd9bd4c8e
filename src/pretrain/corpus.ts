// Pretraining text: corpus files streamed line by line (plain text, one document per line, or JSONL with
// a "text" field), and the builder of the bundled model's corpus from registered data sets' train splits.

import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { listDatasets, loadDataset } from '../io/data/index.js';

/** Documents of a corpus file, one per non-empty line; JSONL lines give their "text" field. */
export async function* readCorpus(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    if (path.endsWith('.jsonl')) {
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new Error(`${path}:${n}: invalid JSON (${(e as Error).message})`, { cause: e });
      }
      const text = (row as { text?: unknown }).text;
      if (typeof text !== 'string') throw new Error(`${path}:${n}: no "text" string`);
      yield text;
    } else yield line;
  }
}

export interface CorpusSource {
  readonly name: string;
  readonly documents: number;
  readonly words: number;
}

/** A document's share of the held-out part, from a hash of its text (stable across runs and machines). */
export function isHeldOut(text: string, fraction: number): boolean {
  const h = createHash('sha256').update(text).digest();
  return h.readUInt32BE(0) / 2 ** 32 < fraction;
}

/**
 * Train splits (never dev or test) of every registered data set, each document once (exact duplicates
 * across sets, such as derived variants, are dropped). Yields [source, text].
 */
export async function* trainSplitDocuments(dataDir?: string): AsyncGenerator<[string, string]> {
  const seen = new Set<string>();
  for (const info of await listDatasets(dataDir ? { dataDir } : {})) {
    if (!info.splits.train) continue;
    const { examples } = await loadDataset(info.name, { split: 'train', ...(dataDir ? { dataDir } : {}) });
    for (const e of examples) {
      for (const text of e.textPair !== undefined ? [e.text, e.textPair] : [e.text]) {
        const key = createHash('sha1').update(text).digest('base64');
        if (seen.has(key)) continue;
        seen.add(key);
        yield [info.name, text];
      }
    }
  }
}

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

/** A document as one corpus line: whitespace runs (newlines included) as one space, trimmed. */
export function corpusLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

const digest = (line: string) => createHash('sha1').update(line).digest('base64');

/**
 * Train splits of every registered data set, as corpus lines, each once (duplicates within and across sets,
 * such as derived variants, are dropped after whitespace is flattened). A line that also occurs in any
 * registered set's dev or test split is left out, wherever it comes from: derived variants split the same
 * texts differently, and sets hold duplicates across their own splits. Yields [source, line], and reports
 * the lines left out for that reason per source through `onExcluded`.
 */
export async function* trainSplitDocuments(
  dataDir?: string,
  onExcluded?: (source: string) => void,
): AsyncGenerator<[string, string]> {
  const opts = dataDir ? { dataDir } : {};
  const sets = await listDatasets(opts);
  const evaluation = new Set<string>();
  for (const info of sets)
    for (const split of ['dev', 'test'] as const) {
      if (!info.splits[split]) continue;
      const { examples } = await loadDataset(info.name, { split, ...opts });
      for (const e of examples)
        for (const text of e.textPair !== undefined ? [e.text, e.textPair] : [e.text])
          evaluation.add(digest(corpusLine(text)));
    }
  const seen = new Set<string>();
  for (const info of sets) {
    if (!info.splits.train) continue;
    const { examples } = await loadDataset(info.name, { split: 'train', ...opts });
    for (const e of examples) {
      for (const text of e.textPair !== undefined ? [e.text, e.textPair] : [e.text]) {
        const line = corpusLine(text);
        if (!line) continue;
        const key = digest(line);
        if (seen.has(key)) continue;
        seen.add(key);
        if (evaluation.has(key)) {
          onExcluded?.(info.name);
          continue;
        }
        yield [info.name, line];
      }
    }
  }
}

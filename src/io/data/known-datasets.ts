// Per-data-set facts that are not in the files themselves: class names (from each set's README).
// Only sets whose files need more than the defaults are listed; everything else comes from disk.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnMap } from './example.js';

export interface DatasetFacts {
  labelNames?: readonly string[];
  /** Where text, text pair and label are, when not `text` / `text_pair` / `label`. */
  columns?: ColumnMap;
}

const SENTIMENT = ['negative', 'positive'] as const;
const SPAM = ['ham', 'spam'] as const;

/** Facts for the folders of `../shared/data` (label meanings as stated in each README). */
export const KNOWN_DATASETS: Readonly<Record<string, DatasetFacts>> = {
  sst2: { labelNames: SENTIMENT },
  'sst2-sentence': { labelNames: SENTIMENT },
  imdb: { labelNames: SENTIMENT },
  ag_news: { labelNames: ['World', 'Sports', 'Business', 'Sci/Tech'] },
  olid: { labelNames: ['NOT', 'OFF'] },
  hsol: { labelNames: ['hate speech', 'offensive language', 'neither'] },
  'hsol-openbackdoor': { labelNames: ['non-toxic', 'toxic'] },
  lingspam: { labelNames: SPAM },
  'lingspam-openbackdoor': { labelNames: SPAM },
  enron: { labelNames: SPAM },
};

/**
 * Class names from a README line such as `Labels: 0 = negative, 1 = positive.` (parenthesised remarks
 * dropped). Returns undefined unless the ids found are exactly 0 … k-1 with k ≥ 2.
 */
export function labelNamesFromReadme(readme: string): string[] | undefined {
  const line = readme.split('\n').find((l) => /^\s*\**labels\**\s*(\([^)]*\))?\s*:/i.test(l));
  if (line === undefined) return undefined;
  const body = line.slice(line.indexOf(':') + 1).replace(/\([^)]*\)/g, '');
  const names = new Map<number, string>();
  for (const match of body.matchAll(/(\d+)\s*=\s*([^,;=]+?)\s*(?=[,;]|\.(?:\s|$)|$)/g)) {
    names.set(Number(match[1]), (match[2] ?? '').replace(/[`*]/g, '').trim());
  }
  const k = names.size;
  if (k < 2) return undefined;
  const out: string[] = [];
  for (let id = 0; id < k; id++) {
    const name = names.get(id);
    if (name === undefined || name === '') return undefined;
    out.push(name);
  }
  return out;
}

/**
 * Facts for a data set folder: the table entry of a registered name, else label names from its README.md if
 * it states them. `name` undefined: a folder given by path, whose own name says nothing (a user's folder
 * called `olid` need not hold OLID's labels).
 */
export async function datasetFacts(name: string | undefined, dir: string): Promise<DatasetFacts> {
  if (name !== undefined && Object.hasOwn(KNOWN_DATASETS, name)) return KNOWN_DATASETS[name] as DatasetFacts;
  let readme: string;
  try {
    readme = await readFile(join(dir, 'README.md'), 'utf8');
  } catch {
    return {};
  }
  const labelNames = labelNamesFromReadme(readme);
  return labelNames === undefined ? {} : { labelNames };
}

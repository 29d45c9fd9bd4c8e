// One examples file, its format chosen by its extension.

import { extname } from 'node:path';
import { type DelimitedOptions, readDelimited } from './delimited.js';
import { type LoadResult, DatasetError } from './example.js';
import { readJsonl } from './jsonl.js';

/** File extensions the readers understand. */
export const EXAMPLE_FILE_EXTENSIONS = ['.jsonl', '.csv', '.tsv'] as const;

/** True if the path ends in one of `EXAMPLE_FILE_EXTENSIONS` (case-insensitive). */
export function isExamplesFile(path: string): boolean {
  return (EXAMPLE_FILE_EXTENSIONS as readonly string[]).includes(extname(path).toLowerCase());
}

/** Reads a `.jsonl`, `.csv` or `.tsv` file (the CSV/TSV options are ignored for JSONL). */
export async function readExamplesFile(path: string, options: DelimitedOptions = {}): Promise<LoadResult> {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl') return readJsonl(path, options);
  if (ext === '.csv' || ext === '.tsv') return readDelimited(path, options);
  throw new DatasetError(
    `${path}: unknown examples file type "${ext}" (expected ${EXAMPLE_FILE_EXTENSIONS.join(', ')})`,
  );
}

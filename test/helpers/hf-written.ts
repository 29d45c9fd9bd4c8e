// The model directories transformers wrote (test/fixtures/hf-written, scripts/make_hf_fixtures.py) and
// the token ids and logits transformers computed for them.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const HF_WRITTEN = join(import.meta.dirname, '..', 'fixtures', 'hf-written');

export interface HfWrittenRow {
  text: string;
  text_pair: string | null;
  input_ids: number[];
  logits: number[];
}

export async function hfWrittenRows(name: string): Promise<HfWrittenRow[]> {
  const ref = JSON.parse(await readFile(join(HF_WRITTEN, name, 'reference.json'), 'utf8')) as {
    rows: HfWrittenRow[];
  };
  return ref.rows;
}

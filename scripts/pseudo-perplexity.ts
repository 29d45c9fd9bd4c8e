// Pseudo-perplexity of a BERT checkpoint's MLM head on held-out text, as `plmkit pretrain` reports it at
// the end of a run (the first BLOCKS blocks of 128 tokens, each text token masked in turn; default 8).
// Usage: npx tsx scripts/pseudo-perplexity.ts MODEL_DIR HELDOUT.txt [BLOCKS]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { bindWeights, readPretrained } from '../src/io/checkpoint.js';
import { loadTokenizer } from '../src/io/tokenizer/index.js';
import { textInputs } from '../src/nn/bert.js';
import { ModelBuilder } from '../src/nn/builder.js';
import { maskedLm, mlmInputs } from '../src/nn/mlm.js';
import { readCorpus } from '../src/pretrain/corpus.js';
import { mlmEvalFunction, pseudoPerplexity } from '../src/pretrain/pretrain.js';
import { TokenFile, writeTokenFile } from '../src/pretrain/token-file.js';

const [model, heldout, blocks = '8'] = process.argv.slice(2);
if (!model || !heldout)
  throw new Error('usage: npx tsx scripts/pseudo-perplexity.ts MODEL_DIR HELDOUT.txt [BLOCKS]');
const pre = await readPretrained(model);
const tok = await loadTokenizer(model);
const b = new ModelBuilder({ training: false });
maskedLm(b, mlmInputs(b, textInputs(b)), pre.config);
const fn = await mlmEvalFunction(pre.config, {
  fed: false,
  values: bindWeights(b, pre, 0, () => false).values,
});
const dir = await mkdtemp(join(tmpdir(), 'plmkit-pppl-'));
try {
  await writeTokenFile(join(dir, 'heldout.u32'), readCorpus(heldout), tok, tok.sepId!);
  const file = await TokenFile.open(join(dir, 'heldout.u32'));
  const p = await pseudoPerplexity(
    fn,
    file,
    { clsId: tok.clsId!, sepId: tok.sepId!, seqLen: 128 },
    { maskId: tok.maskId!, specialIds: new Set(tok.specialIds) },
    Number(blocks),
  );
  await file.close();
  process.stdout.write(`${JSON.stringify(p)}\n`);
} finally {
  await fn.release();
  await rm(dir, { recursive: true, force: true });
}

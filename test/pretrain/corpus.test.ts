// The pretraining corpus: train splits only, each text once after whitespace is flattened, and no text
// that any registered set holds in a dev or test split (derived variants split the same texts apart).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { trainSplitDocuments } from '../../src/pretrain/corpus.js';

test('train texts found in any set’s dev or test split are left out; whitespace variants count once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'plmkit-corpus-'));
  const jsonl = (texts: string[]) =>
    texts.map((text) => JSON.stringify({ text, label: 0 })).join('\n') + '\n';
  const put = async (set: string, split: string, texts: string[]) => {
    await mkdir(join(dir, set), { recursive: true });
    await writeFile(join(dir, set, `${split}.jsonl`), jsonl(texts));
  };
  await put('aa', 'train', ['kept one', 'shared  with\nb test', 'kept one', 'kept  one ', 'in own dev']);
  await put('aa', 'dev', ['in own dev']);
  await put('bb', 'train', ['kept one', 'kept two']);
  await put('bb', 'test', ['shared with b test']);
  const excluded: string[] = [];
  const docs: [string, string][] = [];
  for await (const d of trainSplitDocuments(dir, (s) => excluded.push(s))) docs.push(d);
  const mine = docs.filter(([s]) => s === 'aa' || s === 'bb');
  assert.deepEqual(mine, [
    ['aa', 'kept one'],
    ['bb', 'kept two'],
  ]);
  assert.deepEqual(
    excluded.filter((s) => s === 'aa' || s === 'bb'),
    ['aa', 'aa'],
  );
});

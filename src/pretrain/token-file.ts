// Token files: a corpus tokenized once into little-endian uint32 ids, documents separated by [SEP],
// read back in fixed-size blocks at random offsets, so training streams from disk in any order.

import { createWriteStream } from 'node:fs';
import { open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Tokenizer } from '../io/tokenizer/index.js';

export async function writeTokenFile(
  path: string,
  docs: AsyncIterable<string>,
  tok: Tokenizer,
  sepId: number,
): Promise<{ tokens: number; documents: number }> {
  const tmp = `${path}.tmp-${process.pid}`;
  // Half-written files that killed runs left: a token file of a large corpus is large.
  for (const name of await readdir(dirname(path)).catch(() => [] as string[]))
    if (name.startsWith(`${basename(path)}.tmp-`)) await rm(join(dirname(path), name), { force: true });
  const out = createWriteStream(tmp);
  let tokens = 0;
  let documents = 0;
  for await (const text of docs) {
    const ids = (await tok.encode(text, undefined, { addSpecialTokens: false })).ids;
    if (ids.length === 0) continue;
    const buf = new Uint32Array(ids.length + 1);
    buf.set(ids);
    buf[ids.length] = sepId;
    if (!out.write(new Uint8Array(buf.buffer))) await new Promise<void>((r) => out.once('drain', () => r()));
    tokens += buf.length;
    documents++;
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  await rename(tmp, path);
  return { tokens, documents };
}

export class TokenFile {
  private constructor(
    private readonly fd: import('node:fs/promises').FileHandle,
    readonly tokens: number,
  ) {}

  static async open(path: string): Promise<TokenFile> {
    const size = (await stat(path)).size;
    if (size % 4 !== 0) throw new Error(`${path}: size ${size} is not a whole number of uint32 tokens`);
    return new TokenFile(await open(path, 'r'), size / 4);
  }

  /** Number of whole blocks of `len` tokens. */
  blocks(len: number): number {
    return Math.floor(this.tokens / len);
  }

  async block(index: number, len: number): Promise<Uint32Array> {
    const buf = new Uint32Array(len);
    await this.fd.read(new Uint8Array(buf.buffer), 0, len * 4, index * len * 4);
    return buf;
  }

  async close(): Promise<void> {
    await this.fd.close();
  }
}

// Temporary files for the data-loader tests.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';

/** A fresh temp folder per test file, removed afterwards; `write` creates files inside it. */
export function tempFiles(prefix: string): {
  write(name: string, content: string | Buffer): Promise<string>;
  root(): string;
} {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `plmkit-${prefix}-`));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return {
    root: () => root,
    async write(name, content) {
      const path = join(root, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
      return path;
    },
  };
}

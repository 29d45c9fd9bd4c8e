// Fresh scratch directories for a test file: one temporary root made before the tests and removed after.

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';

export function scratchDirs(prefix: string): () => Promise<string> {
  let root: string;
  let counter = 0;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), prefix));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });
  return async () => {
    const dir = join(root, `d${counter++}`);
    await mkdir(dir);
    return dir;
  };
}

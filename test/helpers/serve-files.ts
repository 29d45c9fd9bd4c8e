// A fetch that serves a directory's files under https://example.org/, as a web server would: the file's
// bytes, or 404 for a missing one. Browser code under test fetches model directories through it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SERVED = 'https://example.org';

export function serveFiles(root: string): typeof fetch {
  return (async (url: string) =>
    readFile(join(root, url.replace(/^https:\/\/example\.org\/?/, ''))).then(
      (bytes) => new Response(bytes),
      () => new Response(null, { status: 404 }),
    )) as unknown as typeof fetch;
}

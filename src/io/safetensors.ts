// Reading and writing the safetensors checkpoint format, single files and Hugging Face sharded directories.
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
import { pathExists } from './path-exists.js';

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
const DTYPE_RANK: Readonly<Record<Dtype, number>> = {
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

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

function numel(shape: readonly number[]): number {
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

const PICKLE_EXTENSIONS = ['.bin', '.pt', '.pth', '.ckpt', '.pkl', '.pickle'];

function refusePickle(file: string): never {
  throw new SafetensorsError(
    file,
    'looks like a pickle (PyTorch) checkpoint; only safetensors is supported, since loading pickles can ' +
      'execute code. Convert it to .safetensors first (e.g. save_pretrained(..., safe_serialization=True)).',
  );
}

function checkNotPickleName(file: string): void {
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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `string ${JSON.stringify(v)}` : `${typeof v} ${JSON.stringify(v)}`;
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Reads the header length from the first 8 bytes and checks it against the limits and the file size. */
function headerLength(file: string, prefix: Uint8Array, fileSize: number): number {
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
function parseHeader(
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
  const buf = await readFile(path);
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

// ---------------------------------------------------------------------------------------------------------
// Serialization

/**
 * A tensor to write. `data` is either the raw little-endian bytes (a Uint8Array of exactly
 * product(shape) * itemsize bytes) or the typed array matching `dtype` (Float32Array for F32, Uint16Array of
 * bits for F16/BF16, BigInt64Array for I64, ...). For F16/BF16 a Float32Array is also accepted and rounded
 * to nearest even. `dtype` defaults to the one implied by `data` (Uint8Array: U8).
 */
export interface TensorInput {
  dtype?: Dtype;
  shape: readonly number[];
  data: SafeTypedArray;
}

export interface WriteOptions {
  /** Stored in the header as "__metadata__" (string values only). */
  metadata?: Metadata;
  /** Store every F32 tensor as this dtype instead (round to nearest even). Default 'F32'. */
  floatStorage?: 'F32' | 'F16' | 'BF16';
}

function impliedDtype(data: SafeTypedArray): Dtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int8Array) return 'I8';
  return 'U8';
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Normalizes a TensorInput to stored dtype + raw bytes, converting floats where asked. */
function toStored(name: string, t: TensorInput, floatStorage: Dtype): SafeTensor {
  const where = `tensor ${JSON.stringify(name)}`;
  if (name === '__metadata__') throw new Error(`"__metadata__" is reserved and cannot name a tensor`);
  if (!Array.isArray(t.shape) || !t.shape.every(isNonNegInt))
    throw new Error(
      `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(t.shape)}`,
    );
  const shape = [...t.shape];
  const n = numel(shape);
  const data = t.data;
  let dtype = t.dtype ?? impliedDtype(data);
  if (!isDtype(dtype)) throw new Error(`${where}: unknown dtype ${describe(dtype)}`);

  let values: SafeTypedArray = data;
  if ((dtype === 'F16' || dtype === 'BF16') && data instanceof Float32Array) {
    values = dtype === 'F16' ? f32ArrayToF16(data) : f32ArrayToBf16(data);
  } else if (dtype === 'F32' && floatStorage !== 'F32') {
    if (data instanceof Uint8Array && data.byteLength !== n * 4)
      throw new Error(
        `${where}: shape ${JSON.stringify(shape)} of F32 needs ${n * 4} bytes but data has ${data.byteLength}`,
      );
    const f32 =
      data instanceof Float32Array
        ? data
        : data instanceof Uint8Array
          ? (tensorTypedArray({ dtype: 'F32', shape, data }) as Float32Array)
          : undefined;
    if (f32 === undefined)
      throw new Error(`${where}: F32 data must be a Float32Array or raw bytes, got ${data.constructor.name}`);
    if (f32.length !== n)
      throw new Error(
        `${where}: shape ${JSON.stringify(shape)} needs ${n} values but data has ${f32.length}`,
      );
    values = floatStorage === 'F16' ? f32ArrayToF16(f32) : f32ArrayToBf16(f32);
    dtype = floatStorage;
  }

  const expectedBytes = n * DTYPE_SIZE[dtype];
  if (values instanceof Uint8Array) {
    if (values.byteLength !== expectedBytes)
      throw new Error(
        `${where}: shape ${JSON.stringify(shape)} of ${dtype} needs ${expectedBytes} bytes but data has ` +
          `${values.byteLength}`,
      );
  } else {
    const implied = impliedDtype(values);
    const ok = implied === dtype || (values instanceof Uint16Array && (dtype === 'F16' || dtype === 'BF16'));
    if (!ok)
      throw new Error(
        `${where}: data is a ${values.constructor.name}, which does not hold ${dtype} ` +
          `(pass the matching typed array or raw bytes in a Uint8Array)`,
      );
    if (values.length !== n)
      throw new Error(
        `${where}: shape ${JSON.stringify(shape)} needs ${n} values but data has ${values.length}`,
      );
  }
  if (!HOST_LITTLE_ENDIAN && DTYPE_SIZE[dtype] > 1 && !(values instanceof Uint8Array))
    throw new Error('safetensors: big-endian hosts are not supported');
  return { dtype, shape, data: bytesOf(values) };
}

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

type TensorsLike = Map<string, TensorInput> | Record<string, TensorInput>;

function entriesOf(tensors: TensorsLike): [string, TensorInput][] {
  return tensors instanceof Map ? [...tensors] : Object.entries(tensors);
}

/** Lays tensors out like the reference serializer and builds the padded header. */
function prepare(
  entries: [string, SafeTensor][],
  metadata: Metadata | undefined,
): { header: Uint8Array; ordered: [string, SafeTensor][]; dataSize: number } {
  const ordered = [...entries].sort(
    ([an, a], [bn, b]) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(an, bn),
  );
  const json: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Metadata = {};
    for (const k of Object.keys(metadata).sort(compareUtf8)) {
      const v = metadata[k];
      if (typeof v !== 'string')
        throw new Error(`metadata values must be strings, but ${JSON.stringify(k)} is ${describe(v)}`);
      meta[k] = v;
    }
    json['__metadata__'] = meta;
  }
  let offset = 0;
  for (const [name, t] of ordered) {
    const end = offset + t.data.byteLength;
    json[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  const text = Buffer.from(JSON.stringify(json), 'utf8');
  const padded = new Uint8Array(Math.ceil(text.byteLength / 8) * 8).fill(0x20);
  padded.set(text);
  if (padded.byteLength > MAX_HEADER_SIZE)
    throw new Error(`header would be ${padded.byteLength} bytes, above the ${MAX_HEADER_SIZE}-byte limit`);
  return { header: padded, ordered, dataSize: offset };
}

function prepareInputs(tensors: TensorsLike, options: WriteOptions) {
  const floatStorage = options.floatStorage ?? 'F32';
  const stored = entriesOf(tensors).map(([name, t]): [string, SafeTensor] => [
    name,
    toStored(name, t, floatStorage),
  ]);
  return prepare(stored, options.metadata);
}

function lengthPrefix(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
}

/** Serializes to one in-memory buffer (fine for small checkpoints; writeSafetensors streams instead). */
export function serializeSafetensors(tensors: TensorsLike, options: WriteOptions = {}): Uint8Array {
  const { header, ordered, dataSize } = prepareInputs(tensors, options);
  const out = new Uint8Array(8 + header.byteLength + dataSize);
  out.set(lengthPrefix(header.byteLength), 0);
  out.set(header, 8);
  let pos = 8 + header.byteLength;
  for (const [, t] of ordered) {
    out.set(t.data, pos);
    pos += t.data.byteLength;
  }
  return out;
}

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

function isPlainFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\]/.test(name) && !name.includes('\0');
}

/**
 * Reads a checkpoint directory: `model.safetensors.index.json` with its shards, or a single
 * `model.safetensors`. Every tensor in the index must be present in the shard it names; tensors a shard
 * holds but the index does not list are ignored. `metadata` is the first file's "__metadata__".
 */
export async function readSafetensorsDir(dir: string): Promise<SafetensorsDir> {
  const indexPath = join(dir, INDEX_FILE_NAME);
  if (await pathExists(indexPath)) {
    let index: unknown;
    try {
      index = JSON.parse(await readFile(indexPath, 'utf8'));
    } catch (e) {
      throw new SafetensorsError(indexPath, `index is not valid JSON (${(e as Error).message})`);
    }
    if (typeof index !== 'object' || index === null || Array.isArray(index))
      throw new SafetensorsError(indexPath, `index must be a JSON object, got ${describe(index)}`);
    const { weight_map: weightMap, metadata: indexMetadata } = index as Record<string, unknown>;
    if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap))
      throw new SafetensorsError(indexPath, `"weight_map" must be an object of tensor name -> shard file`);
    if (indexMetadata !== undefined && (typeof indexMetadata !== 'object' || indexMetadata === null))
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
    for (const file of byFile.keys())
      if (!(await pathExists(join(dir, file))))
        throw new SafetensorsError(
          indexPath,
          `shard ${JSON.stringify(file)} (holding e.g. ${JSON.stringify(byFile.get(file)![0])}) is missing from ${dir}`,
        );
    const tensors = new Map<string, SafeTensor>();
    let metadata: Metadata | undefined;
    const files = [...byFile.keys()];
    for (const [i, file] of files.entries()) {
      const shardPath = join(dir, file);
      const shard = await readSafetensors(shardPath);
      if (i === 0) metadata = shard.metadata;
      for (const name of byFile.get(file)!) {
        const t = shard.tensors.get(name);
        if (!t)
          throw new SafetensorsError(
            shardPath,
            `tensor ${JSON.stringify(name)} is listed in ${INDEX_FILE_NAME} for this shard but the shard does not contain it`,
          );
        tensors.set(name, t);
      }
    }
    const out: SafetensorsDir = { tensors, metadata, files };
    if (indexMetadata !== undefined) out.indexMetadata = indexMetadata as Record<string, unknown>;
    return out;
  }
  const single = join(dir, SINGLE_FILE_NAME);
  if (await pathExists(single)) {
    const f = await readSafetensors(single);
    return { ...f, files: [SINGLE_FILE_NAME] };
  }
  const pickles = (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    PICKLE_EXTENSIONS.some((ext) => f.toLowerCase().endsWith(ext)),
  );
  if (pickles.length > 0) refusePickle(join(dir, pickles[0]!));
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

const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/**
 * Writes a checkpoint directory the way Hugging Face does: one `model.safetensors` if everything fits in one
 * shard, else `model-0000k-of-0000n.safetensors` shards plus `model.safetensors.index.json`
 * ({"metadata": {"total_size"}, "weight_map"}). Tensors are packed greedily in the given order; a tensor
 * larger than the limit gets a shard of its own. Each file is written atomically, the index last; stale
 * shards/index from an earlier save in `dir` are removed afterwards. Each file's "__metadata__" defaults to
 * {"format": "pt"}, which transformers requires. Returns the files written.
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

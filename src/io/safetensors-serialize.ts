// Serializing safetensors into memory, with no file system (browsers use it too); writing files and sharded
// directories: ./safetensors.ts. The layout follows the reference Rust serializer (see ./safetensors.ts).

import {
  describe,
  DTYPE_RANK,
  DTYPE_SIZE,
  f32ArrayToBf16,
  f32ArrayToF16,
  HOST_LITTLE_ENDIAN,
  isDtype,
  isNonNegInt,
  MAX_HEADER_SIZE,
  numel,
  tensorTypedArray,
  type Dtype,
  type Metadata,
  type SafeTensor,
  type SafeTypedArray,
} from './safetensors-format.js';

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
export function toStored(name: string, t: TensorInput, floatStorage: Dtype): SafeTensor {
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

const utf8 = new TextEncoder();

/** Orders names by their UTF-8 bytes, as the reference serializer's sorted map does. */
function compareUtf8(a: string, b: string): number {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

export type TensorsLike = Map<string, TensorInput> | Record<string, TensorInput>;

export function entriesOf(tensors: TensorsLike): [string, TensorInput][] {
  return tensors instanceof Map ? [...tensors] : Object.entries(tensors);
}

/** Lays tensors out like the reference serializer and builds the padded header. */
export function prepare(
  entries: [string, SafeTensor][],
  metadata: Metadata | undefined,
): { header: Uint8Array; ordered: [string, SafeTensor][]; dataSize: number } {
  const ordered = [...entries].sort(
    ([an, a], [bn, b]) => DTYPE_RANK[b.dtype] - DTYPE_RANK[a.dtype] || compareUtf8(an, bn),
  );
  // Objects without a prototype, so that a name like "__proto__" is a key like any other.
  const json: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata !== undefined) {
    const meta: Metadata = Object.create(null) as Metadata;
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
  const text = utf8.encode(JSON.stringify(json));
  const padded = new Uint8Array(Math.ceil(text.byteLength / 8) * 8).fill(0x20);
  padded.set(text);
  if (padded.byteLength > MAX_HEADER_SIZE)
    throw new Error(`header would be ${padded.byteLength} bytes, above the ${MAX_HEADER_SIZE}-byte limit`);
  return { header: padded, ordered, dataSize: offset };
}

export function prepareInputs(tensors: TensorsLike, options: WriteOptions) {
  const floatStorage = options.floatStorage ?? 'F32';
  const stored = entriesOf(tensors).map(([name, t]): [string, SafeTensor] => [
    name,
    toStored(name, t, floatStorage),
  ]);
  return prepare(stored, options.metadata);
}

export function lengthPrefix(n: number): Uint8Array {
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

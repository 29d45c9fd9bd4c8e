import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { scratchDirs } from '../helpers/scratch.js';
import {
  DTYPE_SIZE,
  type Dtype,
  INDEX_FILE_NAME,
  SafetensorsError,
  type SafeTypedArray,
  type TensorInput,
  bf16BitsToF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  parseSafetensors,
  readSafetensors,
  readSafetensorsDir,
  readSafetensorsHeader,
  serializeSafetensors,
  tensorToFloat32,
  tensorTypedArray,
  writeSafetensors,
  writeSafetensorsDir,
} from '../../src/io/safetensors.js';

const freshDir = scratchDirs('plmkit-safetensors-');

const f32bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!;
const f32FromBits = (b: number) => new Float32Array(new Uint32Array([b]).buffer)[0]!;

/** Hand-built file: 8-byte LE length, header bytes as given (no padding), then data. */
function rawFile(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint) {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
  const out = new Uint8Array(8 + h.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
}

async function expectProblem(path: string, problem: RegExp): Promise<void> {
  await assert.rejects(readSafetensors(path), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.ok(e.message.includes(path), `message should name the file: ${e.message}`);
    assert.match(e.message, problem);
    return true;
  });
}

describe('safetensors round trip', () => {
  const samples: Record<Dtype, SafeTypedArray> = {
    F64: new Float64Array([1.5, -2.25, Math.PI, 1e300, -0]),
    F32: new Float32Array([1, -2.5, 3.25, 65504, -1e-40, Infinity]),
    F16: new Uint16Array([0x3c00, 0xc100, 0x7bff, 0x0001, 0x7c00, 0x7e00]),
    BF16: new Uint16Array([0x3f80, 0xc020, 0x7f80, 0x0001]),
    I64: new BigInt64Array([0n, -1n, 9007199254740993n, -(2n ** 63n)]),
    I32: new Int32Array([0, -1, 2147483647, -2147483648]),
    I16: new Int16Array([0, -1, 32767, -32768]),
    I8: new Int8Array([0, -1, 127, -128]),
    U64: new BigUint64Array([0n, 2n ** 64n - 1n]),
    U32: new Uint32Array([0, 4294967295]),
    U16: new Uint16Array([0, 65535]),
    U8: new Uint8Array([0, 1, 255, 7]),
    BOOL: new Uint8Array([1, 0, 0, 1]),
  };

  test('every dtype survives write + read, with metadata', async () => {
    const dir = await freshDir();
    const path = join(dir, 'all.safetensors');
    const tensors = new Map<string, TensorInput>();
    for (const [dtype, data] of Object.entries(samples) as [Dtype, SafeTypedArray][])
      tensors.set(`t.${dtype}`, { dtype, shape: [1, data.length], data });
    tensors.set('scalar', { dtype: 'F32', shape: [], data: new Float32Array([42]) });
    tensors.set('empty', { dtype: 'I32', shape: [0, 3], data: new Int32Array(0) });
    await writeSafetensors(path, tensors, { metadata: { format: 'pt', note: 'héllo' } });

    const back = await readSafetensors(path);
    assert.deepEqual(back.metadata, { format: 'pt', note: 'héllo' });
    assert.equal(back.tensors.size, tensors.size);
    for (const [name, t] of tensors) {
      const got = back.tensors.get(name);
      assert.ok(got, name);
      assert.equal(got.dtype, t.dtype);
      assert.deepEqual(got.shape, [...t.shape]);
      assert.deepEqual(tensorTypedArray(got), t.data, name);
      assert.equal(got.data.byteLength, t.data.byteLength);
    }
    assert.deepEqual(tensorToFloat32(back.tensors.get('scalar')!), new Float32Array([42]));
  });

  test('layout matches the reference serializer: sorted by dtype (desc) then name, padded, aligned', async () => {
    const dir = await freshDir();
    const path = join(dir, 'order.safetensors');
    await writeSafetensors(path, {
      b: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) },
      a: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) },
      h: { dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      z: { dtype: 'F64', shape: [1], data: new Float64Array([1]) },
      w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) },
    });
    const bytes = new Uint8Array(await readFile(path));
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    assert.match(header, /^\{.*\} *$/);
    assert.deepEqual(Object.keys(JSON.parse(header)), ['z', 'w', 'h', 'a', 'b']);
    const parsed = parseSafetensors(bytes, path);
    assert.deepEqual([...parsed.tensors.keys()], ['z', 'w', 'h', 'a', 'b']);
    for (const t of parsed.tensors.values())
      assert.equal(
        (t.data.byteOffset - bytes.byteOffset) % DTYPE_SIZE[t.dtype],
        0,
        'tensor data aligned in file',
      );
  });

  test('byte-exact against the reference crate examples', () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const out = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data } });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(header.length, 64);
    assert.deepEqual(out, rawFile(header, new Uint8Array(data.buffer)));

    const out2 = serializeSafetensors({ attn0: { dtype: 'F32', shape: [1, 1, 2, 3], data } });
    const header2 = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    assert.deepEqual(out2, rawFile(header2 + ' '.repeat(72 - header2.length), new Uint8Array(data.buffer)));

    assert.deepEqual(serializeSafetensors({}), rawFile('{}      '));
    assert.deepEqual(
      serializeSafetensors({}, { metadata: { framework: 'pt' } }),
      rawFile('{"__metadata__":{"framework":"pt"}}     '),
    );
  });

  test('float32 can be stored as F16 or BF16', async () => {
    const dir = await freshDir();
    const values = new Float32Array([1, -2.5, 65504, 1 / 3, 2 ** -24, Infinity, NaN]);
    for (const storage of ['F16', 'BF16'] as const) {
      const path = join(dir, `${storage}.safetensors`);
      await writeSafetensors(
        path,
        {
          w: { shape: [values.length], data: values },
          ids: { shape: [2], data: new Int32Array([4, 5]) },
        },
        { floatStorage: storage },
      );
      const back = await readSafetensors(path);
      const w = back.tensors.get('w')!;
      assert.equal(w.dtype, storage);
      assert.equal(w.data.byteLength, values.length * 2);
      assert.equal(back.tensors.get('ids')!.dtype, 'I32');
      const f = tensorToFloat32(w, 'w');
      const expected = Array.from(values, (v) =>
        storage === 'F16' ? f16BitsToF32(f32ToF16Bits(v)) : bf16BitsToF32(f32ToBf16Bits(v)),
      );
      assert.deepEqual(Array.from(f), expected);
      assert.equal(f[0], 1);
      assert.equal(f[1], -2.5);
      assert.ok(Number.isNaN(f[6]));
    }
    // Explicit dtype with float32 values converts too.
    const out = parseSafetensors(
      serializeSafetensors({ h: { dtype: 'F16', shape: [2], data: new Float32Array([1, 0.5]) } }),
    );
    assert.deepEqual(tensorTypedArray(out.tensors.get('h')!), new Uint16Array([0x3c00, 0x3800]));
  });

  test('tensorToFloat32 refuses integer tensors, naming them', () => {
    const f = parseSafetensors(serializeSafetensors({ ids: { shape: [1], data: new Int32Array([1]) } }));
    assert.throws(
      () => tensorToFloat32(f.tensors.get('ids')!, 'ids'),
      /ids: dtype I32 is not a floating-point/,
    );
  });

  test('a tensor or metadata key named __proto__ is written and read like any other', () => {
    const bytes = serializeSafetensors(
      new Map<string, TensorInput>([
        ['__proto__', { shape: [1], data: new Float32Array([3]) }],
        ['b', { shape: [1], data: new Float32Array([4]) }],
      ]),
      { metadata: JSON.parse('{"__proto__": "kept"}') as Record<string, string> },
    );
    const back = parseSafetensors(bytes, 'proto.safetensors');
    assert.deepEqual([...back.tensors.keys()].sort(), ['__proto__', 'b']);
    assert.deepEqual(tensorToFloat32(back.tensors.get('__proto__')!), new Float32Array([3]));
    assert.equal(Object.getOwnPropertyDescriptor(back.metadata, '__proto__')?.value, 'kept');
    assert.throws(
      () => serializeSafetensors({ __metadata__: { shape: [1], data: new Float32Array([1]) } }),
      /"__metadata__" is reserved and cannot name a tensor/,
    );
  });

  test('inconsistent inputs are refused on write', () => {
    assert.throws(
      () => serializeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }),
      /"x".*needs 3 values/,
    );
    assert.throws(
      () => serializeSafetensors({ x: { dtype: 'I64', shape: [1], data: new Int32Array(1) } }),
      /Int32Array, which does not hold I64/,
    );
    assert.throws(
      () => serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Uint8Array(7) } }),
      /needs 8 bytes/,
    );
    assert.throws(
      () => serializeSafetensors({ __metadata__: { shape: [1], data: new Uint8Array(1) } }),
      /reserved/,
    );
    assert.throws(
      () => serializeSafetensors({ x: { shape: [-1], data: new Uint8Array(1) } }),
      /non-negative integers/,
    );
  });
});

describe('float16 / bfloat16 conversion', () => {
  test('f32 -> f16 bit patterns, round to nearest even', () => {
    const cases: [number, number][] = [
      [1.0, 0x3c00],
      [-2.5, 0xc100],
      [65504, 0x7bff], // largest finite half
      [65519.99, 0x7bff], // just below the rounding midpoint to inf
      [65520, 0x7c00], // midpoint: ties to even -> inf
      [1e6, 0x7c00],
      [-1e6, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [2 ** -25, 0x0000], // exact midpoint between 0 and 2^-24: ties to even -> 0
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // midpoint between 1 and 2 subnormal units -> even (2)
      [5 * 2 ** -25, 0x0002], // midpoint between 2 and 3 -> even (2)
      [2 ** -26, 0x0000],
      [1 + 2 ** -11, 0x3c00], // tie -> even mantissa
      [1 + 3 * 2 ** -11, 0x3c02], // tie -> even (rounds up)
      [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie -> up
      [0, 0x0000],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1 / 3, 0x3555],
    ];
    for (const [x, bits] of cases)
      assert.equal(f32ToF16Bits(x), bits, `${x} -> 0x${bits.toString(16).padStart(4, '0')}`);
    const nan = f32ToF16Bits(NaN);
    assert.equal(nan & 0x7c00, 0x7c00);
    assert.notEqual(nan & 0x03ff, 0);
    // A NaN whose payload lives only in the low float32 mantissa bits must not turn into inf.
    const lowNan = f32ToF16Bits(f32FromBits(0x7f800001));
    assert.equal(lowNan & 0x7c00, 0x7c00);
    assert.notEqual(lowNan & 0x03ff, 0);
  });

  test('f16 -> f32 bit patterns', () => {
    assert.equal(f16BitsToF32(0x3c00), 1);
    assert.equal(f16BitsToF32(0xc100), -2.5);
    assert.equal(f16BitsToF32(0x7bff), 65504);
    assert.equal(f16BitsToF32(0x0001), 2 ** -24);
    assert.equal(f16BitsToF32(0x0001), 5.960464477539063e-8);
    assert.equal(f16BitsToF32(0x03ff), 1023 * 2 ** -24);
    assert.equal(f16BitsToF32(0x0400), 2 ** -14);
    assert.equal(f16BitsToF32(0x7c00), Infinity);
    assert.equal(f16BitsToF32(0xfc00), -Infinity);
    assert.ok(Number.isNaN(f16BitsToF32(0x7e00)));
    assert.ok(Number.isNaN(f16BitsToF32(0xfc01)));
    assert.ok(Object.is(f16BitsToF32(0x8000), -0));
  });

  test('every finite half round-trips through f32 exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      assert.equal(f32ToF16Bits(x), h);
    }
  });

  test('f32 -> f16 picks the nearest half for random inputs', () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(rand() * 2 ** (Math.floor(rand() * 40) - 20));
      const h = f32ToF16Bits(x);
      const y = f16BitsToF32(h);
      const up = f16BitsToF32(h + 1);
      const down = h & 0x7fff ? f16BitsToF32(h - 1) : y;
      if (!Number.isFinite(up) || !Number.isFinite(y)) continue;
      assert.ok(Math.abs(x - y) <= Math.abs(x - up) && Math.abs(x - y) <= Math.abs(x - down), `${x}`);
    }
  });

  test('bf16 bit patterns', () => {
    const cases: [number, number][] = [
      [1.0, 0x3f80],
      [-2.5, 0xc020],
      [65504, 0x4780], // 0x477fe000 rounds up to 65536
      [f32FromBits(0x3f808000), 0x3f80], // tie -> even
      [f32FromBits(0x3f818000), 0x3f82], // tie -> even (up)
      [f32FromBits(0x3f808001), 0x3f81],
      [f32FromBits(0x00010000), 0x0001], // bf16 subnormal, exact
      [f32FromBits(0x00000001), 0x0000], // tiny f32 subnormal rounds to 0
      [3.4028234663852886e38, 0x7f80], // max float32 rounds to inf
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [-0, 0x8000],
    ];
    for (const [x, bits] of cases)
      assert.equal(f32ToBf16Bits(x), bits, `${x} -> 0x${bits.toString(16).padStart(4, '0')}`);
    assert.equal(f32ToBf16Bits(NaN), 0x7fc0);
    const lowNan = f32ToBf16Bits(f32FromBits(0x7f800001));
    assert.equal(lowNan & 0x7f80, 0x7f80);
    assert.notEqual(lowNan & 0x7f, 0, 'NaN must not become inf');

    assert.equal(bf16BitsToF32(0x3f80), 1);
    assert.equal(bf16BitsToF32(0xc020), -2.5);
    assert.equal(bf16BitsToF32(0x0001), 2 ** -133);
    assert.equal(bf16BitsToF32(0x7f80), Infinity);
    assert.equal(bf16BitsToF32(0xff80), -Infinity);
    assert.ok(Number.isNaN(bf16BitsToF32(0x7fc0)));
    assert.equal(f32bits(bf16BitsToF32(0x1234)), 0x12340000);
  });
});

describe('sharded checkpoints', () => {
  const make = (i: number) => new Float32Array(100).map((_, j) => i * 1000 + j); // 400 bytes each

  test('write sharded with HF naming and index, read back as one map', async () => {
    const dir = await freshDir();
    const tensors: Record<string, TensorInput> = {};
    for (let i = 0; i < 5; i++) tensors[`layer.${i}.weight`] = { shape: [10, 10], data: make(i) };
    const files = await writeSafetensorsDir(dir, tensors, { maxShardSize: 1000 });
    assert.deepEqual(files, [
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
      INDEX_FILE_NAME,
    ]);
    const index = JSON.parse(await readFile(join(dir, INDEX_FILE_NAME), 'utf8'));
    assert.deepEqual(index.metadata, { total_size: 2000 });
    assert.equal(index.weight_map['layer.0.weight'], 'model-00001-of-00003.safetensors');
    assert.equal(index.weight_map['layer.1.weight'], 'model-00001-of-00003.safetensors');
    assert.equal(index.weight_map['layer.2.weight'], 'model-00002-of-00003.safetensors');
    assert.equal(index.weight_map['layer.4.weight'], 'model-00003-of-00003.safetensors');

    const back = await readSafetensorsDir(dir);
    assert.equal(back.tensors.size, 5);
    assert.deepEqual(back.metadata, { format: 'pt' });
    assert.deepEqual(back.indexMetadata, { total_size: 2000 });
    for (let i = 0; i < 5; i++) {
      const t = back.tensors.get(`layer.${i}.weight`)!;
      assert.deepEqual(t.shape, [10, 10]);
      assert.deepEqual(tensorToFloat32(t), make(i));
    }

    // A tensor above the limit gets its own shard.
    const big = await freshDir();
    await writeSafetensorsDir(
      big,
      {
        a: { shape: [100], data: make(0) },
        huge: { shape: [1000], data: new Float32Array(1000) },
        b: { shape: [100], data: make(1) },
      },
      { maxShardSize: '1KB' },
    );
    const bigIndex = JSON.parse(await readFile(join(big, INDEX_FILE_NAME), 'utf8'));
    assert.deepEqual(bigIndex.weight_map, {
      a: 'model-00001-of-00003.safetensors',
      b: 'model-00003-of-00003.safetensors',
      huge: 'model-00002-of-00003.safetensors',
    });
    assert.equal((await readSafetensorsDir(big)).tensors.size, 3);
  });

  test('single shard writes model.safetensors and removes stale shards', async () => {
    const dir = await freshDir();
    const tensors = { a: { shape: [100], data: make(0) }, b: { shape: [100], data: make(1) } };
    await writeSafetensorsDir(dir, tensors, { maxShardSize: 500 });
    assert.equal((await readdir(dir)).length, 3);
    assert.deepEqual(await writeSafetensorsDir(dir, tensors, { floatStorage: 'BF16' }), [
      'model.safetensors',
    ]);
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const back = await readSafetensorsDir(dir);
    assert.deepEqual(back.files, ['model.safetensors']);
    assert.equal(back.tensors.get('a')!.dtype, 'BF16');
  });

  test('index naming a missing shard is an error naming the index and the shard', async () => {
    const dir = await freshDir();
    await writeSafetensorsDir(
      dir,
      { a: { shape: [100], data: make(0) }, b: { shape: [100], data: make(1) } },
      { maxShardSize: 500 },
    );
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await assert.rejects(readSafetensorsDir(dir), (e: Error) => {
      assert.ok(e.message.includes(join(dir, INDEX_FILE_NAME)), e.message);
      assert.match(e.message, /shard "model-00002-of-00002.safetensors".*missing/);
      return true;
    });
  });

  test('index listing a tensor its shard lacks is an error naming the shard and tensor', async () => {
    const dir = await freshDir();
    await writeSafetensorsDir(
      dir,
      { a: { shape: [100], data: make(0) }, b: { shape: [100], data: make(1) } },
      { maxShardSize: 500 },
    );
    const indexPath = join(dir, INDEX_FILE_NAME);
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    index.weight_map['ghost'] = 'model-00001-of-00002.safetensors';
    await writeFile(indexPath, JSON.stringify(index));
    await assert.rejects(readSafetensorsDir(dir), (e: Error) => {
      assert.ok(e.message.includes(join(dir, 'model-00001-of-00002.safetensors')), e.message);
      assert.match(e.message, /tensor "ghost" is listed .* does not contain it/);
      return true;
    });
  });

  test('index with a path outside the directory is refused', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, INDEX_FILE_NAME), JSON.stringify({ weight_map: { a: '../x.safetensors' } }));
    await assert.rejects(readSafetensorsDir(dir), /must be a file name in the same directory/);
  });

  test('model.safetensors is read before an index, as transformers does', async () => {
    const dir = await freshDir();
    await writeSafetensorsDir(
      dir,
      { a: { shape: [100], data: make(0) }, b: { shape: [100], data: make(1) } },
      {
        maxShardSize: 500,
      },
    );
    await writeSafetensors(join(dir, 'model.safetensors'), { a: { shape: [100], data: make(7) } });
    const back = await readSafetensorsDir(dir);
    assert.deepEqual(back.files, ['model.safetensors']);
    assert.deepEqual(tensorToFloat32(back.tensors.get('a')!), make(7));
  });

  test('a sharded save that fails part-way leaves no index over a mix of old and new shards', async () => {
    const dir = await freshDir();
    const v = (i: number) => ({ a: { shape: [100], data: make(i) }, b: { shape: [100], data: make(i) } });
    await writeSafetensorsDir(dir, v(1), { maxShardSize: 500 });
    // Make the second shard unwritable: the new save stops after overwriting the first.
    await rm(join(dir, 'model-00002-of-00002.safetensors'));
    await mkdir(join(dir, 'model-00002-of-00002.safetensors'));
    await assert.rejects(writeSafetensorsDir(dir, v(2), { maxShardSize: 500 }));
    await assert.rejects(
      readSafetensorsDir(dir),
      /no model.safetensors.index.json: a save into this directory was interrupted/,
    );
    // Over a single file, the old single file stays the one read until the new save is complete.
    const single = await freshDir();
    await writeSafetensorsDir(single, v(1));
    await mkdir(join(single, 'model-00002-of-00002.safetensors'));
    await assert.rejects(writeSafetensorsDir(single, v(2), { maxShardSize: 500 }));
    assert.deepEqual(tensorToFloat32((await readSafetensorsDir(single)).tensors.get('b')!), make(1));
  });

  test('an index naming no tensor, naming one twice, or with non-object metadata, is refused', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, INDEX_FILE_NAME), JSON.stringify({ weight_map: {} }));
    await assert.rejects(readSafetensorsDir(dir), /"weight_map" is empty/);
    await writeFile(
      join(dir, INDEX_FILE_NAME),
      JSON.stringify({ metadata: [1], weight_map: { a: 'x.safetensors' } }),
    );
    await assert.rejects(readSafetensorsDir(dir), /"metadata" must be an object, got an array/);
    await writeFile(
      join(dir, INDEX_FILE_NAME),
      '{"weight_map": {"a": "model-00001-of-00002.safetensors",\n "a": "model-00002-of-00002.safetensors"}}',
    );
    await assert.rejects(readSafetensorsDir(dir), /"weight_map" > "a" is given twice \(line 2\)/);
  });

  test('a directory with no safetensors is an error', async () => {
    const dir = await freshDir();
    await assert.rejects(readSafetensorsDir(dir), /no model.safetensors or model.safetensors.index.json/);
  });
});

describe('malformed files', () => {
  let dir: string;
  before(async () => {
    dir = await freshDir();
  });
  const f32x4 = new Uint8Array(16);
  const info = (o: Record<string, unknown>) => JSON.stringify(o);
  const cases: [string, Uint8Array, RegExp][] = [
    ['short', new Uint8Array([1, 2, 3, 4, 5]), /too short \(5 bytes\)/],
    [
      'len-beyond-file',
      rawFile('{}', new Uint8Array(0), 1000n),
      /header length 1000 runs beyond the end of the file/,
    ],
    ['len-huge', rawFile('{}', new Uint8Array(0), 2n ** 62n), /above the 100000000-byte limit/],
    ['len-just-over-limit', rawFile('{}', new Uint8Array(0), 100_000_001n), /above the 100000000-byte limit/],
    ['bad-json', rawFile('{"a": {', f32x4), /header is not valid JSON/],
    ['bad-utf8', rawFile(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid UTF-8/],
    ['array-header', rawFile('[1, 2]'), /header must be a JSON object, got an array/],
    ['number-header', rawFile('42      '), /header must be a JSON object, got number 42/],
    [
      'unknown-dtype',
      rawFile(info({ w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }), new Uint8Array(4)),
      /tensor "w": unknown dtype string "F8_E4M3"/,
    ],
    [
      'lowercase-dtype',
      rawFile(info({ w: { dtype: 'float32', shape: [4], data_offsets: [0, 16] } }), f32x4),
      /tensor "w": unknown dtype string "float32"/,
    ],
    [
      'negative-shape',
      rawFile(info({ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }), f32x4),
      /tensor "w": shape must be an array of non-negative integers, got \[-4\]/,
    ],
    [
      'fractional-shape',
      rawFile(info({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 16] } }), f32x4),
      /tensor "w": shape must be an array of non-negative integers/,
    ],
    [
      'shape-not-array',
      rawFile(info({ w: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }), f32x4),
      /tensor "w": shape must be an array/,
    ],
    [
      'offsets-three',
      rawFile(info({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 8, 16] } }), f32x4),
      /tensor "w": data_offsets must be \[begin, end\]/,
    ],
    [
      'offsets-missing',
      rawFile(info({ w: { dtype: 'F32', shape: [4] } }), f32x4),
      /tensor "w": data_offsets must be \[begin, end\].*got nothing/,
    ],
    [
      'offsets-reversed',
      rawFile(info({ w: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }), f32x4),
      /tensor "w": data_offsets \[16, 0\] have begin > end/,
    ],
    [
      'end-beyond-buffer',
      rawFile(info({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), new Uint8Array(12)),
      /tensor "w": data_offsets end 16 is beyond the data buffer \(12 bytes/,
    ],
    [
      'size-mismatch',
      rawFile(info({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }), f32x4),
      /tensor "w": data_offsets \[0, 16\] span 16 bytes but shape \[2,3\] of F32 needs 24 bytes/,
    ],
    [
      'overlap',
      rawFile(
        info({
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        }),
        new Uint8Array(12),
      ),
      /tensor "b": data_offsets \[4, 12\] overlap tensor "a"/,
    ],
    [
      'same-range-twice',
      rawFile(
        info({
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        }),
        new Uint8Array(8),
      ),
      /overlap tensor/,
    ],
    [
      // Same bytes, another dtype: JSON.parse would keep the I32 reading of them without a word.
      'name-twice',
      rawFile(
        '{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},\n' +
          ' "a": {"dtype": "I32", "shape": [2], "data_offsets": [0, 8]}}',
        new Uint8Array(8),
      ),
      /header names "a" twice \(the second at header line 2, column 2\)/,
    ],
    [
      'key-twice-in-entry',
      rawFile(
        '{"a": {"dtype": "F32", "shape": [2], "shape": [1], "data_offsets": [0, 8]}}',
        new Uint8Array(8),
      ),
      /header names "a" > "shape" twice/,
    ],
    [
      'hole',
      rawFile(
        info({
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        }),
        new Uint8Array(12),
      ),
      /tensor "b": data_offsets \[8, 12\] leave a hole of 4 bytes at \[4, 8\]/,
    ],
    [
      'hole-at-start',
      rawFile(info({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), new Uint8Array(8)),
      /leave a hole of 4 bytes at \[0, 4\]/,
    ],
    [
      'trailing-bytes',
      rawFile(info({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }), new Uint8Array(12)),
      /8 trailing bytes are not covered by any tensor/,
    ],
    [
      'metadata-not-strings',
      rawFile(info({ __metadata__: { epoch: 3 } })),
      /"__metadata__" values must be strings, but key "epoch" is number 3/,
    ],
    [
      'zip-pickle',
      new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0, 0, 0]),
      /only safetensors is supported/,
    ],
    [
      'raw-pickle',
      new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0, 0x2e, 0, 0, 0]),
      /only safetensors is supported/,
    ],
    [
      'raw-pickle-plausible-length',
      (() => {
        // 0x80 0x02 reads as a 640-byte header length: the pickle is recognized when the JSON fails.
        const b = new Uint8Array(700).fill(0x2e);
        b.set([0x80, 0x02, 0, 0, 0, 0, 0, 0]);
        return b;
      })(),
      /only safetensors is supported/,
    ],
  ];
  for (const [name, bytes, problem] of cases)
    test(name, async () => {
      const path = join(dir, `${name}.safetensors`);
      await writeFile(path, bytes);
      await expectProblem(path, problem);
      if (bytes.byteLength >= 8) {
        // The header-only reader applies the same checks.
        await assert.rejects(readSafetensorsHeader(path), (e: Error) => e instanceof SafetensorsError);
      }
    });

  test('a valid file whose header length starts with the pickle magic bytes is still accepted', async () => {
    // Header length 0x280 = 640 begins with bytes 0x80 0x02, like a pickle's PROTO 2 opcode.
    const json = info({ a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } });
    const path = join(dir, 'len640.safetensors');
    await writeFile(path, rawFile(json + ' '.repeat(640 - json.length), new Uint8Array([5])));
    const f = await readSafetensors(path);
    assert.deepEqual(tensorTypedArray(f.tensors.get('a')!), new Uint8Array([5]));
  });

  test('the errors are SafetensorsError carrying the file', async () => {
    const path = join(dir, 'short.safetensors');
    await assert.rejects(
      readSafetensors(path),
      (e: unknown) => e instanceof SafetensorsError && e.file === path,
    );
  });

  test('a well-formed hand-built file is accepted, in any header order, with zero-size tensors', async () => {
    const path = join(dir, 'ok.safetensors');
    const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const header = info({
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
      empty: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
      a: { dtype: 'F32', shape: [], data_offsets: [0, 4] },
      __metadata__: { format: 'pt' },
    });
    await writeFile(path, rawFile(header, data));
    const f = await readSafetensors(path);
    assert.deepEqual([...f.tensors.keys()], ['a', 'empty', 'b']);
    assert.deepEqual(tensorToFloat32(f.tensors.get('b')!), new Float32Array([2, 3]));
    assert.deepEqual(tensorToFloat32(f.tensors.get('a')!), new Float32Array([1])); // unaligned view, copied
    const h = await readSafetensorsHeader(path);
    assert.equal(h.dataStart, 8 + Buffer.byteLength(header));
    assert.deepEqual(h.tensors.get('b')!.dataOffsets, [4, 12]);
  });

  test('.bin / .pt checkpoints are refused without being read', async () => {
    for (const name of ['pytorch_model.bin', 'model.pt', 'weights.pth']) {
      const path = join(dir, name);
      await writeFile(path, 'not even a pickle');
      await expectProblem(path, /only safetensors is supported/);
    }
    const d = await freshDir();
    await writeFile(join(d, 'pytorch_model.bin'), 'x');
    await assert.rejects(readSafetensorsDir(d), /pytorch_model\.bin.*only safetensors is supported/);
  });
});

describe('atomic writes', () => {
  test('no temp files are left behind, and an existing file is replaced whole', async () => {
    const dir = await freshDir();
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, { a: { shape: [2], data: new Float32Array([1, 2]) } });
    await writeSafetensors(path, { b: { shape: [1], data: new Int32Array([7]) } });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const f = await readSafetensors(path);
    assert.deepEqual([...f.tensors.keys()], ['b']);
  });

  test('a failed write leaves the target untouched and no temp file', async () => {
    const dir = await freshDir();
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, { a: { shape: [1], data: new Float32Array([1]) } });
    const before = await readFile(path);
    // Invalid input fails before anything is written.
    await assert.rejects(
      writeSafetensors(path, { a: { dtype: 'F32', shape: [3], data: new Float32Array(1) } }),
      /needs 3 values/,
    );
    assert.deepEqual(await readFile(path), before);
    // The rename fails when the target is a directory: the temp file must be cleaned up.
    const blocked = join(dir, 'blocked.safetensors');
    await mkdir(blocked);
    await assert.rejects(writeSafetensors(blocked, { a: { shape: [1], data: new Float32Array([1]) } }));
    assert.deepEqual((await readdir(dir)).sort(), ['blocked.safetensors', 'model.safetensors']);
    assert.deepEqual(await readdir(blocked), []);
  });

  test('sharded writes leave no temp files either', async () => {
    const dir = await freshDir();
    const tensors: Record<string, TensorInput> = {};
    for (let i = 0; i < 4; i++) tensors[`t${i}`] = { shape: [64], data: new Float32Array(64).fill(i) };
    await writeSafetensorsDir(dir, tensors, { maxShardSize: 300 });
    const files = await readdir(dir);
    assert.ok(
      files.every((f) => !f.endsWith('.tmp') && !f.startsWith('.')),
      files.join(','),
    );
    assert.equal(files.length, 5);
  });
});

test('DTYPE_SIZE covers the expected dtypes', () => {
  assert.deepEqual(Object.keys(DTYPE_SIZE).sort(), [
    'BF16',
    'BOOL',
    'F16',
    'F32',
    'F64',
    'I16',
    'I32',
    'I64',
    'I8',
    'U16',
    'U32',
    'U64',
    'U8',
  ]);
});

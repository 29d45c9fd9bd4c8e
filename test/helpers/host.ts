// Small constructors for host tensors in tests.

import type { HostTensor } from '../../src/runtime/ort.js';

export const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(data),
});

export const i64 = (dims: number[], data: ArrayLike<number>): HostTensor => ({
  dtype: 'int64',
  dims,
  data: BigInt64Array.from(Array.from(data, (v) => BigInt(v))),
});

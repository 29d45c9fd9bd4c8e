// The one module that imports ONNX Runtime. Everything else speaks HostTensor.

import * as ort from 'onnxruntime-node';
import type { DType, TypedArray } from '../graph/dtype.js';

export interface HostTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TypedArray;
}

const ORT_TYPE: Record<DType, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  bool: 'bool',
};
const FROM_ORT: Partial<Record<string, DType>> = Object.fromEntries(Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]));

export interface SessionOptions {
  /** Intra-op threads; defaults to the machine's cores. */
  readonly threads?: number;
}

export class OrtSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(model: Uint8Array, opts: SessionOptions = {}): Promise<OrtSession> {
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    });
    return new OrtSession(session);
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Readonly<Record<string, HostTensor>>, outputs?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) {
      // bool is stored as bytes; onnxruntime-node takes a Uint8Array for it.
      ortFeeds[k] = new ort.Tensor(ORT_TYPE[t.dtype], t.data as never, t.dims as number[]);
    }
    const result = outputs ? await this.session.run(ortFeeds, outputs as string[]) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(result)) {
      const t = v as ort.Tensor;
      const dtype = FROM_ORT[t.type];
      if (!dtype) throw new Error(`output "${k}" has unsupported type ${t.type}`);
      out[k] = { dtype, dims: t.dims, data: t.data as TypedArray };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

// The one module that imports ONNX Runtime. Everything else speaks HostTensor.
// Two engines share ONNX Runtime's JavaScript API: onnxruntime-node (native, the default) and
// onnxruntime-web (WebAssembly, what browsers run; in Node too, for checking that the same graphs run there).

import type * as ort from 'onnxruntime-common';
import type { DType, TypedArray } from '../graph/dtype.js';

export type Engine = 'node' | 'web';

type OrtModule = Pick<typeof ort, 'InferenceSession' | 'Tensor'>;
const engines = new Map<Engine, Promise<OrtModule>>();

/** The engine's module, loaded once. PLMKIT_ENGINE=web picks onnxruntime-web where none is given. */
function ortModule(engine: Engine): Promise<OrtModule> {
  let m = engines.get(engine);
  if (!m) {
    m =
      engine === 'node'
        ? import('onnxruntime-node')
        : import('onnxruntime-web').then(
            (web) => {
              // Node has no cross-origin isolation to ask about; one thread keeps runs deterministic.
              web.env.wasm.numThreads = 1;
              return web;
            },
            (e: unknown) => {
              throw new Error(
                `PLMKIT_ENGINE=web needs the npm package onnxruntime-web (a dev dependency): ${(e as Error).message}`,
                { cause: e },
              );
            },
          );
    engines.set(engine, m);
  }
  return m;
}

const nodeProcess = (
  globalThis as { process?: { env: Record<string, string | undefined>; versions?: { node?: string } } }
).process;
/** An environment variable in Node; undefined in a browser, which has no `process`. */
const env = (name: string): string | undefined => nodeProcess?.env[name];

export function engineOf(opts: { readonly engine?: Engine } = {}): Engine {
  // Outside Node (a browser) only onnxruntime-web exists.
  const e = opts.engine ?? env('PLMKIT_ENGINE') ?? (nodeProcess?.versions?.node ? 'node' : 'web');
  if (e !== 'node' && e !== 'web') throw new Error(`PLMKIT_ENGINE must be "node" or "web", got "${e}"`);
  return e;
}

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
const FROM_ORT: Partial<Record<string, DType>> = Object.fromEntries(
  Object.entries(ORT_TYPE).map(([k, v]) => [v, k as DType]),
);

export interface SessionOptions {
  /** Intra-op threads; defaults to the machine's cores. */
  readonly threads?: number;
  /** Which ONNX Runtime runs the graph (default: PLMKIT_ENGINE, else "node"). */
  readonly engine?: Engine;
  /**
   * ONNX Runtime execution providers in order of preference (default: PLMKIT_EXECUTION_PROVIDERS, a
   * comma-separated list, else the engine's CPU one). ONNX Runtime runs what a provider cannot on the CPU.
   */
  readonly executionProviders?: readonly string[];
  /** Names the session's profile trace under PLMKIT_PROFILE (`ort-LABEL_<time>.json`), e.g. the graph's name. */
  readonly label?: string;
}

/** onnxruntime-web, on the given execution providers (its default, WebAssembly, where none are given). */
export function webSession(executionProviders?: readonly string[] | undefined): SessionOptions {
  return { engine: 'web', ...(executionProviders ? { executionProviders } : {}) };
}

/**
 * Whether graphs for these sessions must write Dropout without ONNX's Dropout op (EmitSpec.dropoutFromUniform):
 * onnxruntime-web 1.30's WebGPU build has no provider that takes a training-mode Dropout node.
 */
export function needsDropoutFromUniform(opts: SessionOptions = {}): boolean {
  return engineOf(opts) === 'web' && (opts.executionProviders ?? []).includes('webgpu');
}

// What each engine's build can be asked for; onnxruntime-node lists its own (cuda and tensorrt need
// libraries that its install step downloads only when asked, see executionProviders()).
const WEB_PROVIDERS = ['wasm', 'cpu', 'webgpu', 'webnn'];

/** The execution providers a session asks for, checked against what the engine knows. */
function executionProviders(engine: Engine, m: OrtModule, opts: SessionOptions): string[] | undefined {
  const asked =
    opts.executionProviders ??
    env('PLMKIT_EXECUTION_PROVIDERS')
      ?.split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
  if (!asked || asked.length === 0) return undefined;
  const listed = (m as { listSupportedBackends?: () => { name: string }[] }).listSupportedBackends;
  const known = engine === 'node' && listed ? listed().map((b) => b.name) : WEB_PROVIDERS;
  const unknown = asked.filter((p) => !known.includes(p));
  if (unknown.length > 0)
    throw new Error(
      `${opts.executionProviders ? 'executionProviders' : 'PLMKIT_EXECUTION_PROVIDERS'}: unknown execution provider ${unknown.map((p) => `"${p}"`).join(', ')} for onnxruntime-${engine}; it knows ${known.join(', ')}`,
    );
  return [...asked];
}

/** A session start that failed on a chosen provider, said with what that provider needs. */
function providerError(providers: readonly string[], e: unknown): Error {
  const needs: Record<string, string> = {
    cuda: "CUDA 12 and cuDNN 9, and onnxruntime-node's CUDA libraries, which `npm ci` skips here (.npmrc): ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node downloads them from outside the npm registry",
    tensorrt: "TensorRT and onnxruntime-node's CUDA libraries (see cuda)",
    webgpu: "a WebGPU adapter (in Node on Linux, a Vulkan driver: a GPU's, or Mesa's lavapipe on the CPU)",
  };
  const hints = providers.filter((p) => needs[p]).map((p) => `${p} needs ${needs[p]}`);
  return new Error(
    `ONNX Runtime could not start a session on execution providers ${providers.join(', ')}: ${(e as Error).message.trim()}${hints.length > 0 ? `\n${hints.join('\n')}` : ''}`,
    { cause: e },
  );
}

export class OrtSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly ort: OrtModule,
    /** Whether ONNX Runtime writes outputs into preallocated tensors (onnxruntime-web does not). */
    private readonly writesInPlace: boolean,
    private readonly profiling = false,
  ) {}

  // bool is stored as bytes; onnxruntime-node takes a Uint8Array for it.
  private toOrt(t: HostTensor): ort.Tensor {
    return new this.ort.Tensor(ORT_TYPE[t.dtype], t.data as never, t.dims as number[]);
  }

  static async create(model: Uint8Array, opts: SessionOptions = {}): Promise<OrtSession> {
    const engine = engineOf(opts);
    const m = await ortModule(engine);
    const providers = executionProviders(engine, m, opts);
    const create = async (options: ort.InferenceSession.SessionOptions) => {
      try {
        return await m.InferenceSession.create(model, {
          ...options,
          ...(providers ? { executionProviders: providers } : {}),
        });
      } catch (e) {
        throw providers ? providerError(providers, e) : e;
      }
    };
    if (engine === 'web') return new OrtSession(await create({ graphOptimizationLevel: 'all' }), m, false);
    // ONNX Runtime's own default thread count ran a 1024^3 matmul at 103 GFLOP/s on a 2-core machine,
    // against 183 GFLOP/s with the core count set explicitly.
    const { availableParallelism } = await import('node:os');
    // PLMKIT_PROFILE=DIR writes ONNX Runtime's per-node timings (Chrome trace JSON) into DIR when the
    // session is released, named by the session's label where it has one; `plmkit bench profile` sums
    // them by op.
    const profileDir = env('PLMKIT_PROFILE');
    // ONNX Runtime writes nothing, and says nothing, into a directory that does not exist.
    if (profileDir) await (await import('node:fs/promises')).mkdir(profileDir, { recursive: true });
    const session = await create({
      ...(profileDir
        ? {
            enableProfiling: true,
            profileFilePrefix: (await import('node:path')).join(
              profileDir,
              opts.label ? `ort-${opts.label.replace(/[^\w.-]/g, '_')}` : 'ort',
            ),
          }
        : {}),
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      // PLMKIT_THREADS lets several single-threaded runs share a machine (small graphs scale poorly).
      intraOpNumThreads: opts.threads ?? (Number(env('PLMKIT_THREADS')) || availableParallelism()),
      interOpNumThreads: 1,
    });
    return new OrtSession(session, m, true, Boolean(profileDir));
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /**
   * Runs the session. `outputs` selects outputs by name; `into` gives preallocated buffers that ONNX
   * Runtime writes in place (so a training loop can double-buffer its parameters without allocating).
   */
  async run(
    feeds: Readonly<Record<string, HostTensor>>,
    outputs?: readonly string[],
    into?: Readonly<Record<string, HostTensor>>,
  ): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = this.toOrt(t);
    let fetches: Record<string, ort.Tensor | null> | string[] | undefined = outputs
      ? [...outputs]
      : undefined;
    if (into && this.writesInPlace) {
      fetches = Object.fromEntries(
        (outputs ?? this.outputNames).map((n) => [n, into[n] ? this.toOrt(into[n]) : null]),
      );
    }
    const result = fetches ? await this.session.run(ortFeeds, fetches) : await this.session.run(ortFeeds);
    const out: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(result)) {
      const target = into?.[k];
      if (target) {
        if (!this.writesInPlace) target.data.set((v as ort.Tensor).data as TypedArray as never);
        out[k] = target;
        continue;
      }
      const t = v as ort.Tensor;
      const dtype = FROM_ORT[t.type];
      if (!dtype) throw new Error(`output "${k}" has unsupported type ${t.type}`);
      out[k] = { dtype, dims: t.dims, data: t.data as TypedArray };
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.profiling) this.session.endProfiling();
    await this.session.release();
  }
}

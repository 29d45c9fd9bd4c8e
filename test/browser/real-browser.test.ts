// The browser bundle in a real browser: headless Chromium (Debian's `chromium`, which .ci/run installs) loads
// the esbuild bundle of src/browser.ts and onnxruntime-web over HTTP from a server in this process, fetches
// model directories that transformers wrote, and must give transformers' token ids and logits; then it
// fine-tunes the tiny BERT with BrowserTrainer, and must give the losses that the same training gives in
// Node on onnxruntime-web. The page posts what it computed back to the server. Skipped, saying so, where no
// Chromium is installed.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error: a JavaScript build script without type declarations
import { buildBrowser } from '../../scripts/build-browser.mjs';
import { BrowserTrainer, fetchModelFiles } from '../../src/browser.js';
import { serveFiles } from '../helpers/serve-files.js';
import { HF_WRITTEN, hfWrittenRows, type HfWrittenRow } from '../helpers/hf-written.js';
import { foxExamples } from '../helpers/toy-text.js';

const MODELS = ['bert', 'roberta', 'roberta-bf16', 'bert-fp16-sharded'];
// On WebGPU, one model of each architecture: the fp16 and bf16 checkpoints become the same float32 graphs
// when they are read (their reading is checked on WebAssembly), and on SwiftShader each model classified
// takes 9-15 s (the phases this test prints).
const WEBGPU_MODELS = ['bert', 'roberta'];
const ORT_DIST = join(import.meta.dirname, '..', '..', 'node_modules', 'onnxruntime-web', 'dist');

/** PLMKIT_CHROMIUM, else the first Chromium on PATH. */
function findChromium(): string | undefined {
  if (process.env['PLMKIT_CHROMIUM']) return process.env['PLMKIT_CHROMIUM'];
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('which', [name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return undefined;
}

/** The page: onnxruntime-web's bundle ORT (the import map) on the execution providers of /providers.json. */
const page = (ort: string) => `<!doctype html>
<meta charset="utf-8">
<script type="importmap">{"imports": {"onnxruntime-web": "/ort/${ort}"}}</script>
<script type="module">
  const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
  /** Classifies /inputs.json with every model, and (on the default providers) fine-tunes the tiny BERT. */
  async function run() {
    const executionProviders = await (await fetch('/providers.json')).json();
    let adapter;
    if (executionProviders?.includes('webgpu')) {
      const a = await navigator.gpu?.requestAdapter();
      if (!a) return { ok: false, noWebGpu: true, error: 'no WebGPU adapter in this browser' };
      adapter = [a.info?.vendor, a.info?.architecture].filter(Boolean).join(' ');
    }
    const { BrowserClassifier, BrowserTrainer, fetchModelFiles } = await import('/plmkit-browser.mjs');
    const inputs = await (await fetch('/inputs.json')).json();
    const out = {};
    const t0 = performance.now();
    const phases = {};
    const lap = (name) => (phases[name] = Math.round(performance.now() - t0));
    for (const [name, rows] of Object.entries(inputs)) {
      const clf = await BrowserClassifier.load(await fetchModelFiles('/model/' + name), { executionProviders });
      out[name] = {
        ids: rows.map((r) => clf.encode(r).ids),
        logits: (await clf.predict(rows)).map((p) => p.logits),
      };
      await clf.release();
      lap('classify ' + name);
    }
    const page = { ok: true, userAgent: navigator.userAgent, adapter, out, phases };
    const { examples, options } = await (await fetch('/train.json')).json();
    const train = async (files, options) => {
      const trainer = await BrowserTrainer.create(files, { labels: ['no', 'yes'], seed: 7, executionProviders: executionProviders ?? undefined });
      const { losses } = await trainer.train(examples, options);
      const { predictions } = await trainer.evaluate(examples);
      await trainer.release();
      return { losses, predictions };
    };
    const bert = await fetchModelFiles('/model/bert');
    if (!executionProviders) return { ...page, training: await train(bert, options) };
    // Without dropout the masks cannot differ from Node's, so the losses must agree; with it, WebGPU's
    // masks come from RandomUniformLike (EmitSpec.dropoutFromUniform) and only have to train.
    const training = await train(withoutDropout(bert), options);
    lap('train without dropout');
    const trainingWithDropout = await train(bert, { ...options, epochs: 1 });
    lap('train with dropout');
    return { ...page, training, trainingWithDropout };
  }
  const withoutDropout = (files) => ({ ...files, config: { ...files.config, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } });
  try {
    await report(await run());
  } catch (e) {
    await report({ ok: false, error: String((e && e.stack) || e) });
  }
</script>`;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

interface PageResult {
  ok: boolean;
  noWebGpu?: boolean;
  error?: string;
  userAgent?: string;
  adapter?: string;
  /** Milliseconds from the first model's load to the end of each phase. */
  phases?: Record<string, number>;
  out?: Record<string, { ids: number[][]; logits: number[][] }>;
  training?: { losses: number[]; predictions: number[] };
  trainingWithDropout?: { losses: number[]; predictions: number[] };
}

const TRAIN = { examples: foxExamples(32, 1), options: { epochs: 4, batchSize: 8, lr: 3e-3, maxLength: 32 } };

/** The page's fine-tuning, in this process on onnxruntime-web (optionally with the model's dropout off). */
async function trainInNode(dropout = true): Promise<{ losses: readonly number[]; predictions: number[] }> {
  const files = await fetchModelFiles('https://example.org/bert', serveFiles(HF_WRITTEN));
  const config = { ...(files.config as object), hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };
  const trainer = await BrowserTrainer.create(dropout ? files : { ...files, config }, {
    labels: ['no', 'yes'],
    seed: 7,
  });
  const { losses } = await trainer.train(TRAIN.examples, TRAIN.options);
  const { predictions } = await trainer.evaluate(TRAIN.examples);
  await trainer.release();
  return { losses, predictions };
}

const chromium = findChromium();

interface PageRun {
  /** onnxruntime-web's bundle for the page. */
  readonly ort: string;
  readonly executionProviders?: readonly string[];
  /** Chromium flags beyond the common ones. */
  readonly flags: readonly string[];
  /** How long the page may take to report, in seconds. */
  readonly timeoutS: number;
  /** The models of test/fixtures/hf-written that the page classifies. */
  readonly models: readonly string[];
}

/** Serves the page, the bundle, onnxruntime-web and the models, runs Chromium on it, returns its report. */
async function runPage(
  run: PageRun,
): Promise<{ r: PageResult; log: string; refs: Record<string, HfWrittenRow[]> }> {
  const bundle = (
    (await buildBrowser('dist/plmkit-browser.mjs', false)) as { outputFiles: { text: string }[] }
  ).outputFiles[0]!.text;
  const refs = Object.fromEntries(
    await Promise.all(run.models.map(async (m) => [m, await hfWrittenRows(m)] as const)),
  );
  const inputs = Object.fromEntries(
    run.models.map((m) => [
      m,
      refs[m]!.map((r) => (r.text_pair === null ? r.text : { text: r.text, textPair: r.text_pair })),
    ]),
  );
  let settle!: (r: PageResult) => void;
  const result = new Promise<PageResult>((resolve) => (settle = resolve));
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (body: string | Buffer, type: string) => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    if (req.method === 'POST' && url.pathname === '/result') {
      let body = '';
      for await (const chunk of req) body += String(chunk);
      res.end();
      settle(JSON.parse(body) as PageResult);
      return;
    }
    if (url.pathname === '/test.html') return send(page(run.ort), TYPES['.html']!);
    if (url.pathname === '/providers.json')
      return send(JSON.stringify(run.executionProviders ?? null), TYPES['.json']!);
    if (url.pathname === '/plmkit-browser.mjs') return send(bundle, TYPES['.mjs']!);
    if (url.pathname === '/inputs.json') return send(JSON.stringify(inputs), TYPES['.json']!);
    if (url.pathname === '/train.json') return send(JSON.stringify(TRAIN), TYPES['.json']!);
    const [root, rest] = url.pathname.startsWith('/ort/')
      ? [ORT_DIST, url.pathname.slice('/ort/'.length)]
      : url.pathname.startsWith('/model/')
        ? [HF_WRITTEN, url.pathname.slice('/model/'.length)]
        : [undefined, ''];
    const file = root && normalize(join(root, rest));
    if (!file?.startsWith(root!)) return void res.writeHead(404).end();
    try {
      send(await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      res.writeHead(404).end();
    }
  };
  const server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const profile = await mkdtemp(join(tmpdir(), 'plmkit-chromium-'));
  let log = '';
  const browser = spawn(
    chromium!,
    [
      '--headless=new',
      '--no-sandbox', // CI runs as root
      ...run.flags,
      '--disable-dev-shm-usage',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      `http://127.0.0.1:${port}/test.html`,
    ],
    // Its own process group, so that the renderer and helper processes can be killed with it.
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  browser.stdout.on('data', (d: Buffer) => (log += String(d)));
  browser.stderr.on('data', (d: Buffer) => (log += String(d)));
  const exited = new Promise<PageResult>((resolve) =>
    browser.on('exit', (code) =>
      resolve({ ok: false, error: `Chromium exited (${code}) before the page reported` }),
    ),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<PageResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, error: `no report from the page within ${run.timeoutS} s` }),
      run.timeoutS * 1000,
    );
  });
  try {
    return { r: await Promise.race([result, exited, timeout]), log, refs };
  } finally {
    clearTimeout(timer);
    const gone = new Promise((resolve) =>
      browser.exitCode === null ? browser.on('exit', resolve) : resolve(0),
    );
    try {
      process.kill(-browser.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5000))]);
    server.close();
    // Helper processes may still be writing into the profile for a moment: retry, and a temporary
    // directory left behind is no test failure.
    await rm(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 }).catch(() => {});
  }
}

test(
  'in headless Chromium the browser bundle gives transformers’ token ids and logits, and fine-tunes as in Node',
  { skip: chromium ? false : 'no Chromium installed (apt-get install chromium, or set PLMKIT_CHROMIUM)' },
  async () => {
    const { r, log, refs } = await runPage({
      ort: 'ort.wasm.min.mjs',
      flags: ['--disable-gpu'],
      timeoutS: 120,
      models: MODELS,
    });
    assert.ok(r.ok, `${r.error}\n--- Chromium's output ---\n${log.slice(-4000)}`);
    assert.match(r.userAgent!, /Chrome\//);
    for (const m of MODELS) {
      refs[m]!.forEach((row, i) => {
        assert.deepEqual(r.out![m]!.ids[i], row.input_ids, `${m}: ids of row ${i}`);
        const d = Math.max(...row.logits.map((v, j) => Math.abs(v - r.out![m]!.logits[i]![j]!)));
        assert.ok(d < 1e-4, `${m}, row ${i}: max |logit diff| ${d}`);
      });
    }
    const node = await trainInNode();
    const page = r.training!;
    assert.equal(page.losses.length, 16);
    const d = Math.max(...node.losses.map((v, i) => Math.abs(v - page.losses[i]!)));
    assert.ok(d < 1e-5, `training losses: max |diff| ${d} (page ${page.losses.join(', ')})`);
    assert.deepEqual(page.predictions, node.predictions);
  },
);

// Chromium's WebGPU: on a machine without a GPU it runs on SwiftShader (Vulkan on the CPU).
const WEBGPU_FLAGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=vulkan',
  '--disable-vulkan-surface',
];

test(
  'in headless Chromium on WebGPU the bundle gives transformers’ ids and logits, and fine-tunes as in Node to rounding',
  { skip: chromium ? false : 'no Chromium installed (apt-get install chromium, or set PLMKIT_CHROMIUM)' },
  async (t) => {
    const { r, log, refs } = await runPage({
      ort: 'ort.webgpu.min.mjs',
      executionProviders: ['webgpu'],
      flags: WEBGPU_FLAGS,
      // SwiftShader runs WebGPU on the CPU: training there took 1-2 minutes beside other work.
      timeoutS: 600,
      models: WEBGPU_MODELS,
    });
    if (r.noWebGpu) return t.skip(`Chromium offers no WebGPU adapter here\n${log.slice(-2000)}`);
    assert.ok(r.ok, `${r.error}\n--- Chromium's output ---\n${log.slice(-4000)}`);
    t.diagnostic(`WebGPU adapter: ${r.adapter}`);
    t.diagnostic(`page phases, ms since the first model: ${JSON.stringify(r.phases)}`);
    for (const m of WEBGPU_MODELS) {
      refs[m]!.forEach((row, i) => {
        assert.deepEqual(r.out![m]!.ids[i], row.input_ids, `${m}: ids of row ${i}`);
        const d = Math.max(...row.logits.map((v, j) => Math.abs(v - r.out![m]!.logits[i]![j]!)));
        assert.ok(d < 1e-4, `${m}, row ${i}: max |logit diff| ${d}`);
      });
    }
    // Fine-tuning without dropout: Node's losses to rounding (WebGPU sums in other orders).
    const node = await trainInNode(false);
    const d = Math.max(...node.losses.map((v, i) => Math.abs(v - r.training!.losses[i]!)));
    t.diagnostic(`training losses without dropout: max |diff| from Node ${d}`);
    assert.equal(r.training!.losses.length, 16);
    assert.ok(d < 1e-4, `training losses: max |diff| ${d} (page ${r.training!.losses.join(', ')})`);
    // With dropout (masks from RandomUniformLike there): the same number of finite losses.
    const withDropout = r.trainingWithDropout!.losses;
    assert.equal(withDropout.length, 4);
    assert.ok(withDropout.every(Number.isFinite), `losses with dropout: ${withDropout.join(', ')}`);
  },
);

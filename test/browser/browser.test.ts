// The browser entry (src/browser.ts): its bundle imports nothing a browser lacks at load time, and it runs,
// under the conditions of a browser, on model directories that transformers wrote: classifying, and
// fine-tuning (BrowserTrainer), whose exported directory plmkit's Node classifier loads too.

import assert from 'node:assert/strict';
import { test } from 'node:test';
// @ts-expect-error: a JavaScript build script without type declarations
import { buildBrowser } from '../../scripts/build-browser.mjs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BrowserClassifier, BrowserTrainer, fetchModelFiles } from '../../src/browser.js';
import { TextClassifier } from '../../src/classify/classifier.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, PET_LABELS_FILE } from '../../src/pet/index.js';
import { runTestsInChild } from '../helpers/child-tests.js';
import { serveFiles } from '../helpers/serve-files.js';
import { HF_WRITTEN } from '../helpers/hf-written.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs('plmkit-browser-');

/** The Node classifier and the browser's, labels a and b, give the same logits on two texts (then released). */
async function assertSameLogits(node: TextClassifier, web: BrowserClassifier): Promise<void> {
  const texts = ['hello world', 'a lazy dog jumps over the quick brown fox'];
  const [a, b] = [await node.predict(texts.map((text) => ({ text }))), await web.predict(texts)];
  assert.deepEqual(node.labelNames, ['a', 'b']);
  a.forEach((p, i) => {
    const d = Math.max(...p.logits.map((v, j) => Math.abs(v - b[i]!.logits[j]!)));
    assert.ok(d < 1e-4, `row ${i}: max |diff| ${d}`);
  });
  await Promise.all([node.release(), web.release()]);
}

test('the browser bundle has no static import of Node built-ins, onnxruntime-node or native tokenizers', async () => {
  const result = (await buildBrowser('dist/plmkit-browser.mjs', false)) as {
    outputFiles: { text: string }[];
  };
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /^import[^\n]*from\s*"(node:[^"]*|fs|os|path|onnxruntime-node|tokenizers)"/m);
  assert.doesNotMatch(code, /require\("(node:[^"]*|fs|os|path|onnxruntime-node|tokenizers)"\)/);
  assert.match(code, /import\("onnxruntime-web"\)/);
});

test('under browser conditions the entry loads transformers-written models and matches their logits', async () => {
  const { pass, fail, stdout } = await runTestsInChild(['test/browser/in-browser-conditions.ts'], {
    imports: ['./test/helpers/browser-only.mjs'],
    env: { PLMKIT_ENGINE: undefined },
  });
  assert.equal(fail, 0, stdout);
  assert.equal(pass, 6, stdout);
});

test('under browser conditions BrowserTrainer fine-tunes, reproducibly, and exports a loadable classifier', async () => {
  const { pass, fail, stdout } = await runTestsInChild(['test/browser/train-in-browser-conditions.ts'], {
    imports: ['./test/helpers/browser-only.mjs'],
    env: { PLMKIT_ENGINE: undefined },
  });
  assert.equal(fail, 0, stdout);
  assert.equal(pass, 5, stdout);
});

test("a directory written from BrowserTrainer's files loads in plmkit's Node classifier with the same logits", async () => {
  const localFetch = serveFiles(HF_WRITTEN);
  const trainer = await BrowserTrainer.create(
    await fetchModelFiles('https://example.org/roberta', localFetch),
    {
      labels: ['a', 'b'],
      seed: 1,
    },
  );
  await trainer.train(
    [
      { text: 'hello world', label: 'a' },
      { text: 'the quick brown fox', label: 'b' },
    ],
    { epochs: 2, batchSize: 2, lr: 1e-3 },
  );
  const files = trainer.toModelFiles();
  const dir = await scratch();
  await writeFile(join(dir, 'config.json'), JSON.stringify(files.config));
  await writeFile(join(dir, 'model.safetensors'), files.weights);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig));
  await assertSameLogits(await TextClassifier.load(dir), await BrowserClassifier.load(files));
  await trainer.release();
});

test("a PET module from BrowserTrainer, written to a directory, loads in plmkit's Node classifier with the same logits", async () => {
  const base = join(HF_WRITTEN, 'bert');
  const localFetch = serveFiles(HF_WRITTEN);
  const files = await fetchModelFiles('https://example.org/bert', localFetch);
  const trainer = await BrowserTrainer.create(files, {
    labels: ['a', 'b'],
    seed: 1,
    pet: { method: 'adapter' },
  });
  await trainer.train(
    [
      { text: 'hello world', label: 'a' },
      { text: 'the quick brown fox', label: 'b' },
    ],
    { epochs: 2, batchSize: 2, lr: 1e-2 },
  );
  const module = trainer.toPetFiles({ baseModelNameOrPath: base });
  const dir = await scratch();
  await writeFile(join(dir, ADAPTER_CONFIG_NAME), JSON.stringify(module.config));
  await writeFile(join(dir, ADAPTER_WEIGHTS_NAME), module.weights);
  await writeFile(join(dir, PET_LABELS_FILE), JSON.stringify({ id2label: module.id2label }));
  await assertSameLogits(
    await TextClassifier.load(base, { adapter: dir }),
    await BrowserClassifier.load(files, { adapter: module }),
  );
  await trainer.release();
});

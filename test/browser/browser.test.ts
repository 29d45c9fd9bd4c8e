// The browser entry (src/browser.ts): its bundle imports nothing a browser lacks at load time, and it runs,
// under the conditions of a browser, on model directories that transformers wrote.

import assert from 'node:assert/strict';
import { test } from 'node:test';
// @ts-expect-error: a JavaScript build script without type declarations
import { buildBrowser } from '../../scripts/build-browser.mjs';
import { runTestsInChild } from '../helpers/child-tests.js';

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
  assert.equal(pass, 4, stdout);
});

// The browser entry (src/browser.ts): its bundle imports nothing a browser lacks at load time, and it runs,
// under the conditions of a browser, on model directories that transformers wrote.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
// @ts-expect-error: a JavaScript build script without type declarations
import { buildBrowser } from '../../scripts/build-browser.mjs';

const root = join(import.meta.dirname, '..', '..');

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
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      './test/helpers/browser-only.mjs',
      '--import',
      'tsx',
      '--test',
      '--test-reporter',
      'tap',
      'test/browser/in-browser-conditions.ts',
    ],
    { cwd: root, env: { ...process.env, NODE_TEST_CONTEXT: undefined, PLMKIT_ENGINE: undefined } },
  ).catch((e: { stdout?: string; message: string }) => {
    throw new Error(`${e.message}\n${e.stdout ?? ''}`.slice(0, 20000));
  });
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(stdout)?.[1]);
  assert.equal(count('fail'), 0, stdout);
  assert.equal(count('pass'), 4, stdout);
});

// `npm run build:browser`: bundles src/browser.ts (the browser entry: BrowserClassifier, fetchModelFiles)
// into dist/plmkit-browser.mjs, one ES module for pages and bundlers. onnxruntime-web stays an import (a page
// loads it, and serves its .wasm files, as its documentation says); Node's built-ins, which only the Node
// code paths import lazily, stay imports too and are never loaded in a browser.
import { build } from 'esbuild';
import process from 'node:process';

export async function buildBrowser(outfile = 'dist/plmkit-browser.mjs', write = true) {
  return build({
    entryPoints: ['src/browser.ts'],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    external: ['node:*', 'onnxruntime-web', 'onnxruntime-node'],
    outfile,
    write,
    logLevel: 'silent',
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildBrowser();
  process.stdout.write('wrote dist/plmkit-browser.mjs\n');
}

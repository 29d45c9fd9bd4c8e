// `node --import ./test/helpers/browser-only.mjs`: what a browser lacks fails to load. onnxruntime-node and
// the native `tokenizers` package cannot be imported at all, and plmkit's own modules (src/) cannot
// import Node's built-ins; tests and dependencies still can (a test reads its fixtures from disk).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  const fromSrc = (context.parentURL ?? '').includes('/src/');
  if (specifier === 'onnxruntime-node' || specifier === 'tokenizers' || (fromSrc && /^node:|^(fs|os|path)$/.test(specifier)))
    throw new Error(specifier + ' is not available in a browser (imported by ' + context.parentURL + ')');
  return next(specifier, context);
}`),
);

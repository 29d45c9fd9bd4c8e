// `node --import ./test/helpers/without-onnxruntime-node.mjs`: importing onnxruntime-node fails, so a run
// that passes did not use it (the onnxruntime-web test runs the engine's tests so).
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node') throw new Error('onnxruntime-node is blocked in this process');
  return next(specifier, context);
}`),
);

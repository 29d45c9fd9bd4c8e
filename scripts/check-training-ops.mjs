// Which of ONNX Runtime's fused gradient and optimizer kernels onnxruntime-node can run: builds a one-node
// graph of each and tries to load it. BiasGelu, an inference contrib op, is the control.
// Usage: node scripts/check-training-ops.mjs   (prints one line per op)

import pkg from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import process from 'node:process';

const { onnx } = pkg;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const value = (name) => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 4 }] } } },
});
const OPS = [
  'BiasGelu',
  'GeluGrad',
  'BiasGeluGrad_dX',
  'LayerNormalizationGrad',
  'SoftmaxGrad_13',
  'DropoutGrad',
  'AdamWOptimizer',
];

for (const op of OPS) {
  const inputs = ['a', 'b'];
  const model = onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: op,
      node: [{ opType: op, domain: 'com.microsoft', input: inputs, output: ['y'] }],
      input: inputs.map(value),
      output: [value('y')],
    },
  }).finish();
  try {
    await ort.InferenceSession.create(model);
    process.stdout.write(`${op}: loads\n`);
  } catch (e) {
    process.stdout.write(`${op}: ${String(e.message).split('\n')[0]}\n`);
  }
}

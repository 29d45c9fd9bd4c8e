// The symbolic tensor API: graph, primitives, compositions, autodiff and ONNX emission.

export * from './dtype.js';
export * from './shape.js';
export { Graph, GraphError, Tensor, fail, type OpDef, type Node } from './graph.js';
export * from './ops/core.js';
export * from './ops/elementwise.js';
export * from './ops/matmul.js';
export * from './ops/reduce.js';
export * from './ops/shape-ops.js';
export * from './ops/nn-ops.js';
export { registeredOps } from './ops/registry.js';
export * from './composite.js';
export { grad, valueAndGrad, vjp } from './autodiff.js';
export {
  emitLoopModel,
  emitModel,
  encodeModel,
  leafName,
  loopNames,
  OPSET,
  type EmitSpec,
  type LoopSpec,
} from './emit.js';
export { matmulFlops } from './cost.js';

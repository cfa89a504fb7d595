export { GraphBuilder, Value, float, floats, int, ints, FLOAT_ATTRIBUTES } from './graph.js';
export type {
  AttributeValue,
  Attributes,
  BoundaryValue,
  ConstantTensor,
  Dim,
  GraphNode,
  Initializer,
  InitializerArray,
  OnnxGraph,
  TypedAttribute,
} from './graph.js';
export type { OnnxDataType } from './onnx-proto.js';
export { GRAPH_DTYPES, Module } from './module.js';
export type { GraphDtype } from './module.js';
export { GraphWeights } from './weights.js';
export { writeOnnxModel } from './write-model.js';
export type { WeightsLayout, WriteOnnxModelOptions, WrittenOnnxModel } from './write-model.js';
export {
  float32ToFloat16Bits,
  foldBatchNorm,
  foldInputBatchNorm,
  quantizeLinearWeight,
  roundHalfEven,
  toFloat16,
  transposeMatrix,
} from './weight-transforms.js';
export type { BatchNormParams, QuantizedMatrix } from './weight-transforms.js';
export * from './layers/index.js';
export { buildModelGraph } from './model-graph.js';
export type { BuiltGraph, GraphBuildOptions, ModelGraphBuilder } from './model-graph.js';

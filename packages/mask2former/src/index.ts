export { MODEL_TYPE, Mask2FormerConfig, SwinConfig } from './config.js';
export type { Mask2FormerBackboneConfig } from './config.js';
export {
  MASK2FORMER_GRAPH_VERSION,
  buildMask2FormerForUniversalSegmentation,
  mask2formerGraphBuilders,
} from './graph.js';
export { Mask2FormerImageProcessor } from './image-processing.js';
export type {
  Mask2FormerPreprocessOptions,
  Mask2FormerProcessorOutput,
  Mask2FormerResolvedOptions,
} from './image-processing.js';
export { Mask2FormerForUniversalSegmentation } from './modeling.js';
export type { Mask2FormerInputs } from './modeling.js';
export {
  postProcessInstanceSegmentation,
  postProcessPanopticSegmentation,
  postProcessSemanticSegmentation,
} from './post-processing.js';
export type {
  InstanceSegmentationOptions,
  InstanceSegmentationResult,
  Mask2FormerOutputs,
  PanopticSegmentationOptions,
  PanopticSegmentationResult,
  SegmentInfo,
  SemanticSegmentationOptions,
  TargetSizes,
} from './post-processing.js';
export { torchTopKUnsortedIndices } from './torch-top-k.js';
export { imageSegmentation } from './tasks.js';
export type {
  ImageSegmentationFunction,
  ImageSegmentationOptions,
  Segment,
  SegmentationSubtask,
} from './tasks.js';
export {
  imageSegmentationOptionsFromPythonKwargs,
  preprocessOptionsFromPythonKwargs,
  segmentationOptionsFromPythonKwargs,
} from './kwargs.js';

export { MODEL_TYPE, Mask2FormerConfig } from './config.js';
export type { Mask2FormerBackboneConfig } from './config.js';
export { MASK2FORMER_PREPROCESS_OPTIONS, Mask2FormerImageProcessor } from './image-processing.js';
export type {
  Mask2FormerPreprocessOptions,
  Mask2FormerProcessorOutput,
  Mask2FormerResolvedOptions,
} from './image-processing.js';
export { Mask2FormerForUniversalSegmentation } from './modeling.js';
export type { Mask2FormerInputs } from './modeling.js';
export {
  INSTANCE_SEGMENTATION_OPTIONS,
  PANOPTIC_SEGMENTATION_OPTIONS,
  SEMANTIC_SEGMENTATION_OPTIONS,
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
} from './post-processing.js';
export { torchTopKUnsortedIndices } from './torch-top-k.js';
export { IMAGE_SEGMENTATION_OPTIONS, imageSegmentation } from './tasks.js';
export type {
  ImageSegmentationFunction,
  ImageSegmentationParts,
  ImageSegmentationOptions,
  Segment,
  SegmentationSubtask,
} from './tasks.js';
export {
  imageSegmentationOptionsFromKwargs,
  preprocessOptionsFromKwargs,
  segmentationOptionsFromKwargs,
} from './kwargs.js';
// One name for the (height, width) per image across packages: core's.
export type { TargetSizes } from '@ortvision/core';

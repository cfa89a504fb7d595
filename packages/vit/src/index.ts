export { MODEL_TYPE, ViTConfig } from './config.js';
export { ViTImageProcessor, ViTImageProcessorFast } from './image-processing.js';
export {
  ViTForImageClassification,
  ViTForMaskedImageModeling,
  ViTModel,
  modelClasses,
} from './modeling.js';
export type { ViTInputs, ViTMaskedImageModelingInputs } from './modeling.js';
export { maskPatches, reconstructionToImages } from './post-processing.js';
export type { MaskSpec } from './post-processing.js';
export { imageClassification, imageFeatureExtraction } from './tasks.js';
export {
  VIT_GRAPH_VERSION,
  buildViTForImageClassification,
  buildViTForMaskedImageModeling,
  buildViTModel,
  vitGraphBuilders,
} from './graph.js';
export type { ViTModelGraphOptions } from './graph.js';

export {
  MODEL_TYPE,
  OWLV2_TEXT_CONFIG_DEFAULTS,
  OWLV2_VISION_CONFIG_DEFAULTS,
  Owlv2Config,
  Owlv2TextConfig,
  Owlv2VisionConfig,
} from './config.js';
export {
  OWLV2_GRAPH_VERSION,
  buildOwlv2ClassHead,
  buildOwlv2ForObjectDetection,
  buildOwlv2ImageEmbeds,
  buildOwlv2TextEmbeds,
  owlv2BoxBias,
  owlv2GraphBuilders,
} from './graph.js';
export { Owlv2ImageProcessor } from './image-processing.js';
export {
  OWLV2_PROCESS_INPUTS,
  OWLV2_PROCESS_OPTIONS,
  Owlv2Processor,
  PADDING_QUERY,
  flattenQueries,
} from './processing.js';
export type {
  Owlv2ProcessInputs,
  Owlv2ProcessOptions,
  Owlv2ProcessorOutput,
  Owlv2ProcessorResult,
  Owlv2TextInput,
} from './processing.js';
export {
  Owlv2ForObjectDetection,
  Owlv2Model,
  Owlv2TextModel,
  Owlv2VisionModel,
  queryMaskOf,
  selectImageQuery,
  modelClasses,
} from './modeling.js';
export type {
  ImageQuerySelection,
  Owlv2DetectionInputs,
  Owlv2DetectionOutput,
  Owlv2ImageEmbeddings,
  Owlv2ImageGuidedOutput,
  Owlv2QueryEmbeddings,
} from './modeling.js';
export {
  IMAGE_GUIDED_DETECTION_OPTIONS,
  OBJECT_DETECTION_OPTIONS,
  postProcessImageGuidedDetection,
  postProcessObjectDetection,
  resolveTargetSizes,
} from './post-processing.js';
export type {
  Box,
  ImageGuidedDetectionOptions,
  ImageGuidedDetectionResult,
  ObjectDetectionOptions,
  ObjectDetectionResult,
} from './post-processing.js';
// One name for the (height, width) per image across packages: core's.
export type { TargetSizes } from '@ortvision/core';
export {
  IMAGE_GUIDED_OBJECT_DETECTION_OPTIONS,
  ZERO_SHOT_OBJECT_DETECTION_OPTIONS,
  imageGuidedObjectDetection,
  zeroShotObjectDetection,
} from './tasks.js';
export type {
  Detection,
  ImageGuidedDetection,
  ImageGuidedObjectDetectionFunction,
  Owlv2TaskParts,
  ZeroShotObjectDetectionFunction,
  ImageGuidedObjectDetectionOptions,
  ZeroShotObjectDetectionOptions,
} from './tasks.js';

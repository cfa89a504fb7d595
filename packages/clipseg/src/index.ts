export { CLIPSegConfig, CLIPSegTextConfig, CLIPSegVisionConfig, MODEL_TYPE } from './config.js';
export {
  CLIPSEG_GRAPH_VERSION,
  buildCLIPSegConditionalModel,
  buildCLIPSegForImageSegmentation,
  buildCLIPSegImageFeatures,
  buildCLIPSegTextFeatures,
  clipsegGraphBuilders,
} from './graph.js';
export { CLIPSegImageProcessor } from './image-processing.js';
export { CLIPSEG_PROCESSOR_INPUTS, CLIPSegProcessor } from './processing.js';
export type {
  CLIPSegProcessorInputs,
  CLIPSegProcessorOutputs,
  CLIPSegProcessorResult,
} from './processing.js';
export {
  CLIPSegForImageSegmentation,
  CLIPSegModel,
  CLIPSegTextModel,
  CLIPSegVisionModel,
  modelClasses,
} from './modeling.js';
export type {
  CLIPSegForwardOptions,
  CLIPSegImageInputs,
  CLIPSegSegmentationInputs,
  CLIPSegSegmentationOutput,
  CLIPSegTextInputs,
} from './modeling.js';
export {
  MASK_TO_IMAGE_OPTIONS,
  maskToImage,
  postProcessPromptMasks,
  thresholdMask,
} from './post-processing.js';
export type { MaskToImageOptions } from './post-processing.js';
export {
  PROMPT_SEGMENTATION_CALL_OPTIONS,
  PROMPT_SEGMENTATION_TASK_OPTIONS,
  promptSegmentation,
} from './tasks.js';
export type {
  PromptSegment,
  PromptSegmentationCallOptions,
  PromptSegmentationFunction,
  PromptSegmentationOptions,
  PromptSegmentationParts,
  PromptSegmentationTaskOptions,
  SegmentationPrompt,
} from './tasks.js';

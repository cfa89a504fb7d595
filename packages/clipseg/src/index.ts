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
export { CLIPSegProcessor } from './processing.js';
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
} from './modeling.js';
export type {
  CLIPSegForwardOptions,
  CLIPSegImageInputs,
  CLIPSegSegmentationInputs,
  CLIPSegSegmentationOutput,
  CLIPSegTextInputs,
} from './modeling.js';
export { maskToImage, postProcessPromptMasks, thresholdMask } from './post-processing.js';
export { promptSegmentation } from './tasks.js';
export type {
  PromptSegment,
  PromptSegmentationCallOptions,
  PromptSegmentationOptions,
  SegmentationPrompt,
} from './tasks.js';

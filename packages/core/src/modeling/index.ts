export { PretrainedConfig } from './config.js';
export { CLIPVisionConfig } from './clip-vision-config.js';
export type {
  ConfigClass,
  ConfigField,
  ConfigFieldType,
  ConfigOptions,
  ConfigSchema,
  ConfigValue,
} from './config.js';
export { PreTrainedModel } from './pretrained-model.js';
export type { ModelInit, PreTrainedModelClass, PretrainedOptions } from './pretrained-model.js';
export { loadGraph } from './graph.js';
export type { LoadGraphOptions } from './graph.js';
export type { IsGiven } from './processor-outputs.js';
export { makePipeline, resolveModel } from './pipeline.js';
export type { ModelSource, Pipeline } from './pipeline.js';
export {
  classifyImages,
  extractImageFeatures,
  imageClassificationTask,
  imageFeatureExtractionTask,
} from './image-tasks.js';
export type {
  FeatureExtractionOptions,
  ImageClassificationTask,
  ImageFeatureExtractionTask,
  ImagePreprocessing,
  ImagesInput,
  ImageTaskOptions,
  LoadablePixelModel,
  PixelModel,
} from './image-tasks.js';

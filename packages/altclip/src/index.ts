export { AltCLIPConfig, AltCLIPTextConfig, AltCLIPVisionConfig, MODEL_TYPE } from './config.js';
export {
  ALTCLIP_GRAPH_VERSION,
  altclipGraphBuilders,
  buildAltCLIPImageFeatures,
  buildAltCLIPModel,
  buildAltCLIPTextFeatures,
} from './graph.js';
export { CLIPImageProcessor } from './image-processing.js';
export { ALTCLIP_PROCESSOR_INPUTS, AltCLIPProcessor, processorOptionsFromKwargs } from './processing.js';
export type { AltCLIPImages, AltCLIPProcessorInputs, AltCLIPProcessorOutput } from './processing.js';
export {
  AltCLIPModel,
  AltCLIPTextModel,
  AltCLIPVisionModel,
  modelClasses,
} from './modeling.js';
export type { AltCLIPInputs, AltCLIPOutput, AltCLIPTextInputs, AltCLIPVisionInputs } from './modeling.js';
export {
  MAX_LOGIT_SCALE,
  checkLogitScale,
  logitsFromNormalized,
  rankCandidateLabels,
  similarityFromEmbeddings,
} from './post-processing.js';
export type { AltCLIPSimilarity, SimilarityOptions } from './post-processing.js';
export {
  ALTCLIP_TASK_SETTINGS,
  TEXT_EMBEDDING_OPTIONS,
  ZERO_SHOT_IMAGE_CLASSIFICATION_OPTIONS,
  embedImage,
  embedText,
  formatHypothesis,
  similarity,
  zeroShotImageClassification,
} from './tasks.js';
export type {
  AltCLIPTaskOptions,
  AltCLIPTaskParts,
  AltCLIPTaskSettings,
  EmbedImageFunction,
  EmbedTextFunction,
  SimilarityFunction,
  TextEmbeddingOptions,
  ZeroShotImageClassificationFunction,
  ZeroShotImageClassificationOptions,
} from './tasks.js';

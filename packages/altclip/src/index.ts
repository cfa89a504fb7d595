export { AltCLIPConfig, AltCLIPTextConfig, AltCLIPVisionConfig, MODEL_TYPE } from './config.js';
export {
  ALTCLIP_GRAPH_VERSION,
  altclipGraphBuilders,
  buildAltCLIPImageFeatures,
  buildAltCLIPModel,
  buildAltCLIPTextFeatures,
} from './graph.js';
export { CLIPImageProcessor } from './image-processing.js';
export { AltCLIPProcessor, processorOptionsFromKwargs } from './processing.js';
export type { AltCLIPImages, AltCLIPProcessorInputs, AltCLIPProcessorOutput } from './processing.js';
export { AltCLIPModel, AltCLIPTextModel, AltCLIPVisionModel } from './modeling.js';
export type { AltCLIPInputs, AltCLIPOutput, AltCLIPTextInputs, AltCLIPVisionInputs } from './modeling.js';
export { logitsFromNormalized, rankCandidateLabels, similarityFromEmbeddings } from './post-processing.js';
export type { AltCLIPSimilarity, SimilarityOptions } from './post-processing.js';
export {
  embedImage,
  embedText,
  formatHypothesis,
  similarity,
  zeroShotImageClassification,
} from './tasks.js';
export type { AltCLIPTaskOptions, ZeroShotImageClassificationOptions } from './tasks.js';

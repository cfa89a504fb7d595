export { MODEL_TYPE, PerceiverConfig } from './config.js';
export {
  PERCEIVER_GRAPH_VERSION,
  buildPerceiverForImageClassificationConvProcessing,
  buildPerceiverForImageClassificationFourier,
  buildPerceiverForImageClassificationLearned,
  buildPerceiverForMaskedLM,
  buildPerceiverForMultimodalAutoencoding,
  buildPerceiverForOpticalFlow,
  buildPerceiverForSequenceClassification,
  buildPerceiverModel,
  buildPerceiverModelNoPreprocessor,
  perceiverGraphBuilders,
} from './graph.js';
export { PerceiverImageProcessor } from './image-processing.js';
export {
  PERCEIVER_SPECIAL_TOKENS,
  PerceiverTokenizer,
  decodeOptionsFromKwargs,
  encodeOptionsFromKwargs,
} from './tokenization.js';
export type {
  PerceiverDecodeOptions,
  PerceiverEncodeOptions,
  PerceiverEncoding,
  PerceiverTokenIds,
  PerceiverTokenizerSettings,
  TextInput,
} from './tokenization.js';
export {
  PerceiverForImageClassificationConvProcessing,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationLearned,
  PerceiverForMaskedLM,
  PerceiverForMultimodalAutoencoding,
  PerceiverForOpticalFlow,
  PerceiverForSequenceClassification,
  PerceiverModel,
} from './modeling.js';
export type {
  PerceiverAutoencoding,
  PerceiverEmbeddingInputs,
  PerceiverImageInputs,
  PerceiverMultimodalInputs,
  PerceiverMultimodalOutputs,
  PerceiverOpticalFlowInputs,
  PerceiverTextInputs,
} from './modeling.js';
export { computeGridIndices, computeOpticalFlow, extractImagePatches } from './optical-flow.js';
export type { OpticalFlowModel, OpticalFlowOptions } from './optical-flow.js';
export { flowToImage } from './post-processing.js';
export type { FlowToImageOptions } from './post-processing.js';
export {
  fillMask,
  imageClassification,
  multimodalAutoencoding,
  opticalFlow,
  textClassification,
} from './tasks.js';
export type {
  FillMaskOptions,
  FillMaskOutput,
  FillMaskResult,
  MultimodalAutoencodingOptions,
  MultimodalAutoencodingResult,
  PerceiverImageClassifier,
  PerceiverImageTaskOptions,
  PerceiverTextTaskOptions,
  TextClassificationOptions,
} from './tasks.js';

export {
  classifyLogits,
  classifyOptionsFromKwargs,
  defaultClassificationFunction,
  labelOf,
} from './classification.js';
export type {
  ClassificationConfig,
  ClassificationFunction,
  ClassifyOptions,
  LabelScore,
} from './classification.js';

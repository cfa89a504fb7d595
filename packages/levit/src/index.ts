export { LevitConfig, MODEL_TYPE } from './config.js';
export { LevitImageProcessor } from './image-processing.js';
export {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitModel,
} from './modeling.js';
export type { LevitInputs } from './modeling.js';
export {
  LEVIT_GRAPH_VERSION,
  buildLevitForImageClassification,
  buildLevitForImageClassificationWithTeacher,
  buildLevitModel,
  levitGraphBuilders,
} from './graph.js';
export { imageClassification, imageFeatureExtraction } from './tasks.js';
export type { LevitClassifier } from './tasks.js';

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
export {
  argsortDescending,
  boxArea,
  boxIou,
  boxIouAndUnion,
  centerToCorners,
  generalizedBoxIou,
  greedyNms,
  iouWithEach,
} from './boxes.js';
export type { BoundingBox } from './boxes.js';
export {
  binaryMaskToRle,
  nearestSourceIndices,
  resizeNearest,
  segmentationToRle,
  uniqueValues,
} from './masks.js';

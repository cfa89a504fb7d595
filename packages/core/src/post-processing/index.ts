export {
  CLASSIFY_OPTIONS,
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
export { targetSizePairs } from './target-sizes.js';
export type { TargetSizeRules, TargetSizes } from './target-sizes.js';
export { checkFinite } from './finite.js';

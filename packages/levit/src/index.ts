export { MODEL_TYPE } from './config.js';
export { LevitImageProcessor } from './image-processing.js';

export { MODEL_TYPE } from './config.js';
export { PerceiverImageProcessor } from './image-processing.js';

export { MODEL_TYPE } from './config.js';
export { CLIPImageProcessor } from './image-processing.js';

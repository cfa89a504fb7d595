export { MODEL_TYPE } from './config.js';
export { CLIPSegImageProcessor } from './image-processing.js';

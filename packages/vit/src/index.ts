export { MODEL_TYPE } from './config.js';
export { ViTImageProcessor, ViTImageProcessorFast } from './image-processing.js';

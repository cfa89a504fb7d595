export { MODEL_TYPE } from './config.js';

export { CLIPTextConfig } from './clip-text-config.js';
export { CLIPCompositeConfig, configDefaults } from './clip-config.js';
export { clipPixelValues, clipTextFeeds, graphOutput } from './tower-inputs.js';
export type { CLIPTextInputs, CLIPTextLimits, CLIPVisionInputs, CLIPVisionLimits } from './tower-inputs.js';
export {
  CLIPDualTowerModel,
  CLIPTextTowerModel,
  CLIPTowerModel,
  CLIPVisionTowerModel,
} from './tower-models.js';
export type { CLIPTowerConfig } from './tower-models.js';
export { LruCache, textEmbeddingCacheSize } from './text-embedding-cache.js';
export type { TextEmbeddingCacheOptions } from './text-embedding-cache.js';
export { TextImageProcessor } from './text-image-processor.js';
export type {
  ImageProcessorClass,
  TextImageProcessorClass,
  TextImageTensors,
} from './text-image-processor.js';

export { activation, ACTIVATION_NAMES } from './activation.js';
export {
  attendHeads,
  causalMaskBias,
  invertAttentionMask,
  scaledDotProductAttention,
  selfAttention,
} from './attention.js';
export type { AttendHeadsOptions, AttentionOptions, SelfAttentionOptions } from './attention.js';
export {
  clipAttention,
  clipContrastiveLogits,
  clipEncoder,
  clipEncoderLayer,
  clipImageFeatures,
  clipMlp,
  clipTextEmbeddings,
  clipTextFeatures,
  clipTextPooling,
  clipTextTransformer,
  clipVisionEmbeddings,
  clipVisionPooledOutput,
  clipVisionTransformer,
} from './clip.js';
export type {
  CLIPContrastiveOutputs,
  CLIPEncoderConfig,
  CLIPEncoderOutputs,
  CLIPTextPooling,
  CLIPTextTowerConfig,
  CLIPVisionTowerConfig,
  CLIPVisionTowerOptions,
} from './clip.js';
export type { FoldedBatchNorm } from './batch-norm.js';
export { conv, convTranspose } from './conv.js';
export type { ConvOptions, ConvTransposeOptions } from './conv.js';
export { embedding } from './embedding.js';
export type { EmbeddingOptions } from './embedding.js';
export { groupNorm } from './group-norm.js';
export type { GroupNormOptions } from './group-norm.js';
export { layerNorm } from './layer-norm.js';
export { storedWeight } from './precision.js';
export type { LayerNormOptions } from './layer-norm.js';
export { linear } from './linear.js';
export type { LinearOptions, PackedRows } from './linear.js';
export { multiheadAttention } from './multihead-attention.js';
export type { MultiheadAttentionOptions } from './multihead-attention.js';
export { l2NormalizeLastAxis } from './normalize.js';
export type { L2NormalizeLastAxisOptions } from './normalize.js';

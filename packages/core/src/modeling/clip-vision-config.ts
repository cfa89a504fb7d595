import { type ConfigSchema, PretrainedConfig } from './config.js';

/**
 * The fields of transformers' `CLIPVisionConfig` (CLIP's ViT image tower) with the defaults of the model docs
 * (ViT-B/32 at 224 px). The CLIP-family packages declare their image towers on it (`CLIPSegVisionConfig`,
 * `AltCLIPVisionConfig`), adding their own `model_type` default and any field of their own.
 *
 * @example
 * ```ts
 * import { CLIPVisionConfig, type ConfigSchema } from '@ortvision/core';
 * class MyVisionConfig extends CLIPVisionConfig {
 *   static override readonly schema: ConfigSchema = {
 *     ...CLIPVisionConfig.schema,
 *     model_type: { type: 'string', default: 'my_vision_model' },
 *   };
 * }
 * ```
 */
export class CLIPVisionConfig extends PretrainedConfig {
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    model_type: { type: 'string', default: 'clip_vision_model' },
    hidden_size: { type: 'integer', default: 768 },
    intermediate_size: { type: 'integer', default: 3072 },
    num_hidden_layers: { type: 'integer', default: 12 },
    num_attention_heads: { type: 'integer', default: 12 },
    num_channels: { type: 'integer', default: 3 },
    image_size: { type: 'integer', default: 224 },
    patch_size: { type: 'integer', default: 32 },
    hidden_act: { type: 'string', default: 'quick_gelu' },
    layer_norm_eps: { type: 'number', default: 1e-5 },
    attention_dropout: { type: 'number', default: 0.0 },
    initializer_range: { type: 'number', default: 0.02 },
    initializer_factor: { type: 'number', default: 1.0 },
  };

  declare readonly hidden_size: number;
  declare readonly intermediate_size: number;
  declare readonly num_hidden_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly num_channels: number;
  declare readonly image_size: number;
  declare readonly patch_size: number;
  declare readonly hidden_act: string;
  declare readonly layer_norm_eps: number;
  declare readonly attention_dropout: number;
  declare readonly initializer_range: number;
  declare readonly initializer_factor: number;

  /**
   * Whether the tower interpolates its position embeddings to the input's size (CLIPSeg's does, so its processors
   * resize to 352 px while `image_size` is 224); CLIP's own tower takes `image_size` only.
   */
  get interpolatesPositionEmbeddings(): boolean {
    return false;
  }
}

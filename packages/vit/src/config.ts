import { type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'vit';

/**
 * transformers' `ViTConfig`: every field with the default of the model docs (ViT-Base/16 at 224 px). Unknown
 * fields of config.json are kept as read.
 *
 * @example
 * ```ts
 * import { ViTConfig } from '@ortvision/vit';
 * const config = await ViTConfig.fromPretrained('google/vit-base-patch16-224');
 * console.log(config.image_size, config.patch_size, config.numLabels); // 224 16 1000
 * ```
 */
export class ViTConfig extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    hidden_size: { type: 'integer', default: 768 },
    num_hidden_layers: { type: 'integer', default: 12 },
    num_attention_heads: { type: 'integer', default: 12 },
    intermediate_size: { type: 'integer', default: 3072 },
    hidden_act: { type: 'string', default: 'gelu' },
    hidden_dropout_prob: { type: 'number', default: 0.0 },
    attention_probs_dropout_prob: { type: 'number', default: 0.0 },
    initializer_range: { type: 'number', default: 0.02 },
    layer_norm_eps: { type: 'number', default: 1e-12 },
    image_size: { type: 'integer', default: 224 },
    patch_size: { type: 'integer', default: 16 },
    num_channels: { type: 'integer', default: 3 },
    qkv_bias: { type: 'boolean', default: true },
    encoder_stride: { type: 'integer', default: 16 },
    problem_type: { type: 'string', nullable: true },
  };

  declare readonly hidden_size: number;
  declare readonly num_hidden_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly intermediate_size: number;
  declare readonly hidden_act: string;
  declare readonly hidden_dropout_prob: number;
  declare readonly attention_probs_dropout_prob: number;
  declare readonly initializer_range: number;
  declare readonly layer_norm_eps: number;
  declare readonly image_size: number;
  declare readonly patch_size: number;
  declare readonly num_channels: number;
  declare readonly qkv_bias: boolean;
  declare readonly encoder_stride: number;
  declare readonly problem_type?: string | null;

  /** Patches per image: (image_size / patch_size)², the length of `bool_masked_pos`. */
  get numPatches(): number {
    return Math.floor(this.image_size / this.patch_size) ** 2;
  }
}

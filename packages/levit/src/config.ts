import { type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'levit';

/**
 * transformers' `LevitConfig`: every field with the default of the model docs (LeViT-128S layout at 224 px).
 * `down_ops` defaults to the two Subsample stages transformers derives from `key_dim` and `hidden_sizes`.
 *
 * @example
 * ```ts
 * import { LevitConfig } from '@ortvision/levit';
 * const config = await LevitConfig.fromPretrained('facebook/levit-256');
 * console.log(config.hidden_sizes); // [256, 384, 512]
 * ```
 */
export class LevitConfig extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    image_size: { type: 'integer', default: 224 },
    num_channels: { type: 'integer', default: 3 },
    kernel_size: { type: 'integer', default: 3 },
    stride: { type: 'integer', default: 2 },
    padding: { type: 'integer', default: 1 },
    patch_size: { type: 'integer', default: 16 },
    hidden_sizes: { type: 'integer[]', default: [128, 256, 384] },
    num_attention_heads: { type: 'integer[]', default: [4, 8, 12] },
    depths: { type: 'integer[]', default: [4, 4, 4] },
    key_dim: { type: 'integer[]', default: [16, 16, 16] },
    drop_path_rate: { type: 'number', default: 0 },
    mlp_ratio: { type: 'number[]', default: [2, 2, 2] },
    attention_ratio: { type: 'number[]', default: [2, 2, 2] },
    initializer_range: { type: 'number', default: 0.02 },
    down_ops: { type: 'array' },
    problem_type: { type: 'string', nullable: true },
  };

  declare readonly image_size: number;
  declare readonly num_channels: number;
  declare readonly kernel_size: number;
  declare readonly stride: number;
  declare readonly padding: number;
  declare readonly patch_size: number;
  declare readonly hidden_sizes: number[];
  declare readonly num_attention_heads: number[];
  declare readonly depths: number[];
  declare readonly key_dim: number[];
  declare readonly drop_path_rate: number;
  declare readonly mlp_ratio: number[];
  declare readonly attention_ratio: number[];
  declare readonly initializer_range: number;
  declare readonly problem_type?: string | null;

  /** The attention down-sampling stages: config.json's, or transformers' default derived from key_dim. */
  get down_ops(): (string | number)[][] {
    const given = this.raw.down_ops;
    if (Array.isArray(given)) return given as (string | number)[][];
    const [k0 = 16] = this.key_dim;
    const [h0 = 128, h1 = 256] = this.hidden_sizes;
    return [
      ['Subsample', k0, Math.floor(h0 / k0), 4, 2, 2],
      ['Subsample', k0, Math.floor(h1 / k0), 4, 2, 2],
    ];
  }
}

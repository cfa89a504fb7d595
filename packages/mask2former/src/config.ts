import { type ConfigSchema, type ConfigValue, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'mask2former';

/**
 * The backbone's config as config.json nests it (`backbone_config`, a Swin config for the Hub checkpoints). Only
 * the non-default values are written there; the fields post-processing never needs stay untyped JSON.
 */
export interface Mask2FormerBackboneConfig {
  model_type?: string;
  embed_dim?: number;
  depths?: number[];
  num_heads?: number[];
  window_size?: number;
  image_size?: number;
  out_features?: string[];
  [field: string]: ConfigValue | undefined;
}

/**
 * config.json of a Mask2Former model (transformers' `Mask2FormerConfig`, 4.37.2 defaults). `id2label` holds the
 * class labels; index `num_labels` of `class_queries_logits` is the extra "no object" class.
 *
 * @example
 * ```ts
 * import { Mask2FormerConfig } from '@ortvision/mask2former';
 * const config = await Mask2FormerConfig.fromPretrained('./mask2former-local');
 * console.log(config.num_queries, config.labelOf(0)); // 100 'person'
 * ```
 */
export class Mask2FormerConfig extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema = {
    ...PretrainedConfig.schema,
    backbone_config: { type: 'object', nullable: true },
    feature_size: { type: 'integer', default: 256 },
    mask_feature_size: { type: 'integer', default: 256 },
    hidden_dim: { type: 'integer', default: 256 },
    encoder_feedforward_dim: { type: 'integer', default: 1024 },
    activation_function: { type: 'string', default: 'relu' },
    encoder_layers: { type: 'integer', default: 6 },
    decoder_layers: { type: 'integer', default: 10 },
    num_attention_heads: { type: 'integer', default: 8 },
    dropout: { type: 'number', default: 0.0 },
    dim_feedforward: { type: 'integer', default: 2048 },
    pre_norm: { type: 'boolean', default: false },
    enforce_input_projection: { type: 'boolean', default: false },
    common_stride: { type: 'integer', default: 4 },
    ignore_value: { type: 'integer', default: 255 },
    num_queries: { type: 'integer', default: 100 },
    no_object_weight: { type: 'number', default: 0.1 },
    class_weight: { type: 'number', default: 2.0 },
    mask_weight: { type: 'number', default: 5.0 },
    dice_weight: { type: 'number', default: 5.0 },
    train_num_points: { type: 'integer', default: 12544 },
    oversample_ratio: { type: 'number', default: 3.0 },
    importance_sample_ratio: { type: 'number', default: 0.75 },
    init_std: { type: 'number', default: 0.02 },
    init_xavier_std: { type: 'number', default: 1.0 },
    use_auxiliary_loss: { type: 'boolean', default: true },
    feature_strides: { type: 'integer[]', default: [4, 8, 16, 32] },
    output_auxiliary_logits: { type: 'boolean', nullable: true },
  } satisfies ConfigSchema;

  /** The backbone's config as written in config.json (null/absent: transformers' default Swin). */
  declare readonly backbone_config?: Mask2FormerBackboneConfig | null;
  declare readonly feature_size: number;
  declare readonly mask_feature_size: number;
  declare readonly hidden_dim: number;
  declare readonly encoder_feedforward_dim: number;
  declare readonly activation_function: string;
  declare readonly encoder_layers: number;
  declare readonly decoder_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly dropout: number;
  declare readonly dim_feedforward: number;
  declare readonly pre_norm: boolean;
  declare readonly enforce_input_projection: boolean;
  declare readonly common_stride: number;
  declare readonly ignore_value: number;
  /** Queries per image: rows of `class_queries_logits` / `masks_queries_logits`. */
  declare readonly num_queries: number;
  declare readonly no_object_weight: number;
  declare readonly class_weight: number;
  declare readonly mask_weight: number;
  declare readonly dice_weight: number;
  declare readonly train_num_points: number;
  declare readonly oversample_ratio: number;
  declare readonly importance_sample_ratio: number;
  declare readonly init_std: number;
  declare readonly init_xavier_std: number;
  declare readonly use_auxiliary_loss: boolean;
  declare readonly feature_strides: number[];
  declare readonly output_auxiliary_logits?: boolean | null;
}

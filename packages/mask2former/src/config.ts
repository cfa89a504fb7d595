import { ConfigError, type ConfigSchema, type ConfigValue, PretrainedConfig } from '@ortvision/core';

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

/** The four Swin stages the pixel decoder reads, as `out_features` names them. */
const STAGES = ['stage1', 'stage2', 'stage3', 'stage4'];

/**
 * transformers' `SwinConfig` (4.37 defaults: Swin-T, 224 px, window 7) as a Mask2Former backbone: the fields the
 * graph builder reads. config.json's `backbone_config` lists only the values that differ from these.
 *
 * @example
 * ```ts
 * const swin = new SwinConfig({ model_type: 'swin', embed_dim: 128, depths: [2, 2, 18, 2], num_heads: [4, 8, 16, 32], window_size: 12 });
 * swin.stageChannels; // [128, 256, 512, 1024]
 * ```
 */
export class SwinConfig extends PretrainedConfig {
  static override readonly modelTypes = ['swin'];
  static override readonly schema = {
    ...PretrainedConfig.schema,
    image_size: { type: 'integer', default: 224 },
    patch_size: { type: 'integer', default: 4 },
    num_channels: { type: 'integer', default: 3 },
    embed_dim: { type: 'integer', default: 96 },
    depths: { type: 'integer[]', default: [2, 2, 6, 2] },
    num_heads: { type: 'integer[]', default: [3, 6, 12, 24] },
    window_size: { type: 'integer', default: 7 },
    mlp_ratio: { type: 'number', default: 4.0 },
    qkv_bias: { type: 'boolean', default: true },
    hidden_act: { type: 'string', default: 'gelu' },
    use_absolute_embeddings: { type: 'boolean', default: false },
    layer_norm_eps: { type: 'number', default: 1e-5 },
    out_features: { type: 'string[]', nullable: true },
    out_indices: { type: 'integer[]', nullable: true },
  } satisfies ConfigSchema;

  declare readonly image_size: number;
  declare readonly patch_size: number;
  declare readonly num_channels: number;
  declare readonly embed_dim: number;
  declare readonly depths: number[];
  declare readonly num_heads: number[];
  declare readonly window_size: number;
  declare readonly mlp_ratio: number;
  declare readonly qkv_bias: boolean;
  declare readonly hidden_act: string;
  declare readonly use_absolute_embeddings: boolean;
  declare readonly layer_norm_eps: number;
  declare readonly out_features?: string[] | null;
  declare readonly out_indices?: number[] | null;

  /** Channels of each stage's output: embed_dim doubled by every patch merging. */
  get stageChannels(): number[] {
    return this.depths.map((_, i) => this.embed_dim * 2 ** i);
  }

  /** The stage names the backbone returns (`out_features`, else from `out_indices`, else transformers' last stage). */
  get stageNames(): string[] {
    if (this.out_features) return [...this.out_features];
    if (this.out_indices) return this.out_indices.map((i) => (i === 0 ? 'stem' : `stage${i}`));
    return [`stage${this.depths.length}`];
  }
}

/**
 * The backbone transformers' `Mask2FormerConfig` builds when `backbone_config` is null: Swin with Swin-S's depths
 * (the library default is "similar to facebook/mask2former-swin-small-coco-instance").
 */
const DEFAULT_BACKBONE = {
  model_type: 'swin',
  image_size: 224,
  patch_size: 4,
  embed_dim: 96,
  depths: [2, 2, 18, 2],
  num_heads: [3, 6, 12, 24],
  window_size: 7,
  use_absolute_embeddings: false,
  out_features: STAGES,
};

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

  /**
   * The Swin backbone's config, typed with SwinConfig's defaults; a `ConfigError` when it is not a Swin returning
   * the four stages the pixel decoder reads (every Hub checkpoint's is).
   */
  get swinConfig(): SwinConfig {
    const swin = new SwinConfig(this.backbone_config ?? DEFAULT_BACKBONE, 'config.json backbone_config');
    const stages = swin.stageNames;
    if (swin.depths.length !== 4 || stages.join() !== STAGES.join()) {
      throw new ConfigError(
        `config.json backbone_config: Mask2Former reads the Swin stages ${STAGES.join(', ')} of a 4-stage Swin, got ${swin.depths.length} stages returning ${stages.join(', ')}`,
      );
    }
    if (swin.num_heads.length !== swin.depths.length) {
      throw new ConfigError(
        `config.json backbone_config: num_heads [${swin.num_heads.join(', ')}] needs one entry per stage of depths [${swin.depths.join(', ')}]`,
      );
    }
    return swin;
  }
}

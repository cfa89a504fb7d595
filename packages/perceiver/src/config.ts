import { type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'perceiver';

/**
 * transformers' `PerceiverConfig`: every field with the default of the model docs (deepmind/language-perceiver).
 * Unknown fields of config.json are kept as read.
 *
 * @example
 * ```ts
 * import { PerceiverConfig } from '@ortvision/perceiver';
 * const config = await PerceiverConfig.fromPretrained('deepmind/optical-flow-perceiver');
 * console.log(config.train_size); // [368, 496]
 * ```
 */
export class PerceiverConfig extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    num_latents: { type: 'integer', default: 256 },
    d_latents: { type: 'integer', default: 1280 },
    d_model: { type: 'integer', default: 768 },
    num_blocks: { type: 'integer', default: 1 },
    num_self_attends_per_block: { type: 'integer', default: 26 },
    num_self_attention_heads: { type: 'integer', default: 8 },
    num_cross_attention_heads: { type: 'integer', default: 8 },
    qk_channels: { type: 'integer', nullable: true, default: null },
    v_channels: { type: 'integer', nullable: true, default: null },
    cross_attention_shape_for_attention: { type: 'string', default: 'kv' },
    self_attention_widening_factor: { type: 'integer', default: 1 },
    cross_attention_widening_factor: { type: 'integer', default: 1 },
    hidden_act: { type: 'string', default: 'gelu' },
    attention_probs_dropout_prob: { type: 'number', default: 0.1 },
    initializer_range: { type: 'number', default: 0.02 },
    layer_norm_eps: { type: 'number', default: 1e-12 },
    use_query_residual: { type: 'boolean', default: true },
    vocab_size: { type: 'integer', default: 262 },
    max_position_embeddings: { type: 'integer', default: 2048 },
    image_size: { type: 'integer', default: 56 },
    train_size: { type: 'integer[]', default: [368, 496] },
    num_frames: { type: 'integer', default: 16 },
    audio_samples_per_frame: { type: 'integer', default: 1920 },
    samples_per_patch: { type: 'integer', default: 16 },
    output_shape: { type: 'integer[]', default: [1, 16, 224, 224] },
    output_num_channels: { type: 'integer', default: 512 },
    _label_trainable_num_channels: { type: 'integer', default: 1024 },
    problem_type: { type: 'string', nullable: true },
  };

  declare readonly num_latents: number;
  declare readonly d_latents: number;
  declare readonly d_model: number;
  declare readonly num_blocks: number;
  declare readonly num_self_attends_per_block: number;
  declare readonly num_self_attention_heads: number;
  declare readonly num_cross_attention_heads: number;
  declare readonly qk_channels: number | null;
  declare readonly v_channels: number | null;
  declare readonly cross_attention_shape_for_attention: string;
  declare readonly self_attention_widening_factor: number;
  declare readonly cross_attention_widening_factor: number;
  declare readonly hidden_act: string;
  declare readonly attention_probs_dropout_prob: number;
  declare readonly initializer_range: number;
  declare readonly layer_norm_eps: number;
  declare readonly use_query_residual: boolean;
  declare readonly vocab_size: number;
  declare readonly max_position_embeddings: number;
  /** Side of the square input of `PerceiverForImageClassificationLearned` (one position embedding per pixel). */
  declare readonly image_size: number;
  /** [height, width] of the optical-flow model's input window. */
  declare readonly train_size: number[];
  declare readonly num_frames: number;
  declare readonly audio_samples_per_frame: number;
  declare readonly samples_per_patch: number;
  /** [batch, frames, height, width] of the multimodal autoencoder's video output. */
  declare readonly output_shape: number[];
  declare readonly output_num_channels: number;
  declare readonly _label_trainable_num_channels: number;
  declare readonly problem_type?: string | null;
}

import { CLIPVisionConfig, type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'clipseg';

/**
 * transformers' `CLIPSegTextConfig`: the text tower (a CLIP text transformer), with the defaults of the model docs
 * (CIDAS/clipseg-rd64's text tower). It lives under `text_config` of a `CLIPSegConfig`.
 *
 * @example
 * ```ts
 * import { CLIPSegConfig } from '@ortvision/clipseg';
 * const { textConfig } = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(textConfig.max_position_embeddings, textConfig.eos_token_id); // 77 49407
 * ```
 */
export class CLIPSegTextConfig extends PretrainedConfig {
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    model_type: { type: 'string', default: 'clipseg_text_model' },
    vocab_size: { type: 'integer', default: 49408 },
    hidden_size: { type: 'integer', default: 512 },
    intermediate_size: { type: 'integer', default: 2048 },
    num_hidden_layers: { type: 'integer', default: 12 },
    num_attention_heads: { type: 'integer', default: 8 },
    max_position_embeddings: { type: 'integer', default: 77 },
    hidden_act: { type: 'string', default: 'quick_gelu' },
    layer_norm_eps: { type: 'number', default: 1e-5 },
    attention_dropout: { type: 'number', default: 0.0 },
    initializer_range: { type: 'number', default: 0.02 },
    initializer_factor: { type: 'number', default: 1.0 },
    pad_token_id: { type: 'integer', default: 1 },
    bos_token_id: { type: 'integer', default: 49406 },
    eos_token_id: { type: 'integer', default: 49407 },
  };

  declare readonly vocab_size: number;
  declare readonly hidden_size: number;
  declare readonly intermediate_size: number;
  declare readonly num_hidden_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly max_position_embeddings: number;
  declare readonly hidden_act: string;
  declare readonly layer_norm_eps: number;
  declare readonly attention_dropout: number;
  declare readonly initializer_range: number;
  declare readonly initializer_factor: number;
  declare readonly pad_token_id: number;
  declare readonly bos_token_id: number;
  declare readonly eos_token_id: number;
}

/**
 * transformers' `CLIPSegVisionConfig`: the vision tower (a CLIP ViT), with the defaults of the model docs
 * (ViT-B/16 at 224 px is CIDAS's; the class defaults are ViT-B/32). It lives under `vision_config` of a
 * `CLIPSegConfig`. The exported graphs interpolate the position embeddings, so inputs may be larger than
 * `image_size` (CIDAS's processors resize to 352).
 *
 * @example
 * ```ts
 * import { CLIPSegConfig } from '@ortvision/clipseg';
 * const { visionConfig } = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(visionConfig.image_size, visionConfig.patch_size); // 224 16
 * ```
 */
export class CLIPSegVisionConfig extends CLIPVisionConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPVisionConfig.schema,
    model_type: { type: 'string', default: 'clipseg_vision_model' },
  };
}

/**
 * transformers' `CLIPSegConfig`: the decoder's fields with the defaults of the model docs, and the two towers'
 * configs as `textConfig` / `visionConfig` (config.json's `text_config` / `vision_config`, with their own
 * defaults). Unknown fields of config.json are kept as read.
 *
 * @example
 * ```ts
 * import { CLIPSegConfig } from '@ortvision/clipseg';
 * const config = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(config.projection_dim, config.reduce_dim, config.extract_layers); // 512 64 [3, 6, 9]
 * ```
 */
export class CLIPSegConfig extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    text_config: { type: 'object', default: {}, nullable: true },
    vision_config: { type: 'object', default: {}, nullable: true },
    projection_dim: { type: 'integer', default: 512 },
    logit_scale_init_value: { type: 'number', default: 2.6592 },
    extract_layers: { type: 'integer[]', default: [3, 6, 9] },
    reduce_dim: { type: 'integer', default: 64 },
    decoder_num_attention_heads: { type: 'integer', default: 4 },
    decoder_attention_dropout: { type: 'number', default: 0.0 },
    decoder_hidden_act: { type: 'string', default: 'quick_gelu' },
    decoder_intermediate_size: { type: 'integer', default: 2048 },
    conditional_layer: { type: 'integer', default: 0 },
    use_complex_transposed_convolution: { type: 'boolean', default: false },
    initializer_factor: { type: 'number', default: 1.0 },
  };

  declare readonly text_config: Record<string, unknown> | null;
  declare readonly vision_config: Record<string, unknown> | null;
  declare readonly projection_dim: number;
  declare readonly logit_scale_init_value: number;
  declare readonly extract_layers: number[];
  declare readonly reduce_dim: number;
  declare readonly decoder_num_attention_heads: number;
  declare readonly decoder_attention_dropout: number;
  declare readonly decoder_hidden_act: string;
  declare readonly decoder_intermediate_size: number;
  declare readonly conditional_layer: number;
  declare readonly use_complex_transposed_convolution: boolean;
  declare readonly initializer_factor: number;

  /** The text tower's config (`text_config`, defaults filled in). */
  readonly textConfig: CLIPSegTextConfig;
  /** The vision tower's config (`vision_config`, defaults filled in). */
  readonly visionConfig: CLIPSegVisionConfig;

  constructor(json: Record<string, unknown>, source = 'config.json') {
    super(json, source);
    this.textConfig = new CLIPSegTextConfig(this.text_config ?? {}, `${source} text_config`);
    this.visionConfig = new CLIPSegVisionConfig(this.vision_config ?? {}, `${source} vision_config`);
  }
}

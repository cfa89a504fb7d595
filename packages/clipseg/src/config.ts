import { CLIPCompositeConfig, CLIPTextConfig, CLIPVisionConfig, type ConfigSchema } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'clipseg';

/**
 * transformers' `CLIPSegTextConfig`: core's `CLIPTextConfig` (CIDAS/clipseg-rd64's text tower has its defaults)
 * with CLIPSeg's `model_type`. It lives under `text_config` of a `CLIPSegConfig`.
 *
 * @example
 * ```ts
 * import { CLIPSegConfig } from '@ortvision/clipseg';
 * const { text_config } = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(text_config.max_position_embeddings, text_config.eos_token_id); // 77 49407
 * ```
 */
export class CLIPSegTextConfig extends CLIPTextConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPTextConfig.schema,
    model_type: { type: 'string', default: 'clipseg_text_model' },
  };
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
 * const { vision_config } = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(vision_config.image_size, vision_config.patch_size); // 224 16
 * ```
 */
export class CLIPSegVisionConfig extends CLIPVisionConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPVisionConfig.schema,
    model_type: { type: 'string', default: 'clipseg_vision_model' },
  };

  /** CLIPSeg's vision embeddings always interpolate their positions to the input (CIDAS's processors give 352 px). */
  override get interpolatesPositionEmbeddings(): boolean {
    return true;
  }
}

/**
 * transformers' `CLIPSegConfig`: the decoder's fields with the defaults of the model docs, and the two towers'
 * configs as typed `text_config` / `vision_config` with their own defaults (core's `CLIPCompositeConfig`; the
 * older names `textConfig` / `visionConfig` still work). Unknown fields of config.json are kept as read.
 *
 * @example
 * ```ts
 * import { CLIPSegConfig } from '@ortvision/clipseg';
 * const config = await CLIPSegConfig.fromPretrained('CIDAS/clipseg-rd64-refined');
 * console.log(config.projection_dim, config.reduce_dim, config.extract_layers); // 512 64 [3, 6, 9]
 * ```
 */
export class CLIPSegConfig extends CLIPCompositeConfig<CLIPSegTextConfig, CLIPSegVisionConfig> {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly textConfigClass = CLIPSegTextConfig;
  static override readonly visionConfigClass = CLIPSegVisionConfig;
  static override readonly schema: ConfigSchema = {
    ...CLIPCompositeConfig.schema,
    extract_layers: { type: 'integer[]', default: [3, 6, 9] },
    reduce_dim: { type: 'integer', default: 64 },
    decoder_num_attention_heads: { type: 'integer', default: 4 },
    decoder_attention_dropout: { type: 'number', default: 0.0 },
    decoder_hidden_act: { type: 'string', default: 'quick_gelu' },
    decoder_intermediate_size: { type: 'integer', default: 2048 },
    conditional_layer: { type: 'integer', default: 0 },
    use_complex_transposed_convolution: { type: 'boolean', default: false },
  };

  declare readonly extract_layers: number[];
  declare readonly reduce_dim: number;
  declare readonly decoder_num_attention_heads: number;
  declare readonly decoder_attention_dropout: number;
  declare readonly decoder_hidden_act: string;
  declare readonly decoder_intermediate_size: number;
  declare readonly conditional_layer: number;
  declare readonly use_complex_transposed_convolution: boolean;

  /** @deprecated use `text_config` (the same object; one name across the CLIP family). */
  get textConfig(): CLIPSegTextConfig {
    return this.text_config;
  }

  /** @deprecated use `vision_config` (the same object; one name across the CLIP family). */
  get visionConfig(): CLIPSegVisionConfig {
    return this.vision_config;
  }
}

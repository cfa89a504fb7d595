import {
  CLIPCompositeConfig,
  CLIPTextConfig,
  CLIPVisionConfig,
  type ConfigSchema,
  configDefaults,
} from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'owlv2';

/**
 * The text tower of OWLv2 (`text_config` of config.json): core's `CLIPTextConfig` with transformers 4.37.2's
 * `Owlv2TextConfig` defaults (16 positions, padding id 0).
 *
 * @example
 * const config = await Owlv2Config.fromPretrained('google/owlv2-base-patch16-ensemble');
 * config.text_config.max_position_embeddings; // 16: queries are at most 16 tokens
 */
export class Owlv2TextConfig extends CLIPTextConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPTextConfig.schema,
    model_type: { type: 'string', default: 'owlv2_text_model' },
    max_position_embeddings: { type: 'integer', default: 16 },
    pad_token_id: { type: 'integer', default: 0 },
  };
}

/**
 * The vision tower of OWLv2 (`vision_config` of config.json): core's `CLIPVisionConfig` with transformers 4.37.2's
 * `Owlv2VisionConfig` defaults (768 px, patch 16). `image_size / patch_size` squared is the number of predicted
 * boxes.
 *
 * @example
 * const { image_size, patch_size } = config.vision_config; // 960, 16 -> 3600 boxes
 */
export class Owlv2VisionConfig extends CLIPVisionConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPVisionConfig.schema,
    model_type: { type: 'string', default: 'owlv2_vision_model' },
    image_size: { type: 'integer', default: 768 },
    patch_size: { type: 'integer', default: 16 },
  };
}

/** @deprecated `Owlv2TextConfig`'s defaults; read them from `new Owlv2TextConfig({})` instead. */
export const OWLV2_TEXT_CONFIG_DEFAULTS = configDefaults(Owlv2TextConfig);

/** @deprecated `Owlv2VisionConfig`'s defaults; read them from `new Owlv2VisionConfig({})` instead. */
export const OWLV2_VISION_CONFIG_DEFAULTS = configDefaults(Owlv2VisionConfig);

/**
 * config.json of an OWLv2 model (`Owlv2Config`): the text and vision towers as typed sub-configs with their
 * defaults (core's `CLIPCompositeConfig`), `projection_dim` and `logit_scale_init_value`.
 *
 * @example
 * const config = await Owlv2Config.fromPretrained('./owlv2-local');
 * console.log(config.projection_dim, config.vision_config.image_size, config.numPatches);
 */
export class Owlv2Config extends CLIPCompositeConfig<Owlv2TextConfig, Owlv2VisionConfig> {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly textConfigClass = Owlv2TextConfig;
  static override readonly visionConfigClass = Owlv2VisionConfig;
  static override readonly schema: ConfigSchema = {
    ...CLIPCompositeConfig.schema,
    return_dict: { type: 'boolean', default: true },
  };

  declare readonly return_dict: boolean;

  /** Boxes per image: (image_size / patch_size)^2. */
  get numPatches(): number {
    const { image_size, patch_size } = this.vision_config;
    return Math.floor(image_size / patch_size) ** 2;
  }
}

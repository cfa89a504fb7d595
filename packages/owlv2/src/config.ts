import { ConfigError, type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'owlv2';

/**
 * The text tower of OWLv2 (`text_config` of config.json), with transformers 4.37.2's `Owlv2TextConfig` defaults.
 *
 * @example
 * const config = await Owlv2Config.fromPretrained('google/owlv2-base-patch16-ensemble');
 * config.text_config.max_position_embeddings; // 16: queries are at most 16 tokens
 */
export interface Owlv2TextConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: string;
  layer_norm_eps: number;
  attention_dropout: number;
  initializer_range: number;
  initializer_factor: number;
  pad_token_id: number;
  bos_token_id: number;
  eos_token_id: number;
  [field: string]: unknown;
}

/**
 * The vision tower of OWLv2 (`vision_config` of config.json), with transformers 4.37.2's `Owlv2VisionConfig`
 * defaults. `image_size / patch_size` squared is the number of predicted boxes.
 *
 * @example
 * const { image_size, patch_size } = config.vision_config; // 960, 16 -> 3600 boxes
 */
export interface Owlv2VisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  image_size: number;
  patch_size: number;
  hidden_act: string;
  layer_norm_eps: number;
  attention_dropout: number;
  initializer_range: number;
  initializer_factor: number;
  [field: string]: unknown;
}

export const OWLV2_TEXT_CONFIG_DEFAULTS: Readonly<Owlv2TextConfig> = Object.freeze({
  vocab_size: 49408,
  hidden_size: 512,
  intermediate_size: 2048,
  num_hidden_layers: 12,
  num_attention_heads: 8,
  max_position_embeddings: 16,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  attention_dropout: 0,
  initializer_range: 0.02,
  initializer_factor: 1,
  pad_token_id: 0,
  bos_token_id: 49406,
  eos_token_id: 49407,
});

export const OWLV2_VISION_CONFIG_DEFAULTS: Readonly<Owlv2VisionConfig> = Object.freeze({
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  num_channels: 3,
  image_size: 768,
  patch_size: 16,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
  attention_dropout: 0,
  initializer_range: 0.02,
  initializer_factor: 1,
});

function withDefaults<T extends Record<string, unknown>>(
  value: unknown,
  defaults: Readonly<T>,
  name: string,
  source: string,
): T {
  if (value === undefined || value === null) return { ...defaults };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${source}: ${name} must be an object, got ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  const merged: Record<string, unknown> = { ...defaults, ...(value as Record<string, unknown>) };
  for (const [key, fallback] of Object.entries(defaults)) {
    if (typeof merged[key] !== typeof fallback) {
      throw new ConfigError(
        `${source}: ${name}.${key} must be a ${typeof fallback}, got ${JSON.stringify(merged[key])}`,
      );
    }
  }
  return merged as T;
}

/**
 * config.json of an OWLv2 model (`Owlv2Config`): the text and vision towers as typed objects with their
 * defaults, `projection_dim` and `logit_scale_init_value`.
 *
 * @example
 * const config = await Owlv2Config.fromPretrained('./owlv2-local');
 * console.log(config.projection_dim, config.vision_config.image_size, config.numPatches);
 */
export class Owlv2Config extends PretrainedConfig {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly schema = {
    ...PretrainedConfig.schema,
    text_config: { type: 'object', nullable: true },
    vision_config: { type: 'object', nullable: true },
    projection_dim: { type: 'integer', default: 512 },
    logit_scale_init_value: { type: 'number', default: 2.6592 },
    return_dict: { type: 'boolean', default: true },
    initializer_factor: { type: 'number', default: 1 },
  } satisfies ConfigSchema;

  declare readonly text_config: Owlv2TextConfig;
  declare readonly vision_config: Owlv2VisionConfig;
  declare readonly projection_dim: number;
  declare readonly logit_scale_init_value: number;
  declare readonly return_dict: boolean;
  declare readonly initializer_factor: number;

  constructor(json: Record<string, unknown>, source = 'config.json') {
    super(json, source);
    const self = this as unknown as Record<string, unknown>;
    self.text_config = withDefaults(json.text_config, OWLV2_TEXT_CONFIG_DEFAULTS, 'text_config', source);
    self.vision_config = withDefaults(
      json.vision_config,
      OWLV2_VISION_CONFIG_DEFAULTS,
      'vision_config',
      source,
    );
  }

  /** Boxes per image: (image_size / patch_size)^2. */
  get numPatches(): number {
    const { image_size, patch_size } = this.vision_config;
    return Math.floor(image_size / patch_size) ** 2;
  }
}

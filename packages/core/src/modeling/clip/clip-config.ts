import { CLIPVisionConfig } from '../clip-vision-config.js';
import { type ConfigClass, type ConfigSchema, PretrainedConfig } from '../config.js';
import { CLIPTextConfig } from './clip-text-config.js';

/** The statics a `CLIPCompositeConfig` subclass sets: the classes of its two sub-configs. */
interface CompositeConfigClass {
  readonly textConfigClass: ConfigClass;
  readonly visionConfigClass: ConfigClass;
}

/**
 * A config.json with a text tower and an image tower, as transformers' `CLIPConfig` and its family (CLIPSeg,
 * OWLv2, AltCLIP) write it: `text_config` and `vision_config` become instances of the subclass's
 * `textConfigClass` / `visionConfigClass`, built from `{}` when config.json lacks them or holds null (transformers
 * logs "initializing with default values" and does the same), so every field of a tower has its default. A mistyped
 * sub-config field is a `ConfigError` naming `config.json text_config`. Also `projection_dim`,
 * `logit_scale_init_value` and `initializer_factor`, with CLIP's defaults.
 *
 * @example
 * ```ts
 * import { CLIPCompositeConfig, CLIPTextConfig, CLIPVisionConfig, type ConfigSchema } from '@ortvision/core';
 * class MyConfig extends CLIPCompositeConfig<CLIPTextConfig, CLIPVisionConfig> {
 *   static override readonly modelTypes = ['my_clip'];
 *   static override readonly schema: ConfigSchema = {
 *     ...CLIPCompositeConfig.schema,
 *     projection_dim: { type: 'integer', default: 768 },
 *   };
 * }
 * const config = new MyConfig({ model_type: 'my_clip', text_config: { hidden_size: 64 } });
 * config.text_config.hidden_size; // 64
 * config.vision_config.patch_size; // 32 (CLIPVisionConfig's default)
 * ```
 */
export class CLIPCompositeConfig<
  T extends PretrainedConfig = CLIPTextConfig,
  V extends PretrainedConfig = CLIPVisionConfig,
> extends PretrainedConfig {
  /** The class `text_config` is built with. */
  static readonly textConfigClass: ConfigClass = CLIPTextConfig;
  /** The class `vision_config` is built with. */
  static readonly visionConfigClass: ConfigClass = CLIPVisionConfig;

  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    text_config: { type: 'object', nullable: true },
    vision_config: { type: 'object', nullable: true },
    projection_dim: { type: 'integer', default: 512 },
    logit_scale_init_value: { type: 'number', default: 2.6592 },
    initializer_factor: { type: 'number', default: 1.0 },
  };

  declare readonly text_config: T;
  declare readonly vision_config: V;
  declare readonly projection_dim: number;
  declare readonly logit_scale_init_value: number;
  declare readonly initializer_factor: number;

  constructor(json: Record<string, unknown>, source = 'config.json') {
    super(json, source);
    const Class = new.target as unknown as CompositeConfigClass;
    // The schema has checked that both are objects, absent or null.
    const target = this as unknown as Record<string, unknown>;
    target.text_config = new Class.textConfigClass(
      (json.text_config ?? {}) as Record<string, unknown>,
      `${source} text_config`,
    );
    target.vision_config = new Class.visionConfigClass(
      (json.vision_config ?? {}) as Record<string, unknown>,
      `${source} vision_config`,
    );
  }
}

/**
 * The defaults a config class fills in, as a plain frozen object (what `new Class({})` would give for every field
 * of its schema that has a default).
 *
 * @example
 * ```ts
 * import { CLIPTextConfig, configDefaults } from '@ortvision/core';
 * configDefaults(CLIPTextConfig).max_position_embeddings; // 77
 * ```
 */
export function configDefaults(Class: { readonly schema: ConfigSchema }): Readonly<Record<string, unknown>> {
  const defaults: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(Class.schema)) {
    if (field.default !== undefined) defaults[key] = structuredClone(field.default);
  }
  return Object.freeze(defaults);
}

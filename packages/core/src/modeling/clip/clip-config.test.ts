import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import { CLIPVisionConfig } from '../clip-vision-config.js';
import type { ConfigSchema } from '../config.js';
import { CLIPCompositeConfig, configDefaults } from './clip-config.js';
import { CLIPTextConfig } from './clip-text-config.js';

class ShortTextConfig extends CLIPTextConfig {
  static override readonly schema: ConfigSchema = {
    ...CLIPTextConfig.schema,
    model_type: { type: 'string', default: 'short_text_model' },
    max_position_embeddings: { type: 'integer', default: 16 },
  };
}

class ShortConfig extends CLIPCompositeConfig<ShortTextConfig, CLIPVisionConfig> {
  static override readonly modelTypes = ['short_clip'];
  static override readonly textConfigClass = ShortTextConfig;
  static override readonly schema: ConfigSchema = {
    ...CLIPCompositeConfig.schema,
    projection_dim: { type: 'integer', default: 768 },
  };
}

describe('CLIPTextConfig', () => {
  it("fills transformers' CLIPTextConfig defaults (clip-vit-base-patch32's text tower)", () => {
    const config = new CLIPTextConfig({ hidden_size: 64 });
    expect(config.model_type).toBe('clip_text_model');
    expect([config.vocab_size, config.hidden_size, config.intermediate_size]).toEqual([49408, 64, 2048]);
    expect([config.num_hidden_layers, config.num_attention_heads, config.max_position_embeddings]).toEqual([
      12, 8, 77,
    ]);
    expect([config.hidden_act, config.layer_norm_eps]).toEqual(['quick_gelu', 1e-5]);
    expect([config.pad_token_id, config.bos_token_id, config.eos_token_id]).toEqual([1, 49406, 49407]);
    expect(config.maxSequenceLength).toBe(77);
  });
});

describe('CLIPCompositeConfig', () => {
  it('builds both sub-configs with their classes and defaults when config.json lacks them or holds null', () => {
    for (const json of [{ model_type: 'short_clip' }, { model_type: 'short_clip', text_config: null }]) {
      const config = new ShortConfig(json);
      expect(config.text_config).toBeInstanceOf(ShortTextConfig);
      expect(config.text_config.max_position_embeddings).toBe(16);
      expect(config.text_config.model_type).toBe('short_text_model');
      expect(config.vision_config).toBeInstanceOf(CLIPVisionConfig);
      expect([config.vision_config.image_size, config.vision_config.patch_size]).toEqual([224, 32]);
      expect([config.projection_dim, config.logit_scale_init_value, config.initializer_factor]).toEqual([
        768, 2.6592, 1,
      ]);
    }
  });

  it('keeps what the sub-configs set', () => {
    const config = new ShortConfig({
      model_type: 'short_clip',
      text_config: { max_position_embeddings: 8, hidden_size: 32 },
      vision_config: { image_size: 48 },
    });
    expect([config.text_config.max_position_embeddings, config.text_config.hidden_size]).toEqual([8, 32]);
    expect(config.text_config.maxSequenceLength).toBe(8);
    expect(config.vision_config.image_size).toBe(48);
    expect(config.vision_config.interpolatesPositionEmbeddings).toBe(false);
  });

  it('names the sub-config and the field of a mistyped value; refuses a sub-config that is not an object', () => {
    expect(
      () => new ShortConfig({ model_type: 'short_clip', vision_config: { image_size: '48' } }),
    ).toThrowError(
      new ConfigError('config.json vision_config: field image_size must be an integer, got "48"'),
    );
    expect(() => new ShortConfig({ model_type: 'short_clip', text_config: 3 })).toThrow(ConfigError);
    expect(() => new ShortConfig({ model_type: 'short_clip', text_config: 3 })).toThrow(/text_config/);
    expect(() => new ShortConfig({ model_type: 'clip' })).toThrow(/handles "short_clip"/);
  });
});

describe('configDefaults', () => {
  it("lists a class's schema defaults as a frozen object", () => {
    const defaults = configDefaults(ShortTextConfig);
    expect(defaults.max_position_embeddings).toBe(16);
    expect(defaults.model_type).toBe('short_text_model');
    expect(Object.isFrozen(defaults)).toBe(true);
    expect('architectures' in defaults).toBe(false); // no default in the schema
  });
});

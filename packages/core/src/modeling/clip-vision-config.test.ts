import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { CLIPVisionConfig } from './clip-vision-config.js';
import type { ConfigSchema } from './config.js';

describe('CLIPVisionConfig', () => {
  it("fills transformers' CLIPVisionConfig defaults (ViT-B/32 at 224 px) and keeps what config.json sets", () => {
    const config = new CLIPVisionConfig({ patch_size: 16, hidden_act: 'gelu' });
    expect(config.model_type).toBe('clip_vision_model');
    expect([config.hidden_size, config.intermediate_size, config.num_hidden_layers]).toEqual([768, 3072, 12]);
    expect([config.num_attention_heads, config.num_channels, config.image_size]).toEqual([12, 3, 224]);
    expect([config.patch_size, config.hidden_act, config.layer_norm_eps]).toEqual([16, 'gelu', 1e-5]);
    expect([config.attention_dropout, config.initializer_range, config.initializer_factor]).toEqual([
      0, 0.02, 1,
    ]);
  });

  it('is a base for a package tower: its own model_type default and extra fields', () => {
    class TowerConfig extends CLIPVisionConfig {
      static override readonly schema: ConfigSchema = {
        ...CLIPVisionConfig.schema,
        model_type: { type: 'string', default: 'tower_vision_model' },
        projection_dim: { type: 'integer', default: 512 },
      };
    }
    const config = new TowerConfig({});
    expect(config.model_type).toBe('tower_vision_model');
    expect(config.image_size).toBe(224);
    expect((config as unknown as { projection_dim: number }).projection_dim).toBe(512);
  });

  it('rejects a field of the wrong type with a ConfigError naming it', () => {
    expect(() => new CLIPVisionConfig({ image_size: '224' })).toThrow(ConfigError);
    expect(() => new CLIPVisionConfig({ image_size: '224' })).toThrow(/image_size/);
  });
});

import { ConfigError } from '@ortvision/core';
import { fixturePath } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { AltCLIPConfig, AltCLIPTextConfig, AltCLIPVisionConfig, MODEL_TYPE } from './config.js';

describe('AltCLIPConfig', () => {
  it('declares the model_type it handles', () => expect(MODEL_TYPE).toBe('altclip'));

  it("reads the fixture's config.json with typed sub-configs", async () => {
    const config = await AltCLIPConfig.fromPretrained(fixturePath('altclip'));
    expect(config.projection_dim).toBe(16);
    expect(config.logit_scale_init_value).toBe(2.6592);
    expect(config.text_config).toBeInstanceOf(AltCLIPTextConfig);
    expect(config.text_config.vocab_size).toBe(1502);
    expect(config.text_config.max_position_embeddings).toBe(66);
    // fields the fixture leaves out take the docs' defaults
    expect(config.text_config.pad_token_id).toBe(1);
    expect(config.text_config.layer_norm_eps).toBe(1e-5);
    expect(config.text_config.maxSequenceLength).toBe(64);
    expect(config.vision_config).toBeInstanceOf(AltCLIPVisionConfig);
    expect(config.vision_config.image_size).toBe(32);
    expect(config.vision_config.patch_size).toBe(8);
    expect(config.vision_config.hidden_act).toBe('quick_gelu');
  });

  it("has transformers 4.37.2's defaults when config.json is bare", () => {
    const config = new AltCLIPConfig({ model_type: 'altclip' });
    expect(config.projection_dim).toBe(768);
    expect(config.logit_scale_init_value).toBe(2.6592);
    const { text_config: text, vision_config: vision } = config;
    expect([text.vocab_size, text.hidden_size, text.num_hidden_layers, text.num_attention_heads]).toEqual([
      250002, 1024, 24, 16,
    ]);
    expect([text.intermediate_size, text.max_position_embeddings, text.project_dim]).toEqual([
      4096, 514, 768,
    ]);
    expect([text.bos_token_id, text.pad_token_id, text.eos_token_id]).toEqual([0, 1, 2]);
    expect(text.model_type).toBe('altclip_text_model');
    expect(text.maxSequenceLength).toBe(512);
    expect([vision.hidden_size, vision.num_hidden_layers, vision.image_size, vision.patch_size]).toEqual([
      768, 12, 224, 32,
    ]);
    expect(vision.projection_dim).toBe(512);
    expect(vision.model_type).toBe('altclip_vision_model');
  });

  it('rejects other model types and mistyped fields', () => {
    expect(() => new AltCLIPConfig({ model_type: 'clip' })).toThrow(ConfigError);
    expect(() => new AltCLIPConfig({ model_type: 'altclip', text_config: 3 })).toThrow(/text_config/);
    expect(() => new AltCLIPConfig({ model_type: 'altclip', vision_config: { image_size: '224' } })).toThrow(
      /vision_config: field image_size must be an integer/,
    );
  });
});

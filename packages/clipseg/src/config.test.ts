import { ConfigError } from '@ortvision/core';
import { fixturePath } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { CLIPSegConfig, CLIPSegTextConfig, CLIPSegVisionConfig } from './config.js';

describe('CLIPSegConfig', () => {
  it("reads the fixture's config.json with its sub-configs", async () => {
    const config = await CLIPSegConfig.fromPretrained(fixturePath('clipseg'));
    expect(config.model_type).toBe('clipseg');
    expect(config.projection_dim).toBe(16);
    expect(config.extract_layers).toEqual([0, 2]);
    expect(config.use_complex_transposed_convolution).toBe(true);
    expect(config.textConfig).toBeInstanceOf(CLIPSegTextConfig);
    expect(config.textConfig.vocab_size).toBe(2514);
    expect(config.textConfig.eos_token_id).toBe(2513);
    // not in the fixture's text_config: the docs' default
    expect(config.textConfig.max_position_embeddings).toBe(77);
    expect(config.visionConfig).toBeInstanceOf(CLIPSegVisionConfig);
    expect(config.visionConfig.image_size).toBe(32);
    expect(config.visionConfig.patch_size).toBe(16);
    expect(config.visionConfig.layer_norm_eps).toBe(1e-5);
  });

  it("fills in transformers 4.37's defaults", () => {
    const config = new CLIPSegConfig({ model_type: 'clipseg' });
    expect(config.projection_dim).toBe(512);
    expect(config.extract_layers).toEqual([3, 6, 9]);
    expect(config.reduce_dim).toBe(64);
    expect(config.decoder_num_attention_heads).toBe(4);
    expect(config.decoder_intermediate_size).toBe(2048);
    expect(config.decoder_hidden_act).toBe('quick_gelu');
    expect(config.conditional_layer).toBe(0);
    expect(config.use_complex_transposed_convolution).toBe(false);
    expect(config.logit_scale_init_value).toBe(2.6592);
    expect(config.textConfig.hidden_size).toBe(512);
    expect(config.textConfig.num_attention_heads).toBe(8);
    expect(config.textConfig.model_type).toBe('clipseg_text_model');
    expect(config.visionConfig.hidden_size).toBe(768);
    expect(config.visionConfig.patch_size).toBe(32);
    expect(config.visionConfig.model_type).toBe('clipseg_vision_model');
  });

  it('refuses other model types and wrongly typed fields, naming them', async () => {
    await expect(CLIPSegConfig.fromPretrained(fixturePath('owlv2'))).rejects.toThrow(ConfigError);
    expect(() => new CLIPSegConfig({ model_type: 'clipseg', reduce_dim: '64' })).toThrow(
      'field reduce_dim must be an integer, got "64"',
    );
    expect(() => new CLIPSegConfig({ model_type: 'clipseg', text_config: { hidden_size: 1.5 } })).toThrow(
      'config.json text_config: field hidden_size must be an integer, got 1.5',
    );
  });
});

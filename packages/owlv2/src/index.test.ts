import { describe, expect, it } from 'vitest';
import { dir } from './__fixtures__/owlv2-cases.js';
import * as pkg from './index.js';

describe('@ortvision/owlv2', () => {
  it('declares the model_type it handles', () => {
    expect(pkg.MODEL_TYPE).toBe('owlv2');
  });

  it('exports the classes, post-processing and tasks', () => {
    for (const name of [
      'Owlv2Config',
      'Owlv2ImageProcessor',
      'Owlv2Processor',
      'Owlv2Model',
      'Owlv2TextModel',
      'Owlv2VisionModel',
      'Owlv2ForObjectDetection',
      'postProcessObjectDetection',
      'postProcessImageGuidedDetection',
      'zeroShotObjectDetection',
      'imageGuidedObjectDetection',
    ]) {
      expect(typeof (pkg as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('reads config.json with the sub-configs and their defaults', async () => {
    const config = await pkg.Owlv2Config.fromPretrained(dir);
    expect(config.projection_dim).toBe(16);
    expect(config.text_config.max_position_embeddings).toBe(16); // default: the fixture leaves it out
    expect(config.text_config.eos_token_id).toBe(2513);
    expect(config.vision_config.image_size).toBe(48);
    expect(config.numPatches).toBe(36);
  });

  it('refuses a config of another model type or with a malformed sub-config', () => {
    expect(() => new pkg.Owlv2Config({ model_type: 'clip' })).toThrow(/handles "owlv2"/);
    expect(() => new pkg.Owlv2Config({ model_type: 'owlv2', vision_config: { image_size: '48' } })).toThrow(
      'config.json vision_config: field image_size must be an integer, got "48"',
    );
  });
});

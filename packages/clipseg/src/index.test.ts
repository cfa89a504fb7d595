import { describe, expect, it } from 'vitest';
import * as pkg from './index.js';

describe('@ortvision/clipseg', () => {
  it('declares the model_type it handles', () => {
    expect(pkg.MODEL_TYPE).toBe('clipseg');
  });

  it('exports the classes and the task of issue #8', () => {
    for (const name of [
      'CLIPSegConfig',
      'CLIPSegTextConfig',
      'CLIPSegVisionConfig',
      'CLIPSegImageProcessor',
      'CLIPSegProcessor',
      'CLIPSegModel',
      'CLIPSegTextModel',
      'CLIPSegVisionModel',
      'CLIPSegForImageSegmentation',
      'promptSegmentation',
      'postProcessPromptMasks',
      'thresholdMask',
      'maskToImage',
    ]) {
      expect(typeof (pkg as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});

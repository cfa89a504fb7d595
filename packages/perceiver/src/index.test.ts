import { describe, expect, it } from 'vitest';
import * as pkg from './index.js';

describe('@ortvision/perceiver', () => {
  it('declares the model_type it handles', () => {
    expect(pkg.MODEL_TYPE).toBe('perceiver');
  });

  it('exports every class and task of the issue', () => {
    for (const name of [
      'PerceiverConfig',
      'PerceiverTokenizer',
      'PerceiverImageProcessor',
      'PerceiverModel',
      'PerceiverForMaskedLM',
      'PerceiverForSequenceClassification',
      'PerceiverForImageClassificationLearned',
      'PerceiverForImageClassificationFourier',
      'PerceiverForImageClassificationConvProcessing',
      'PerceiverForOpticalFlow',
      'PerceiverForMultimodalAutoencoding',
      'fillMask',
      'textClassification',
      'imageClassification',
      'opticalFlow',
      'multimodalAutoencoding',
      'flowToImage',
    ]) {
      expect(typeof (pkg as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});

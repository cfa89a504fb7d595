import {
  PerceiverForImageClassificationConvProcessing,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationLearned,
  PerceiverForMaskedLM,
  PerceiverForMultimodalAutoencoding,
  PerceiverForOpticalFlow,
  PerceiverForSequenceClassification,
  PerceiverModel,
} from '../modeling.js';

/** The model class of each Perceiver fixture (its manifest's graphs `describe` it). */
export const fixtureClasses = {
  'perceiver-mlm': PerceiverForMaskedLM,
  'perceiver-seq-cls': PerceiverForSequenceClassification,
  'perceiver-cls-learned': PerceiverForImageClassificationLearned,
  'perceiver-cls-fourier': PerceiverForImageClassificationFourier,
  'perceiver-cls-conv': PerceiverForImageClassificationConvProcessing,
  'perceiver-flow': PerceiverForOpticalFlow,
  'perceiver-base': PerceiverModel,
  'perceiver-multimodal': PerceiverForMultimodalAutoencoding,
} as const;

export type PerceiverFixture = keyof typeof fixtureClasses;

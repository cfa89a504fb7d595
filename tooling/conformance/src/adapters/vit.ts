import { ViTImageProcessor, imageClassification, modelClasses } from '@ortvision/vit';
import type { ConformanceAdapter } from '../adapter.js';
import { runClassificationCase, runModelCase } from './classification-cases.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** vit fixtures: image processor, model classes and the image-classification pipeline. */
const adapter: ConformanceAdapter = {
  classes: modelClasses,
  processor: {
    ViTImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await ViTImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
    ViTImageProcessorFast: async (testCase, context) =>
      runImageProcessorCase(await ViTImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },
  model: (testCase, context) => runModelCase(modelClasses, testCase, context),
  pipeline: {
    'image-classification': (testCase, context) =>
      runClassificationCase((dir, options) => imageClassification(dir, options), testCase, context),
  },
};

export default adapter;

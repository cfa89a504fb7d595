import type { ResultValue } from '@ortvision/core/testing';
import {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitImageProcessor,
  LevitModel,
  imageClassification,
  imageFeatureExtraction,
} from '@ortvision/levit';
import type { ConformanceAdapter } from '../adapter.js';
import { runClassificationCase, runModelCase } from './classification-cases.js';
import { runImageProcessorCase } from './image-processor-case.js';

const modelClasses = { LevitModel, LevitForImageClassification, LevitForImageClassificationWithTeacher };

/** levit fixtures: image processor, model classes, image classification and feature extraction. */
const adapter: ConformanceAdapter = {
  processor: {
    LevitImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await LevitImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },
  model: (testCase, context) => runModelCase(modelClasses, testCase, context),
  pipeline: {
    'image-classification': (testCase, context) =>
      runClassificationCase((dir) => imageClassification(dir), testCase, context),
    // 4.37.2 has no such pipeline: the fixture's expected value is LevitModel's pooler_output as nested lists.
    'image-feature-extraction': async (testCase, context) => {
      const embed = await imageFeatureExtraction(context.fixture.dir);
      try {
        const features = await embed((testCase.inputs.images as string[]).map(context.imagePath));
        return features.toNested() as ResultValue;
      } finally {
        await embed.dispose();
      }
    },
  },
};

export default adapter;

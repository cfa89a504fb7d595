import { ViTImageProcessor } from '@ortvision/vit';
import type { ConformanceAdapter } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** vit fixtures: image processor cases (manifest call names as keys). */
const adapter: ConformanceAdapter = {
  processor: {
    ViTImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await ViTImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
    ViTImageProcessorFast: async (testCase, context) =>
      runImageProcessorCase(await ViTImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },
};

export default adapter;

import { LevitImageProcessor } from '@ortvision/levit';
import type { ConformanceAdapter } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** levit fixtures: image processor cases (manifest call names as keys). */
const adapter: ConformanceAdapter = {
  processor: {
    LevitImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await LevitImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },
};

export default adapter;

import { CLIPImageProcessor } from '@ortvision/altclip';
import type { ConformanceAdapter } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** altclip fixtures: image processor cases (manifest call names as keys). */
const adapter: ConformanceAdapter = {
  processor: {
    AltCLIPProcessor: async (testCase, context) =>
      runImageProcessorCase(await CLIPImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
    CLIPImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await CLIPImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },
};

export default adapter;

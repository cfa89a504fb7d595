import { CLIPSegImageProcessor } from '@ortvision/clipseg';
import type { ConformanceAdapter } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** clipseg fixtures: image processor cases (manifest call names as keys). */
const adapter: ConformanceAdapter = {
  processor: {
    CLIPSegProcessor: async (testCase, context) =>
      runImageProcessorCase(
        await CLIPSegImageProcessor.fromPretrained(context.fixture.dir),
        testCase,
        context,
      ),
    ViTImageProcessor: async (testCase, context) =>
      runImageProcessorCase(
        await CLIPSegImageProcessor.fromPretrained(context.fixture.dir),
        testCase,
        context,
      ),
  },
};

export default adapter;

import { PerceiverImageProcessor } from '@ortvision/perceiver';
import type { ConformanceAdapter } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** perceiver fixtures: image processor cases (manifest call names as keys). */
const adapter: ConformanceAdapter = {
  processor: {
    PerceiverImageProcessor: async (testCase, context) =>
      runImageProcessorCase(
        await PerceiverImageProcessor.fromPretrained(context.fixture.dir),
        testCase,
        context,
      ),
  },
};

export default adapter;

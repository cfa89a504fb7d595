import { PerceiverConfig, buildPerceiverForImageClassificationLearned } from '@ortvision/perceiver';
import { checkpointGraphSuite, sineTensor } from './checkpoint-graph.js';
import { benchModel } from './common.js';
import type { Suite } from './harness.js';

// Perceiver IO with learned position embeddings (deepmind/vision-perceiver-learned, 62M parameters) built in Node
// from a random full-size checkpoint (issue 20) against the graph torch exported. About 3 s a run on 2 cores.
// Goal: built fp32 <= 1.02x exported; q8 reported.

const hubId = 'deepmind/vision-perceiver-learned';

export const run: Suite = async ({ quick }) => {
  const config = await PerceiverConfig.fromPretrained(benchModel(hubId));
  return checkpointGraphSuite(
    {
      suite: 'perceiver-graph',
      label: 'Perceiver-learned',
      hubId,
      build: (checkpoint, dtype) =>
        buildPerceiverForImageClassificationLearned(config, checkpoint, { dtype }),
      feeds: {
        pixel_values: sineTensor([1, 3, 224, 224]),
      },
      slow: true,
    },
    quick,
  );
};

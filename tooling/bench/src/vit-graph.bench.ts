import { ViTConfig, vitGraphBuilders } from '@ortvision/vit';
import { checkpointGraphSuite, sineTensor } from './checkpoint-graph.js';
import { benchModel } from './common.js';
import type { Suite } from './harness.js';

// ViT-B/16 built in Node from a random full-size checkpoint (issue 18) against the graph torch exported.
// Goals: built fp32 <= 1.02x exported, q8 <= 0.5x built fp32.

const hubId = 'google/vit-base-patch16-224';

export const run: Suite = async ({ quick }) => {
  const config = await ViTConfig.fromPretrained(benchModel(hubId));
  return checkpointGraphSuite(
    {
      suite: 'vit-graph',
      label: 'ViT-B/16',
      hubId,
      build: (checkpoint, dtype) => vitGraphBuilders.ViTForImageClassification(config, checkpoint, { dtype }),
      feeds: {
        pixel_values: sineTensor([1, 3, 224, 224]),
      },
      iterations: 20,
      q8Goal: 0.5,
    },
    quick,
  );
};

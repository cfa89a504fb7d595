import { builtGraphSuite } from './common.js';
import type { Suite } from './harness.js';

// Graphs built in Node from a checkpoint (issue 18) against the graph torch exported, on ViT-B/16 (the Hub repository
// holds model.safetensors): built as fp32 and q8 from a random full-size checkpoint, each graph's session.run timed
// interleaved with the exported graph's on the same ready tensor. Goals: built fp32 <= 1.02x exported, q8 <= 0.5x
// built fp32.

export const run: Suite = ({ quick }) =>
  builtGraphSuite(
    {
      suite: 'vit-graph',
      label: 'ViT-B/16',
      hubId: 'google/vit-base-patch16-224',
      packageName: 'vit',
      className: 'ViTForImageClassification',
      checkpoint: 'model.safetensors',
      q8Goal: 0.5,
    },
    quick,
  );

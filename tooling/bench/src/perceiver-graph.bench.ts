import { builtGraphSuite } from './common.js';
import type { Suite } from './harness.js';

// Perceiver IO with learned position embeddings (deepmind/vision-perceiver-learned, 62M parameters) built in Node
// from a checkpoint (issue 20) against the graph torch exported: built as fp32 and q8 from a random full-size
// pytorch_model.bin (the only checkpoint the Hub repository has), each graph's session.run timed interleaved with
// the exported graph's on the same ready tensor (about 3 s a run on 2 cores). Goal: built fp32 <= 1.02x exported;
// q8 reported.

export const run: Suite = ({ quick }) =>
  builtGraphSuite(
    {
      suite: 'perceiver-graph',
      label: 'Perceiver-learned',
      hubId: 'deepmind/vision-perceiver-learned',
      packageName: 'perceiver',
      className: 'PerceiverForImageClassificationLearned',
      checkpoint: 'pytorch_model.bin',
    },
    quick,
  );

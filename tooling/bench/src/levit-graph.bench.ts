import { builtGraphSuite } from './common.js';
import type { Suite } from './harness.js';

// LeViT-256 (with teacher) built in Node from a checkpoint (issue 18) against the graph torch exported: built as fp32
// and q8 from a random full-size pytorch_model.bin (the only checkpoint facebook/levit-256 has), each graph's
// session.run timed interleaved with the exported graph's on the same ready tensor. Goal: built fp32 <= 1.02x
// exported; q8 has no goal (LeViT's matrices are small: int8 saves less than on ViT).

export const run: Suite = ({ quick }) =>
  builtGraphSuite(
    {
      suite: 'levit-graph',
      label: 'LeViT-256',
      hubId: 'facebook/levit-256',
      packageName: 'levit',
      className: 'LevitForImageClassificationWithTeacher',
      checkpoint: 'pytorch_model.bin',
    },
    quick,
  );

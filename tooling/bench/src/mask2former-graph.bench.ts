import * as ort from 'onnxruntime-node';
import { builtGraphSuite } from './common.js';
import type { Suite } from './harness.js';

// Mask2Former Swin-T (issue 21) built in Node from a random full-size checkpoint against the plain torch export of
// the same architecture (33.9k nodes, ~50 s to create a session), side by side in one process: session creation,
// node counts before and after ONNX Runtime's optimizations, then session.run interleaved on the same ready
// 1x3x384x384 tensor (the processor's size for this checkpoint), fp32 and q8. Goals: creation <= 5 s and >= 10x
// faster than the export's; built fp32 session.run <= 1.0x the export's; the q8 ratio is reported.

export const run: Suite = ({ quick }) =>
  builtGraphSuite(
    {
      suite: 'mask2former-graph',
      label: 'Mask2Former Swin-T (1x3x384x384)',
      hubId: 'facebook/mask2former-swin-tiny-coco-instance',
      packageName: 'mask2former',
      className: 'Mask2FormerForUniversalSegmentation',
      checkpoint: 'model.safetensors',
      feeds: {
        pixel_values: new ort.Tensor(
          'float32',
          Float32Array.from({ length: 3 * 384 * 384 }, (_, i) => 1.5 * Math.sin(i * 0.37)),
          [1, 3, 384, 384],
        ),
      },
      fp32Goal: 1.0,
      createGoal: { maxMs: 5000, minSpeedup: 10 },
      nodeCounts: true,
    },
    quick,
  );

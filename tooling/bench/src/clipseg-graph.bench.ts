import { CLIPSegProcessor } from '@ortvision/clipseg';
import { toOrtTensor } from '@ortvision/core';
import { benchModel, builtGraphSuite, photos } from './common.js';
import type { Suite } from './harness.js';

// CLIPSeg rd64-refined built in Node from a checkpoint (issue 19) against the graph torch exported: built as fp32
// and q8 from a random full-size pytorch_model.bin (the only checkpoint CIDAS's repository has), model.onnx's
// session.run timed interleaved with the exported graph's on one photo x 4 prompts (what promptSegmentation runs;
// about a second a run on 2 cores). Goal: built fp32 <= 1.02x exported; q8 reported.

const hubId = 'CIDAS/clipseg-rd64-refined';
const prompts = ['a cat', 'a remote control', 'a sofa', 'a blanket'];

export const run: Suite = async ({ quick }) => {
  const processor = await CLIPSegProcessor.fromPretrained(benchModel(hubId));
  const [photo] = await photos(true);
  const inputs = await processor.process({ text: prompts, images: photo!.bytes, padding: true });
  return builtGraphSuite(
    {
      suite: 'clipseg-graph',
      label: `CLIPSeg rd64-refined, 1 photo x ${prompts.length} prompts`,
      hubId,
      packageName: 'clipseg',
      className: 'CLIPSegForImageSegmentation',
      checkpoint: 'pytorch_model.bin',
      feeds: {
        input_ids: toOrtTensor(inputs.input_ids!),
        attention_mask: toOrtTensor(inputs.attention_mask!),
        pixel_values: toOrtTensor(inputs.pixel_values!),
      },
      slow: true,
      notes: [
        'a build writes the four graphs (model, text_model, vision_model, conditional_model); the towers are written into each graph that runs them',
      ],
    },
    quick,
  );
};

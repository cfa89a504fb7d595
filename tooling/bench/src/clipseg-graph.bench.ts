import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIPSegProcessor } from '@ortvision/clipseg';
import { toOrtTensor } from '@ortvision/core';
import { benchModel, benchOptions, photos } from './common.js';
import {
  addBuildFigures,
  buildGraphsInChild,
  compareWithExported,
  writeRandomBenchCheckpoint,
} from './graph-common.js';
import type { Suite } from './harness.js';

// CLIPSeg rd64-refined built in Node from a random full-size checkpoint (pytorch_model.bin, as CIDAS's repository
// holds it) against the graph torch exported: model.onnx's session.run on one photo x 4 prompts (what
// promptSegmentation runs), built fp32 and q8 interleaved with the exported graph. Goal: built fp32 <= 1.02x.

const hubId = 'CIDAS/clipseg-rd64-refined';
const prompts = ['a cat', 'a remote control', 'a sofa', 'a blanket'];

export const run: Suite = async ({ quick }) => {
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-clipseg-graph-'));
  try {
    const checkpoint = await writeRandomBenchCheckpoint(hubId, dir, 'pytorch');
    const cls = 'CLIPSegForImageSegmentation';
    const fp32 = await buildGraphsInChild(cls, hubId, dir, 'fp32', join(dir, 'fp32'));
    const q8 = await buildGraphsInChild(cls, hubId, dir, 'q8', join(dir, 'q8'));
    const processor = await CLIPSegProcessor.fromPretrained(benchModel(hubId));
    const [photo] = await photos(true);
    const inputs = await processor.process({ text: prompts, images: photo!.bytes, padding: true });
    const result = await compareWithExported(
      'clipseg-graph',
      `CLIPSeg rd64-refined model.onnx session.run, 1 photo x ${prompts.length} prompts: built vs exported`,
      {
        exported: join(benchModel(hubId), 'onnx', 'model.onnx'),
        fp32: fp32.graphs.model!,
        q8: q8.graphs.model!,
      },
      {
        input_ids: toOrtTensor(inputs.input_ids!),
        attention_mask: toOrtTensor(inputs.attention_mask!),
        pixel_values: toOrtTensor(inputs.pixel_values!),
      },
      benchOptions(quick, { slow: true }),
    );
    addBuildFigures(result, checkpoint, [fp32, q8]);
    result.notes = [
      ...(result.notes ?? []),
      'a build writes the four graphs (model, text_model, vision_model, conditional_model); the towers are written into each graph that runs them',
    ];
    return [result];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AltCLIPProcessor } from '@ortvision/altclip';
import { toOrtTensor } from '@ortvision/core';
import { benchModel, benchOptions, photos } from './common.js';
import {
  addBuildFigures,
  buildGraphsInChild,
  compareWithExported,
  writeRandomBenchCheckpoint,
} from './graph-common.js';
import type { Suite } from './harness.js';

// AltCLIP (BAAI/AltCLIP: XLM-R large + CLIP ViT-L/14, 3.5 GB of float32) built in Node from a random full-size
// pytorch_model.bin: build time and peak RSS of each build (the weights are read, transformed and written one at a
// time, into external data), then model.onnx's session.run, built fp32 and q8, interleaved with the exported
// graph on one photo x 4 texts. The checkpoint (3.5 GB) and the fp32 build (3.5 GB) go to a temporary folder.

const hubId = 'BAAI/AltCLIP';
const texts = [
  'a photo of a cat.',
  'a photo of a dog.',
  'a photo of a remote control.',
  'a photo of a sofa.',
];

export const run: Suite = async ({ quick }) => {
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-altclip-graph-'));
  try {
    const checkpoint = await writeRandomBenchCheckpoint(hubId, dir, 'pytorch');
    const fp32 = await buildGraphsInChild('AltCLIPModel', hubId, dir, 'fp32', join(dir, 'fp32'));
    const q8 = await buildGraphsInChild('AltCLIPModel', hubId, dir, 'q8', join(dir, 'q8'));
    // The builds only read the checkpoint: free its 3.5 GB of disk before the sessions map the graphs' data.
    await rm(join(dir, 'pytorch_model.bin'));
    const processor = await AltCLIPProcessor.fromPretrained(benchModel(hubId));
    const [photo] = await photos(true);
    const inputs = await processor.process({ text: texts, images: photo!.bytes, padding: true });
    const result = await compareWithExported(
      'altclip-graph',
      `AltCLIP model.onnx session.run, 1 photo x ${texts.length} texts: built vs exported`,
      {
        exported: join(benchModel(hubId), 'onnx', 'model.onnx'),
        fp32: fp32.graphs.model!,
        q8: q8.graphs.model!,
      },
      {
        input_ids: toOrtTensor(inputs.input_ids),
        attention_mask: toOrtTensor(inputs.attention_mask),
        pixel_values: toOrtTensor(inputs.pixel_values),
      },
      benchOptions(quick, { slow: true }),
    );
    addBuildFigures(result, checkpoint, [fp32, q8]);
    result.notes = [
      ...(result.notes ?? []),
      'a build writes the three graphs (model, text_model, vision_model): each tower is written twice, into model.onnx and into its own graph',
      'the built model.onnx also outputs logits_per_text (the fixture layout); the exported one does not: a transpose',
    ];
    return [result];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

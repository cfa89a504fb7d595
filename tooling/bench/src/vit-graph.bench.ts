import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { benchModel, benchOptions } from './common.js';
import {
  addBuildFigures,
  buildGraphsInChild,
  compareWithExported,
  writeRandomBenchCheckpoint,
} from './graph-common.js';
import type { Suite } from './harness.js';

// Graphs built in Node from a checkpoint (issue 18) against the graph torch exported, on ViT-B/16: the checkpoint is
// filled with random values from `weights-shapes.json` (the keys and shapes transformers' save_pretrained writes for
// this model), built as fp32 and q8, and each graph's session.run is timed interleaved with the exported graph's on
// the same ready tensor. Goals: built fp32 <= 1.02x exported, q8 <= 0.5x built fp32.

const hubId = 'google/vit-base-patch16-224';

export const run: Suite = async ({ quick }) => {
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-vit-graph-'));
  try {
    const checkpoint = await writeRandomBenchCheckpoint(hubId, dir, 'safetensors');
    const fp32 = await buildGraphsInChild('ViTForImageClassification', hubId, dir, 'fp32', join(dir, 'fp32'));
    const q8 = await buildGraphsInChild('ViTForImageClassification', hubId, dir, 'q8', join(dir, 'q8'));
    const input = new ort.Tensor(
      'float32',
      new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)),
      [1, 3, 224, 224],
    );
    const result = await compareWithExported(
      'vit-graph',
      'ViT-B/16 session.run: built vs exported graph',
      {
        exported: join(benchModel(hubId), 'onnx', 'model.onnx'),
        fp32: fp32.graphs.model!,
        q8: q8.graphs.model!,
      },
      { pixel_values: input },
      { ...benchOptions(quick), ...(quick ? {} : { iterations: 20 }) },
    );
    addBuildFigures(result, checkpoint, [fp32, q8]);
    result.notes = [...(result.notes ?? []), 'q8 goal: <= 0.5x built fp32'];
    return [result];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

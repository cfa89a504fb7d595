import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphDtype } from '@ortvision/core';
import { ViTConfig, vitGraphBuilders } from '@ortvision/vit';
import * as ort from 'onnxruntime-node';
import { benchModel, benchOptions, sessionOptions } from './common.js';
import { buildTimed, writeBenchCheckpoint } from './graph-building.js';
import { type Suite, type SuiteResult, compare, medianOf, peakRssMiB, ratio, round } from './harness.js';

// Graphs built in Node from a checkpoint (issue 18) against the graph torch exported, on ViT-B/16: the checkpoint is
// filled with random values from `weights-shapes.json` (the keys and shapes transformers' save_pretrained writes for
// this model), built as fp32 and q8, and each graph's session.run is timed interleaved with the exported graph's on
// the same ready tensor. Goals: built fp32 <= 1.02x exported, q8 <= 0.5x built fp32.

const hubId = 'google/vit-base-patch16-224';
const EXPORTED = 'exported graph (torch.onnx.export, structure-only)';
const BUILT = 'built from checkpoint, fp32';
const QUANTIZED = 'built from checkpoint, q8';

async function build(dir: string, config: ViTConfig, dtype: GraphDtype) {
  return buildTimed(dir, `model-${dtype}.onnx`, (checkpoint) =>
    vitGraphBuilders.ViTForImageClassification(config, checkpoint, { dtype }),
  );
}

export const run: Suite = async ({ quick }) => {
  const model = benchModel(hubId);
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-vit-graph-'));
  const sessions: ort.InferenceSession[] = [];
  try {
    const config = await ViTConfig.fromPretrained(model);
    await writeBenchCheckpoint(join(model, 'weights-shapes.json'), join(dir, 'model.safetensors'));
    const fp32 = await build(dir, config, 'fp32');
    const buildRss = peakRssMiB();
    const q8 = await build(dir, config, 'q8');
    const input = new ort.Tensor(
      'float32',
      new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)),
      [1, 3, 224, 224],
    );
    const variants = [];
    for (const [name, path] of [
      [EXPORTED, join(model, 'onnx', 'model.onnx')],
      [BUILT, fp32.path],
      [QUANTIZED, q8.path],
    ] as const) {
      const session = await ort.InferenceSession.create(path, sessionOptions);
      sessions.push(session);
      variants.push({ name, run: () => session.run({ pixel_values: input }) });
    }
    const result: SuiteResult = await compare(
      'vit-graph',
      'ViT-B/16 session.run: built vs exported graph',
      variants,
      {
        ...benchOptions(quick),
        ...(quick ? {} : { iterations: 20 }),
      },
    );
    result.ratios = {
      'built fp32 / exported (goal <= 1.02)': round(
        ratio(medianOf(result, BUILT), medianOf(result, EXPORTED)),
      ),
      'q8 / built fp32 (goal <= 0.5)': round(ratio(medianOf(result, QUANTIZED), medianOf(result, BUILT))),
      'build ms, fp32 (346 MB of weights)': round(fp32.ms),
      'build ms, q8': round(q8.ms),
      'peak RSS MiB after building fp32 (process so far)': buildRss,
    };
    result.notes = [
      'random weights from weights-shapes.json; the exported graph regenerates its weights at session creation, its session.run is the real export’s',
    ];
    return [result];
  } finally {
    for (const session of sessions) await session.release();
    await rm(dir, { recursive: true, force: true });
  }
};

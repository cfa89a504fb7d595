import { readFileSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GraphDtype, openSafetensors, writeOnnxModel } from '@ortvision/core';
import { ViTConfig, vitGraphBuilders } from '@ortvision/vit';
import * as ort from 'onnxruntime-node';
import { benchModel, benchOptions, sessionOptions } from './common.js';
import { type Suite, type SuiteResult, compare, medianOf, peakRssMiB, ratio, round } from './harness.js';

// Graphs built in Node from a checkpoint (issue 18) against the graph torch exported, on ViT-B/16: the checkpoint is
// filled with random values from `weights-shapes.json` (the keys and shapes transformers' save_pretrained writes for
// this model), built as fp32 and q8, and each graph's session.run is timed interleaved with the exported graph's on
// the same ready tensor. Goals: built fp32 <= 1.02x exported, q8 <= 0.5x built fp32.

const hubId = 'google/vit-base-patch16-224';
const EXPORTED = 'exported graph (torch.onnx.export, structure-only)';
const BUILT = 'built from checkpoint, fp32';
const QUANTIZED = 'built from checkpoint, q8';

/** A safetensors file with every tensor of `weights-shapes.json`, filled with small deterministic values. */
async function randomCheckpoint(shapesFile: string, path: string): Promise<void> {
  const { tensors } = JSON.parse(readFileSync(shapesFile, 'utf8')) as {
    tensors: Record<string, { shape: number[] }>;
  };
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [key, { shape }] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[key] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const file = await open(path, 'w');
  try {
    await file.write(prefix);
    await file.write(json);
    let seed = 1;
    for (const { shape } of Object.values(tensors)) {
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      // Fan-in scaled so activations keep their range through the layers (timing does not depend on values).
      const scale = 1 / Math.sqrt(shape.length > 1 ? values.length / shape[0]! : 1);
      for (let i = 0; i < values.length; i++) values[i] = Math.sin(++seed * 0.618) * scale;
      await file.write(new Uint8Array(values.buffer));
    }
  } finally {
    await file.close();
  }
}

async function build(
  dir: string,
  config: ViTConfig,
  dtype: GraphDtype,
): Promise<{ path: string; ms: number }> {
  const checkpoint = await openSafetensors(join(dir, 'model.safetensors'));
  try {
    const start = performance.now();
    const { graph } = vitGraphBuilders.ViTForImageClassification(config, checkpoint, { dtype });
    const { path } = await writeOnnxModel(graph, join(dir, `model-${dtype}.onnx`));
    return { path, ms: performance.now() - start };
  } finally {
    await checkpoint.close();
  }
}

export const run: Suite = async ({ quick }) => {
  const model = benchModel(hubId);
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-vit-graph-'));
  const sessions: ort.InferenceSession[] = [];
  try {
    const config = await ViTConfig.fromPretrained(model);
    await randomCheckpoint(join(model, 'weights-shapes.json'), join(dir, 'model.safetensors'));
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

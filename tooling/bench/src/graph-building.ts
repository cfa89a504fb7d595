import { join } from 'node:path';
import {
  type BuiltGraph,
  type Checkpoint,
  type WeightEntry,
  openCheckpoint,
  writeOnnxModel,
  writeSafetensors,
} from '@ortvision/core';
import { readOnnxModel, readWeightsShapes } from '@ortvision/core/testing';
import * as ort from 'onnxruntime-node';
import { sessionOptions } from './common.js';

// What the graph-building suites share (issue 18 and the families after it): a random full-size checkpoint from a
// bench model's weights-shapes.json, a timed build, a timed session creation that also saves ONNX Runtime's
// optimized graph, and node counts before and after those optimizations.

/**
 * `model.safetensors` with every tensor of `weights-shapes.json` (the keys, dtypes and shapes transformers'
 * save_pretrained writes for the bench model). Floating tensors get small deterministic values scaled by their
 * fan-in, so activations keep their range through the layers (timing does not depend on values, but subnormal
 * floats would slow some kernels); int64 buffers are zeros. Written one tensor at a time.
 */
export async function writeBenchCheckpoint(shapesFile: string, path: string): Promise<void> {
  const { tensors } = await readWeightsShapes(shapesFile);
  let seed = 1;
  const entries: WeightEntry[] = Object.entries(tensors).map(([key, { dtype, shape }]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const start = seed;
    seed += count;
    if (dtype === 'int64') return { key, dtype, shape, data: () => new BigInt64Array(count) };
    if (dtype !== 'float32')
      throw new Error(`${shapesFile}: '${key}' is ${dtype} (float32 or int64 expected)`);
    const scale = 1 / Math.sqrt(shape.length > 1 ? count / shape[0]! : 1);
    return {
      key,
      dtype,
      shape,
      data: () => Float32Array.from({ length: count }, (_, i) => Math.sin((start + i) * 0.618) * scale),
    };
  });
  await writeSafetensors(path, entries);
}

export interface TimedBuild {
  readonly path: string;
  readonly ms: number;
  /** Nodes of the written graph. */
  readonly nodes: number;
}

/** Builds a graph from `<dir>/model.safetensors` and writes it as `<dir>/<file>`, timing both. */
export async function buildTimed(
  dir: string,
  file: string,
  build: (checkpoint: Checkpoint) => BuiltGraph,
): Promise<TimedBuild> {
  const checkpoint = await openCheckpoint(dir);
  try {
    const start = performance.now();
    const { graph } = build(checkpoint);
    const { path } = await writeOnnxModel(graph, join(dir, file));
    return { path, ms: performance.now() - start, nodes: graph.nodes.length };
  } finally {
    await checkpoint.close();
  }
}

export interface TimedSession {
  readonly session: ort.InferenceSession;
  /** Session creation, including writing the optimized graph (a small share of it). */
  readonly ms: number;
  /** Nodes of the graph file, and of ONNX Runtime's optimized graph. */
  readonly nodes: number;
  readonly optimizedNodes: number;
}

/**
 * A session with the bench's options, timed, saving ONNX Runtime's optimized graph beside `optimizedPath` to count
 * what the session really runs.
 */
export async function createSessionTimed(path: string, optimizedPath: string): Promise<TimedSession> {
  const start = performance.now();
  const session = await ort.InferenceSession.create(path, {
    ...sessionOptions,
    optimizedModelFilePath: optimizedPath,
  });
  const ms = performance.now() - start;
  const [graph, optimized] = await Promise.all([readOnnxModel(path), readOnnxModel(optimizedPath)]);
  return { session, ms, nodes: graph.nodes.length, optimizedNodes: optimized.nodes.length };
}

/** Worst |a - b| over the largest |a| of each output of two sessions on the same feeds. */
export async function worstRelativeDifference(
  reference: ort.InferenceSession,
  other: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, number>> {
  const [a, b] = [await reference.run(feeds), await other.run(feeds)];
  const worst: Record<string, number> = {};
  for (const [name, tensor] of Object.entries(a)) {
    const x = tensor.data as Float32Array;
    const y = b[name]!.data as Float32Array;
    let largest = 0;
    let diff = 0;
    for (let i = 0; i < x.length; i++) {
      largest = Math.max(largest, Math.abs(x[i]!));
      diff = Math.max(diff, Math.abs(x[i]! - y[i]!));
    }
    worst[name] = diff / largest;
  }
  return worst;
}

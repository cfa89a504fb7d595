import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuiltGraph,
  type Checkpoint,
  type GraphDtype,
  openSafetensors,
  writeOnnxModel,
} from '@ortvision/core';
import { writeRandomCheckpoint } from '@ortvision/core/testing';
import * as ort from 'onnxruntime-node';
import { benchModel, benchOptions, sessionOptions } from './common.js';
import { type SuiteResult, compare, medianOf, peakRssMiB, ratio, round } from './harness.js';

// What the `*-graph` suites share (issue 18 and the model families after it): a graph built in Node from a
// checkpoint against the graph torch exported, on a bench model's full-size architecture. The checkpoint is filled
// with random values from the model's `weights-shapes.json` (the keys and shapes transformers' save_pretrained
// writes), built as fp32 and q8, and each graph's session.run is timed interleaved with the exported graph's on
// the same ready tensors. Build time, peak RSS and session creation time are reported beside the run times.

export const EXPORTED = 'exported graph (torch.onnx.export, structure-only)';
export const BUILT = 'built from checkpoint, fp32';
export const QUANTIZED = 'built from checkpoint, q8';

export interface CheckpointGraphBench {
  suite: string;
  /** The architecture, for the case name: 'ViT-B/16'. */
  label: string;
  hubId: string;
  /** The model's graph from a checkpoint (the config read by the caller from the bench model's folder). */
  build: (checkpoint: Checkpoint, dtype: GraphDtype) => BuiltGraph;
  /** The feeds of every variant's session.run, by the exported graph's input names. */
  feeds: Record<string, ort.Tensor>;
  /** A second or more per run: one warm-up (see `benchOptions`). */
  slow?: boolean;
  /** Measured runs in full mode, when more than `benchOptions` gives are needed to see 2%. */
  iterations?: number;
  /** q8's goal as a fraction of built fp32's run time, when the issue states one. */
  q8Goal?: number;
}

/** A float32 input of `dims` filled with sin(i): deterministic, varied, in [-1, 1]. */
export function sineTensor(dims: readonly number[]): ort.Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
    [...dims],
  );
}

async function buildGraph(
  dir: string,
  spec: CheckpointGraphBench,
  dtype: GraphDtype,
): Promise<{ path: string; ms: number }> {
  const checkpoint = await openSafetensors(join(dir, 'model.safetensors'));
  try {
    const start = performance.now();
    const { graph } = spec.build(checkpoint, dtype);
    const { path } = await writeOnnxModel(graph, join(dir, `model-${dtype}.onnx`));
    return { path, ms: performance.now() - start };
  } finally {
    await checkpoint.close();
  }
}

/** Runs a checkpoint-graph suite: build, create sessions, time them interleaved, report the ratios. */
export async function checkpointGraphSuite(
  spec: CheckpointGraphBench,
  quick: boolean,
): Promise<SuiteResult[]> {
  const model = benchModel(spec.hubId);
  const dir = await mkdtemp(join(tmpdir(), `ortvision-bench-${spec.suite}-`));
  const sessions: ort.InferenceSession[] = [];
  try {
    await writeRandomCheckpoint(join(dir, 'model.safetensors'), join(model, 'weights-shapes.json'), {
      seed: 1,
    });
    const fp32 = await buildGraph(dir, spec, 'fp32');
    const buildRss = peakRssMiB();
    const q8 = await buildGraph(dir, spec, 'q8');
    const variants = [];
    const created: Record<string, number> = {};
    for (const [name, path] of [
      [EXPORTED, join(model, 'onnx', 'model.onnx')],
      [BUILT, fp32.path],
      [QUANTIZED, q8.path],
    ] as const) {
      const start = performance.now();
      const session = await ort.InferenceSession.create(path, sessionOptions);
      created[name] = performance.now() - start;
      sessions.push(session);
      variants.push({ name, run: () => session.run(spec.feeds) });
    }
    const result = await compare(spec.suite, `${spec.label} session.run: built vs exported graph`, variants, {
      ...benchOptions(quick, { slow: spec.slow }),
      ...(quick || spec.iterations === undefined ? {} : { iterations: spec.iterations }),
    });
    const q8Ratio = ratio(medianOf(result, QUANTIZED), medianOf(result, BUILT));
    result.ratios = {
      'built fp32 / exported (goal <= 1.02)': round(
        ratio(medianOf(result, BUILT), medianOf(result, EXPORTED)),
      ),
      [spec.q8Goal === undefined ? 'q8 / built fp32' : `q8 / built fp32 (goal <= ${spec.q8Goal})`]:
        round(q8Ratio),
      'q8 / exported': round(ratio(medianOf(result, QUANTIZED), medianOf(result, EXPORTED))),
      'build ms, fp32': round(fp32.ms),
      'build ms, q8': round(q8.ms),
      'peak RSS MiB after building fp32 (process so far)': buildRss,
      'session create ms, exported': round(created[EXPORTED]!),
      'session create ms, built fp32': round(created[BUILT]!),
      'session create ms, built q8': round(created[QUANTIZED]!),
    };
    result.notes = [
      'random weights from weights-shapes.json; the exported graph regenerates its weights at session creation (so its creation time is not a load time), its session.run is the real export’s',
    ];
    return [result];
  } finally {
    for (const session of sessions) await session.release();
    await rm(dir, { recursive: true, force: true });
  }
}

import { expect } from 'vitest';
import type { Checkpoint } from '../../../checkpoint/checkpoint.js';
import { Tensor } from '../../../tensor/tensor.js';
import { runOnnxGraph } from '../../../testing/run-graph.js';
import type { Value } from '../../graph.js';
import { type BuiltGraph, buildModelGraph } from '../../model-graph.js';
import type { GraphDtype, Module } from '../../module.js';

// What the layer tests share: deterministic inputs, a one-layer graph run through ONNX Runtime, and a bound check.

/** Deterministic values in [-scale, scale). */
export function values(length: number, seed: number, scale = 1): Float32Array {
  return Float32Array.from({ length }, (_, i) => Math.sin(i * 12.9898 + seed * 78.233) * scale);
}

export function tensor(dims: number[], seed: number, scale = 1): Tensor<'float32'> {
  return new Tensor(
    'float32',
    values(
      dims.reduce((a, b) => a * b, 1),
      seed,
      scale,
    ),
    dims,
  );
}

/** Builds a one-input graph whose output is `describe(root, x)`, runs it on `x`, returns the output and graph. */
export async function runLayer(
  checkpoint: Checkpoint,
  x: Tensor,
  outputDims: number[],
  describe: (root: Module, x: Value) => Value,
  dtype: GraphDtype = 'fp32',
): Promise<{ y: Tensor<'float32'>; built: BuiltGraph }> {
  const built = buildModelGraph('layer', checkpoint, { dtype }, (root) => {
    const input = root.graph.input('x', x.dtype as 'float32', x.dims);
    root.graph.output(describe(root, input), 'y', 'float32', outputDims);
  });
  const { y } = await runOnnxGraph(built.graph, { x });
  expect(y!.dims).toEqual(outputDims);
  return { y: y as Tensor<'float32'>, built };
}

export function expectClose(actual: Float32Array, expected: ArrayLike<number>, atol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(atol);
}

/** x [rows, in] · Wᵀ + b, W [out, in] as torch stores it. */
export function linearReference(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  out: number,
): number[] {
  const inFeatures = w.length / out;
  const rows = x.length / inFeatures;
  const y: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let sum = b?.[o] ?? 0;
      for (let i = 0; i < inFeatures; i++) sum += x[r * inFeatures + i]! * w[o * inFeatures + i]!;
      y.push(sum);
    }
  }
  return y;
}

/** softmax(q·kᵀ·scale + bias)·v per head, heads concatenated: q/k [batch, seq, heads·d]. */
export function attentionReference(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  [batch, queries, keys, heads, d]: number[],
  bias?: Float32Array,
): number[] {
  const out = new Array(batch! * queries! * heads! * d!).fill(0);
  for (let n = 0; n < batch!; n++)
    for (let h = 0; h < heads!; h++)
      for (let i = 0; i < queries!; i++) {
        const scores = [];
        for (let j = 0; j < keys!; j++) {
          let s = 0;
          for (let t = 0; t < d!; t++)
            s +=
              q[(n * queries! + i) * heads! * d! + h * d! + t]! *
              k[(n * keys! + j) * heads! * d! + h * d! + t]!;
          scores.push(s / Math.sqrt(d!) + (bias?.[(h * queries! + i) * keys! + j] ?? 0));
        }
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b);
        for (let j = 0; j < keys!; j++)
          for (let t = 0; t < d!; t++)
            out[(n * queries! + i) * heads! * d! + h * d! + t] +=
              (exps[j]! / total) * v[(n * keys! + j) * heads! * d! + h * d! + t]!;
      }
  return out;
}

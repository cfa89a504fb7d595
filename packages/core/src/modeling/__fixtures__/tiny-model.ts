import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../../checkpoint/safetensors-writer.js';
import { linear } from '../../onnx/layers/linear.js';
import { type ModelGraphBuilder, buildModelGraph } from '../../onnx/model-graph.js';
import { Tensor } from '../../tensor/tensor.js';
import { writeTorchCheckpoint } from '../../testing/torch-checkpoint.js';
import type { CheckpointGraphsClass } from '../build-checkpoint-graphs.js';
import type { CheckpointGraphs } from '../checkpoint-graphs.js';
import { PretrainedConfig } from '../config.js';

// A model small enough to build in milliseconds, for the load path's tests in core (which cannot depend on a model
// package): y = dense.1(relu(dense.0(x))) over [batch, hidden_size]. No ONNX Runtime here, so that child processes
// of the build-cache tests start fast; the model class over it is in the tests.

// 16 x 16 float32 weights are 1 KiB: written to model.onnx_data, so an exported copy has external data.
export const HIDDEN = 16;

/** config.json's model_type for the tiny model. */
export class TinyConfig extends PretrainedConfig {
  static override readonly modelTypes = ['tiny'];
}

export const buildTinyModel: ModelGraphBuilder<TinyConfig> = (config, checkpoint, options) =>
  buildModelGraph('TinyModel', checkpoint, options, (root) => {
    const hidden = config.raw.hidden_size as number;
    const x = root.graph.input('x', 'float32', ['batch', hidden]);
    const size = { inFeatures: hidden, outFeatures: hidden };
    const first = linear(root.child('dense', 0), x, size);
    const relu = root.op('Relu', [first], {}, { label: 'relu' });
    const y = linear(root.child('dense', 1), relu, size);
    root.graph.output(y, 'y', 'float32', ['batch', hidden]);
  });

/** How the tiny model is built: one graph, from `dense.{0,1}.{weight,bias}`. */
export const TINY_CHECKPOINT_GRAPHS: CheckpointGraphs<TinyConfig> = {
  version: 1,
  baseModelPrefix: 'tiny',
  expectsPrefix: false,
  graphs: { model: buildTinyModel },
};

/** What `ModelGraphs` needs of the tiny model's class. */
export const TinyGraphs: CheckpointGraphsClass<TinyConfig> = {
  name: 'TinyModel',
  graphs: { model: 'model' },
  checkpointGraphs: TINY_CHECKPOINT_GRAPHS,
};

/** Deterministic weights; `seed` makes another checkpoint of the same shapes. */
export function tinyWeights(seed = 1): Record<string, Tensor<'float32'>> {
  const values = (n: number, offset: number) =>
    Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 7 + offset + i) / 2));
  return {
    'dense.0.weight': new Tensor('float32', values(HIDDEN * HIDDEN, 0), [HIDDEN, HIDDEN]),
    'dense.0.bias': new Tensor('float32', values(HIDDEN, 100), [HIDDEN]),
    'dense.1.weight': new Tensor('float32', values(HIDDEN * HIDDEN, 200), [HIDDEN, HIDDEN]),
    'dense.1.bias': new Tensor('float32', values(HIDDEN, 300), [HIDDEN]),
  };
}

/** What the graph must compute, in float64 (compare at float32 tolerance). */
export function tinyForward(x: Float32Array, weights = tinyWeights()): Float64Array {
  const dense = (input: ArrayLike<number>, layer: number) => {
    const w = weights[`dense.${layer}.weight`]!.data;
    const b = weights[`dense.${layer}.bias`]!.data;
    const out = new Float64Array(input.length);
    for (let row = 0; row < input.length / HIDDEN; row++) {
      for (let o = 0; o < HIDDEN; o++) {
        let sum = b[o]!;
        for (let i = 0; i < HIDDEN; i++) sum += input[row * HIDDEN + i]! * w[o * HIDDEN + i]!;
        out[row * HIDDEN + o] = sum;
      }
    }
    return out;
  };
  return dense(
    dense(x, 0).map((v) => Math.max(0, v)),
    1,
  );
}

export interface TinyFolderOptions {
  /** 'safetensors' (model.safetensors, default) or 'pytorch' (pytorch_model.bin). */
  format?: 'safetensors' | 'pytorch';
  /** Weights to write instead of `tinyWeights()`. */
  weights?: Readonly<Record<string, Tensor>>;
}

/** A model folder as a Hub repository of the tiny model holds it: config.json and the checkpoint, no onnx/. */
export async function writeTinyFolder(dir: string, options: TinyFolderOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'tiny', architectures: ['TinyModel'], hidden_size: HIDDEN }),
  );
  const weights = options.weights ?? tinyWeights();
  if (options.format === 'pytorch') await writeTorchCheckpoint(join(dir, 'pytorch_model.bin'), weights);
  else await writeSafetensors(join(dir, 'model.safetensors'), weights);
  return dir;
}

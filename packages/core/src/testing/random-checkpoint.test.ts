import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { CheckpointError, FixtureFormatError } from '../errors.js';
import {
  type WeightsShapes,
  randomWeights,
  readWeightsShapes,
  weightsShapesCheckpoint,
  writeRandomCheckpoint,
} from './random-checkpoint.js';

// The format of tooling/bench/models/<org>/<name>/weights-shapes.json, in small.
const shapes: WeightsShapes = {
  class: 'LevitForImageClassificationWithTeacher',
  tensors: {
    'conv.weight': { dtype: 'float32', shape: [4, 3, 3, 3] },
    'bn.running_var': { dtype: 'float32', shape: [4] },
    'bn.num_batches_tracked': { dtype: 'int64', shape: [] },
    'half.weight': { dtype: 'float16', shape: [8] },
    'brain.weight': { dtype: 'bfloat16', shape: [8] },
  },
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-random-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('random checkpoints from weights-shapes.json', () => {
  it('makes lazy, seeded, finite weights: uniform floats, positive variances, zero counters', async () => {
    const entries = randomWeights(shapes, { seed: 3 });
    expect(entries.map((entry) => [entry.key, entry.dtype, entry.shape])).toEqual(
      Object.entries(shapes.tensors).map(([key, { dtype, shape }]) => [key, dtype, shape]),
    );
    const data = async (key: string, seed = 3) => {
      const entry = randomWeights(shapes, { seed }).find((e) => e.key === key)!;
      return typeof entry.data === 'function' ? entry.data() : entry.data;
    };
    const conv = (await data('conv.weight')) as Float32Array;
    expect(conv).toEqual(await data('conv.weight'));
    expect(conv).not.toEqual(await data('conv.weight', 4));
    expect(conv.every((x) => Math.abs(x) <= 0.05)).toBe(true);
    expect(new Set(conv).size).toBe(conv.length);
    expect(((await data('bn.running_var')) as Float32Array).every((x) => x >= 0.5 && x <= 1.5)).toBe(true);
    expect(await data('bn.num_batches_tracked')).toEqual(new BigInt64Array(1));
  });

  it('writes safetensors and torch zip checkpoints that read back with the same values', async () => {
    const file = join(dir, 'shapes.json');
    await writeFile(file, JSON.stringify(shapes));
    await writeRandomCheckpoint(join(dir, 'model.safetensors'), file, { seed: 1 });
    await writeRandomCheckpoint(join(dir, 'pytorch_model.bin'), await readWeightsShapes(file), {
      seed: 1,
      format: 'pytorch',
    });
    const safetensors = await openCheckpoint([join(dir, 'model.safetensors')]);
    const torch = await openCheckpoint([join(dir, 'pytorch_model.bin')]);
    expect(torch.keys()).toEqual(safetensors.keys());
    for (const key of safetensors.keys()) {
      expect(torch.info(key).dtype).toBe(shapes.tensors[key]!.dtype);
      expect((await torch.read(key)).data).toEqual((await safetensors.read(key)).data);
    }
    const half = await safetensors.readFloat32('half.weight');
    expect(half.data.every((x) => Number.isFinite(x) && Math.abs(x) <= 0.05)).toBe(true);
    await safetensors.close();
    await torch.close();
    expect((await readFile(join(dir, 'model.safetensors'))).length).toBeGreaterThan(4 * 108);
  });

  it('serves the index as a Checkpoint without writing it, reads giving the float32 values randomWeights writes', async () => {
    const checkpoint = weightsShapesCheckpoint(shapes, { seed: 2, name: 'levit.safetensors' });
    expect(checkpoint.keys()).toEqual(Object.keys(shapes.tensors));
    expect(checkpoint.info('half.weight')).toEqual({
      key: 'half.weight',
      dtype: 'float16',
      shape: [8],
      file: 'levit.safetensors',
    });
    const written = randomWeights(shapes, { seed: 2 }).find((e) => e.key === 'conv.weight')!;
    const read = await checkpoint.readFloat32('conv.weight');
    expect(read.dims).toEqual([4, 3, 3, 3]);
    expect(read.data).toEqual(typeof written.data === 'function' ? await written.data() : written.data);
    expect(() => checkpoint.info('missing')).toThrow(
      new CheckpointError("levit.safetensors has no weight 'missing'"),
    );
    await expect(checkpoint.read('bn.num_batches_tracked')).rejects.toThrow(
      "levit.safetensors: 'bn.num_batches_tracked' is int64, not a floating weight",
    );
    await checkpoint.close();
    await expect(checkpoint.readFloat32('conv.weight')).rejects.toThrow(CheckpointError);
  });

  it('refuses a file that is not a weights-shapes.json, and dtypes a checkpoint cannot hold', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ class: 'X' }));
    await expect(readWeightsShapes(file)).rejects.toThrow(FixtureFormatError);
    await expect(readWeightsShapes(file)).rejects.toThrow(`${file} has no "tensors" object`);
    expect(() => randomWeights({ tensors: { z: { dtype: 'complex64', shape: [1] } } })).toThrow(
      `weights-shapes: 'z' has dtype "complex64", which is not a checkpoint dtype`,
    );
  });
});

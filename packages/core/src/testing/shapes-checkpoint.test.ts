import { describe, expect, it } from 'vitest';
import { CheckpointError, FixtureFormatError } from '../errors.js';
import type { WeightsShapes } from './random-checkpoint.js';
import { shapesCheckpoint } from './shapes-checkpoint.js';

const shapes: WeightsShapes = {
  tensors: {
    'conv.weight': { dtype: 'float32', shape: [4, 3, 3, 3] },
    'attn.relative_position_index': { dtype: 'int64', shape: [4, 4] },
  },
};

describe('shapesCheckpoint', () => {
  it('answers for keys, dtypes and shapes in file order', () => {
    const checkpoint = shapesCheckpoint(shapes, 'tiny.safetensors');
    expect(checkpoint.keys()).toEqual(['conv.weight', 'attn.relative_position_index']);
    expect(checkpoint.has('conv.weight')).toBe(true);
    expect(checkpoint.has('conv.bias')).toBe(false);
    expect(checkpoint.info('attn.relative_position_index')).toEqual({
      key: 'attn.relative_position_index',
      dtype: 'int64',
      shape: [4, 4],
      file: 'tiny.safetensors',
    });
    expect(() => checkpoint.info('conv.bias')).toThrowError(
      new CheckpointError("tiny.safetensors has no weight 'conv.bias'"),
    );
  });

  it('refuses reads, naming the key', async () => {
    const checkpoint = shapesCheckpoint(shapes, 'tiny.safetensors');
    await expect(checkpoint.readFloat32('conv.weight')).rejects.toThrowError(
      new CheckpointError("tiny.safetensors holds shapes only: 'conv.weight' cannot be read"),
    );
    await expect(checkpoint.read('conv.bias')).rejects.toThrowError(
      new CheckpointError("tiny.safetensors has no weight 'conv.bias'"),
    );
  });

  it('refuses a dtype no checkpoint has', () => {
    expect(() => shapesCheckpoint({ tensors: { w: { dtype: 'complex64', shape: [1] } } })).toThrowError(
      new FixtureFormatError('weights-shapes: \'w\' has dtype "complex64", which is not a checkpoint dtype'),
    );
  });
});

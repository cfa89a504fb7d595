import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { compareArrays } from '../testing/compare.js';
import { sigmoid, softmax } from './activation.js';
import { Tensor } from './tensor.js';

const f32 = (values: number[], dims: number[]) => new Tensor('float32', Float32Array.from(values), dims);

describe('softmax', () => {
  it('normalizes along the last axis by default', () => {
    const result = softmax(f32([0, Math.log(3), 1, 1], [2, 2]));
    expect(result.dtype).toBe('float32');
    expect(result.dims).toEqual([2, 2]);
    expect(compareArrays(result.data, [0.25, 0.75, 0.5, 0.5], [4], { atol: 1e-7 }).ok).toBe(true);
  });

  it('normalizes along a leading axis', () => {
    // columns [0, ln 3] and [ln 4, 0]
    const result = softmax(f32([0, Math.log(4), Math.log(3), 0], [2, 2]), 0);
    expect(compareArrays(result.data, [0.25, 0.8, 0.75, 0.2], [4], { atol: 1e-7 }).ok).toBe(true);
  });

  it('does not overflow on large logits', () => {
    const result = softmax(f32([1000, 1000], [2]));
    expect(Array.from(result.data)).toEqual([0.5, 0.5]);
  });

  it('rejects an axis outside the rank', () => {
    expect(() => softmax(f32([1, 2], [2]), 1)).toThrow(InvalidArgumentError);
    expect(() => softmax(f32([1, 2], [2]), 1)).toThrow('axis 1 is out of range for a tensor of rank 1');
  });
});

describe('sigmoid', () => {
  it('maps 0 to 0.5 and is symmetric', () => {
    const result = sigmoid(f32([0, 2, -2, 40, -40], [5]));
    const s2 = 1 / (1 + Math.exp(-2));
    expect(compareArrays(result.data, [0.5, s2, 1 - s2, 1, 0], [5], { atol: 1e-7 }).ok).toBe(true);
    expect(result.dims).toEqual([5]);
  });
});

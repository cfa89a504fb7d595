import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { Tensor } from './tensor.js';
import { topK } from './top-k.js';

const f32 = (values: number[], dims: number[]) => new Tensor('float32', Float32Array.from(values), dims);

describe('topK', () => {
  it('returns the k largest sorted, ties with the lower index first', () => {
    const { values, indices } = topK(f32([0.1, 0.5, 0.2, 0.5, 0.9], [5]), 3);
    expect(Array.from(values.data)).toEqual([Math.fround(0.9), 0.5, 0.5]);
    expect(Array.from(indices.data)).toEqual([4, 1, 3]);
    expect(values.dims).toEqual([3]);
    expect(indices.dtype).toBe('int32');
  });

  it('returns the smallest with largest: false, ties still lower index first', () => {
    const { indices } = topK(f32([2, 1, 3, 1], [4]), 2, { largest: false });
    expect(Array.from(indices.data)).toEqual([1, 3]);
  });

  it('selects along a leading axis', () => {
    // [3, 2]: per column top 2 over rows
    const { values, indices } = topK(f32([1, 6, 3, 4, 2, 5], [3, 2]), 2, { axis: 0 });
    expect(values.dims).toEqual([2, 2]);
    expect(Array.from(values.data)).toEqual([3, 6, 2, 5]);
    expect(Array.from(indices.data)).toEqual([1, 0, 2, 2]);
  });

  it('rejects k larger than the axis', () => {
    expect(() => topK(f32([1, 2], [2]), 3)).toThrow(InvalidArgumentError);
    expect(() => topK(f32([1, 2], [2]), 3)).toThrow('k must be an integer in [0, 2]');
  });
});

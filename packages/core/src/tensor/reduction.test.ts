import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { compareArrays } from '../testing/compare.js';
import { argmax, l2Normalize, mean } from './reduction.js';
import { Tensor } from './tensor.js';

const f32 = (values: number[], dims: number[]) => new Tensor('float32', Float32Array.from(values), dims);

describe('argmax', () => {
  it('picks the first of tied maxima along the last axis', () => {
    const result = argmax(f32([1, 3, 3, 0, 5, 2, 2, 5], [2, 4]));
    expect(result.dtype).toBe('int32');
    expect(result.dims).toEqual([2]);
    expect(Array.from(result.data)).toEqual([1, 0]);
  });

  it('reduces a middle axis and keeps it on request', () => {
    // [2, 3, 2]: argmax over axis 1
    const t = f32([0, 9, 5, 1, 2, 3, 7, 0, 1, 8, 7, 8], [2, 3, 2]);
    expect(Array.from(argmax(t, 1).data)).toEqual([1, 0, 0, 1]);
    expect(argmax(t, 1, { keepDims: true }).dims).toEqual([2, 1, 2]);
  });

  it('works on int64 data', () => {
    const t = new Tensor('int64', BigInt64Array.from([3n, 9n, -1n]), [3]);
    expect(Array.from(argmax(t).data)).toEqual([1]);
  });

  it('treats NaN as the maximum, as torch does', () => {
    expect(Array.from(argmax(f32([1, Number.NaN, 5], [3])).data)).toEqual([1]);
  });

  it('refuses an empty axis', () => {
    expect(() => argmax(f32([], [2, 0]))).toThrow(InvalidArgumentError);
  });
});

describe('mean', () => {
  it('averages along an axis', () => {
    const t = f32([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(Array.from(mean(t).data)).toEqual([2, 5]);
    expect(Array.from(mean(t, 0).data)).toEqual([2.5, 3.5, 4.5]);
    expect(mean(t, 0, { keepDims: true }).dims).toEqual([1, 3]);
  });
});

describe('l2Normalize', () => {
  it('divides each vector by its norm', () => {
    const result = l2Normalize(f32([3, 4, 0, 0, 0, 5], [3, 2]));
    expect(compareArrays(result.data, [0.6, 0.8, 0, 0, 0, 1], [6], { atol: 1e-7 }).ok).toBe(true);
    expect(result.dims).toEqual([3, 2]);
  });

  it('normalizes along a leading axis', () => {
    const result = l2Normalize(f32([3, 1, 4, 0], [2, 2]), 0);
    expect(compareArrays(result.data, [0.6, 1, 0.8, 0], [4], { atol: 1e-7 }).ok).toBe(true);
  });
});

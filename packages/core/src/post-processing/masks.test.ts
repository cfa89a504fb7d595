import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import {
  binaryMaskToRle,
  nearestSourceIndices,
  resizeNearest,
  segmentationToRle,
  uniqueValues,
} from './masks.js';

describe('binaryMaskToRle', () => {
  it('writes (1-based start, length) pairs of the runs of ones, row-major', () => {
    expect(binaryMaskToRle([0, 1, 1, 0, 0, 1])).toEqual([2, 2, 6, 1]);
    expect(binaryMaskToRle([1, 1, 0, 1])).toEqual([1, 2, 4, 1]);
    expect(binaryMaskToRle([0, 0, 0])).toEqual([]);
    expect(binaryMaskToRle([1, 1, 1])).toEqual([1, 3]);
    expect(binaryMaskToRle([])).toEqual([]);
  });
});

describe('segmentationToRle', () => {
  it('gives one RLE per distinct value, ascending (-1 first)', () => {
    const map = new Tensor('float32', Float32Array.from([1, -1, -1, 0, 1, 1]), [2, 3]);
    expect(segmentationToRle(map)).toEqual([
      [2, 2],
      [4, 1],
      [1, 1, 5, 2],
    ]);
    expect(uniqueValues([3, 1, 3, -1])).toEqual([-1, 1, 3]);
  });
});

describe('resizeNearest', () => {
  it('picks floor(dst * float32(in / out)) as torch does', () => {
    // 384 -> 74: float32 gives 37 * 5.189189 = 191.99998 -> 191 where exact arithmetic gives 192.
    expect(nearestSourceIndices(384, 74)[37]).toBe(191);
    expect(nearestSourceIndices(384, 123)[41]).toBe(127);
    expect(Array.from(nearestSourceIndices(2, 4))).toEqual([0, 0, 1, 1]);
    expect(Array.from(nearestSourceIndices(4, 2))).toEqual([0, 2]);
  });

  it('resizes the last two axes of any dtype', () => {
    const masks = new Tensor('uint8', Uint8Array.from([1, 0, 0, 1, 5, 6, 7, 8]), [2, 2, 2]);
    const out = resizeNearest(masks, [4, 4]);
    expect(out.dtype).toBe('uint8');
    expect(out.dims).toEqual([2, 4, 4]);
    expect(Array.from(out.data.subarray(0, 16))).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
    expect(Array.from(out.data.subarray(16, 20))).toEqual([5, 5, 6, 6]);
  });

  it('rejects bad sizes and ranks with typed errors', () => {
    const plane = new Tensor('float32', new Float32Array(4), [2, 2]);
    expect(() => resizeNearest(plane, [0, 3])).toThrow(InvalidArgumentError);
    expect(() => resizeNearest(plane, [1.5, 3] as [number, number])).toThrow(InvalidArgumentError);
    expect(() => resizeNearest(new Tensor('float32', new Float32Array(2), [2]), [2, 2])).toThrow(
      InputShapeError,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { permute, reshape, slice, squeeze, unsqueeze } from './layout.js';
import { Tensor } from './tensor.js';

const range = (dims: number[]) => {
  const size = dims.reduce((a, b) => a * b, 1);
  return new Tensor(
    'float32',
    Float32Array.from({ length: size }, (_, i) => i),
    dims,
  );
};

describe('reshape', () => {
  it('infers one -1 dimension and shares the data', () => {
    const t = range([2, 6]);
    const r = reshape(t, [3, -1]);
    expect(r.dims).toEqual([3, 4]);
    expect(r.data).toBe(t.data);
  });

  it('refuses a size mismatch', () => {
    expect(() => reshape(range([2, 3]), [4, -1])).toThrow(InputShapeError);
    expect(() => reshape(range([2, 3]), [4, 2])).toThrow('cannot reshape [2, 3] (6 elements) to [4, 2]');
  });
});

describe('squeeze / unsqueeze', () => {
  it('drops every length-1 axis or a given one', () => {
    expect(squeeze(range([1, 3, 1])).dims).toEqual([3]);
    expect(squeeze(range([1, 3, 1]), -1).dims).toEqual([1, 3]);
  });

  it('refuses to squeeze an axis longer than 1', () => {
    expect(() => squeeze(range([2, 3]), 1)).toThrow('axis 1 of shape [2, 3] has length 3, expected 1');
  });

  it('inserts an axis, negative counting from the end of the result', () => {
    expect(unsqueeze(range([2, 3]), 0).dims).toEqual([1, 2, 3]);
    expect(unsqueeze(range([2, 3]), -1).dims).toEqual([2, 3, 1]);
    expect(unsqueeze(range([2, 3]), 1).dims).toEqual([2, 1, 3]);
  });
});

describe('permute', () => {
  it('transposes a matrix', () => {
    const p = permute(range([2, 3]), [1, 0]);
    expect(p.dims).toEqual([3, 2]);
    expect(Array.from(p.data)).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('moves channels last on a 3-d tensor', () => {
    // [C=2, H=2, W=2] -> [H, W, C]
    const p = permute(range([2, 2, 2]), [1, 2, 0]);
    expect(Array.from(p.data)).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
  });

  it('keeps the dtype', () => {
    const t = new Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 4n]), [2, 2]);
    const p = permute(t, [1, 0]);
    expect(p.dtype).toBe('int64');
    expect(Array.from(p.data)).toEqual([1n, 3n, 2n, 4n]);
  });

  it('refuses a non-permutation', () => {
    expect(() => permute(range([2, 3]), [0, 0])).toThrow(InvalidArgumentError);
  });
});

describe('slice', () => {
  it('selects an index (dropping the axis) and a range', () => {
    // [2, 3, 2]; t[1, 1:3] -> [[8, 9], [10, 11]]
    const s = slice(range([2, 3, 2]), [1, [1, 3]]);
    expect(s.dims).toEqual([2, 2]);
    expect(Array.from(s.data)).toEqual([8, 9, 10, 11]);
  });

  it('accepts negative positions and clamps ranges like Python', () => {
    const s = slice(range([4, 2]), [[-2, 99], -1]);
    expect(s.dims).toEqual([2]);
    expect(Array.from(s.data)).toEqual([5, 7]);
  });

  it('keeps whole axes for null specs', () => {
    const s = slice(range([2, 3]), [null, [2]]);
    expect(s.dims).toEqual([2, 1]);
    expect(Array.from(s.data)).toEqual([2, 5]);
  });

  it('refuses an index out of range', () => {
    expect(() => slice(range([2, 3]), [2])).toThrow('index 2 is out of range for axis 0 of length 2');
  });
});

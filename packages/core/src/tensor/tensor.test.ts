import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from './tensor.js';

describe('Tensor', () => {
  it('holds dtype, dims and data, and refuses a mismatched size or array type by name', () => {
    const t = new Tensor('float32', new Float32Array(6), [2, 3]);
    expect([t.dtype, t.dims, t.size, t.rank]).toEqual(['float32', [2, 3], 6, 2]);
    expect(() => new Tensor('float32', new Float32Array(5), [2, 3])).toThrowError(
      new InputShapeError('tensor data has 5 elements but shape [2, 3] needs 6'),
    );
    expect(() => new Tensor('int64', new Float32Array(1) as unknown as BigInt64Array, [1])).toThrowError(
      new InputShapeError('a int64 tensor needs a BigInt64Array, got Float32Array'),
    );
    expect(() => new Tensor('float16' as 'float32', new Float32Array(1), [1])).toThrowError(
      InvalidArgumentError,
    );
    expect(() => Tensor.zeros('int32', [2, -1])).toThrowError(/dimensions must be integers >= 0/);
  });

  it('reshapes without copying', () => {
    const t = new Tensor('int32', Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const r = t.reshape([3, 2]);
    expect(r.data).toBe(t.data);
    expect(() => t.reshape([4, 2])).toThrowError(InputShapeError);
  });

  it('gives nested arrays in its shape, numbers for int64, a number for 0-d', () => {
    expect(new Tensor('int32', Int32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]).toNested()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(new Tensor('int64', BigInt64Array.from([7n, 8n]), [2, 1, 1]).toNested()).toEqual([[[7]], [[8]]]);
    expect(new Tensor('float32', Float32Array.from([2.5]), []).toNested()).toBe(2.5);
    expect(Tensor.zeros('float32', [0, 3]).toNested()).toEqual([]);
  });
});

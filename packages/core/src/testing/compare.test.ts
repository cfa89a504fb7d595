import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import {
  ToleranceError,
  assertTensorClose,
  compareArrays,
  compareTensors,
  describeComparison,
  differenceRelativeToLargest,
} from './compare.js';

describe('compareArrays', () => {
  it('passes equal arrays with zero error', () => {
    const result = compareArrays([1, 2, 3], [1, 2, 3]);
    expect(result).toMatchObject({ ok: true, worstAbsError: 0, countBeyond: 0, total: 3 });
  });

  it('reports the worst element, its position in the shape, and the count beyond tolerance', () => {
    const expected = [0, 0, 0, 0, 0, 0];
    const actual = [0, 0.05, 0, 0, -0.3, 0.2];
    const result = compareArrays(actual, expected, [2, 3], { atol: 0.1 });
    expect(result.ok).toBe(false);
    expect(result.worstAbsError).toBeCloseTo(0.3, 12);
    expect(result.worstIndex).toBe(4);
    expect(result.worstPosition).toEqual([1, 1]);
    expect(result.worstActual).toBe(-0.3);
    expect(result.countBeyond).toBe(2);
    expect(describeComparison(result)).toBe(
      'worst 0.300 at [1, 1] (got -0.3, expected 0), 2/6 beyond tolerance',
    );
  });

  it('applies numpy allclose: atol + rtol * |expected|', () => {
    expect(compareArrays([101], [100], [1], { atol: 0, rtol: 0.01 }).ok).toBe(true);
    expect(compareArrays([101.5], [100], [1], { atol: 0.4, rtol: 0.01 }).ok).toBe(false);
    expect(compareArrays([101.3], [100], [1], { atol: 0.4, rtol: 0.01 }).ok).toBe(true);
  });

  it('treats NaN as equal only to NaN', () => {
    expect(compareArrays([Number.NaN], [Number.NaN]).ok).toBe(true);
    const result = compareArrays([Number.NaN], [1], [1], { atol: 1 });
    expect(result.ok).toBe(false);
    expect(result.worstAbsError).toBe(Number.POSITIVE_INFINITY);
  });

  it('compares bigint arrays', () => {
    expect(compareArrays(new BigInt64Array([1n, 2n]), new BigInt64Array([1n, 3n])).countBeyond).toBe(1);
  });

  it('refuses different lengths', () => {
    expect(compareArrays([1, 2], [1, 2, 3]).shapeMismatch).toBe('got 2 elements, expected 3');
  });
});

describe('compareTensors', () => {
  it('fails on a shape mismatch even when the data agrees', () => {
    const a = new Tensor('float32', new Float32Array(6), [2, 3]);
    const b = new Tensor('float32', new Float32Array(6), [3, 2]);
    const result = compareTensors(a, b);
    expect(result.ok).toBe(false);
    expect(result.shapeMismatch).toBe('shape [2, 3] != expected [3, 2]');
  });

  it('assertTensorClose throws a ToleranceError saying where and by how much', () => {
    const a = new Tensor('float32', new Float32Array([1, 2, 3.5]), [3]);
    const b = new Tensor('float32', new Float32Array([1, 2, 3]), [3]);
    expect(() => assertTensorClose(a, b, { atol: 0.1 }, 'logits')).toThrowError(ToleranceError);
    expect(() => assertTensorClose(a, b, { atol: 0.1 }, 'logits')).toThrowError(
      'logits differs (atol 0.1, rtol 0): worst 0.500 at [2] (got 3.5, expected 3), 1/3 beyond tolerance',
    );
    expect(() => assertTensorClose(a, b, { atol: 0.5 })).not.toThrow();
  });
});

describe('differenceRelativeToLargest', () => {
  it('divides the worst difference by the largest expected magnitude', () => {
    expect(differenceRelativeToLargest(Float32Array.of(1, -3.5, 0), Float32Array.of(1, -4, 0.25))).toBe(
      0.125,
    );
  });

  it('is infinite when the lengths differ', () => {
    expect(differenceRelativeToLargest(Float32Array.of(1), Float32Array.of(1, 2))).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

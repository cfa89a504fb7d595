import { OrtVisionError } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

export interface Tolerance {
  /** Absolute tolerance; 0 means exact. */
  atol?: number;
  /** Relative tolerance, scaled by |expected|. */
  rtol?: number;
}

export interface Comparison {
  /** True when every element satisfies |actual - expected| <= atol + rtol * |expected| and shapes agree. */
  ok: boolean;
  /** Largest |actual - expected| (Infinity where one side is NaN and the other is not). */
  worstAbsError: number;
  /** Flat index of the worst element, -1 for empty arrays. */
  worstIndex: number;
  /** The worst element's multi-index in the expected shape. */
  worstPosition: number[];
  /** Values at the worst element. */
  worstActual: number;
  worstExpected: number;
  /** How many elements fall outside the tolerance. */
  countBeyond: number;
  total: number;
  /** Set when the shapes differ; no element comparison is made then. */
  shapeMismatch?: string;
}

type Numeric = ArrayLike<number> | ArrayLike<bigint>;

function unravel(index: number, dims: readonly number[]): number[] {
  const position = new Array<number>(dims.length).fill(0);
  for (let axis = dims.length - 1; axis >= 0 && index >= 0; axis--) {
    const dim = dims[axis]!;
    position[axis] = dim === 0 ? 0 : index % dim;
    index = dim === 0 ? 0 : Math.floor(index / dim);
  }
  return position;
}

/**
 * Element-wise comparison with numpy's allclose rule (|a - e| <= atol + rtol * |e|). NaN equals NaN (the
 * references contain none, but a NaN produced where one is expected must not count as an error).
 */
export function compareArrays(
  actual: Numeric,
  expected: Numeric,
  dims: readonly number[] = [expected.length],
  { atol = 0, rtol = 0 }: Tolerance = {},
): Comparison {
  const result: Comparison = {
    ok: true,
    worstAbsError: 0,
    worstIndex: -1,
    worstPosition: [],
    worstActual: Number.NaN,
    worstExpected: Number.NaN,
    countBeyond: 0,
    total: expected.length,
  };
  if (actual.length !== expected.length) {
    return {
      ...result,
      ok: false,
      worstAbsError: Number.POSITIVE_INFINITY,
      shapeMismatch: `got ${actual.length} elements, expected ${expected.length}`,
    };
  }
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    let error: number;
    if (Number.isNaN(a) || Number.isNaN(e))
      error = Number.isNaN(a) && Number.isNaN(e) ? 0 : Number.POSITIVE_INFINITY;
    else if (a === e) error = 0;
    else error = Math.abs(a - e);
    if (error > atol + rtol * Math.abs(e)) result.countBeyond++;
    if (error > result.worstAbsError || result.worstIndex < 0) {
      result.worstAbsError = error;
      result.worstIndex = i;
      result.worstActual = a;
      result.worstExpected = e;
    }
  }
  result.ok = result.countBeyond === 0;
  result.worstPosition = result.worstIndex < 0 ? [] : unravel(result.worstIndex, dims);
  return result;
}

/**
 * The worst absolute difference over the largest magnitude of `expected`: how far a variant of a graph (q8, fp16)
 * strays from the float32 one, on the output's own scale. Infinity when the lengths differ.
 *
 * @example
 * ```ts
 * differenceRelativeToLargest(Float32Array.of(1, 2.1), Float32Array.of(1, 2)); // 0.05
 * ```
 */
export function differenceRelativeToLargest(actual: Numeric, expected: Numeric): number {
  const { worstAbsError } = compareArrays(actual, expected);
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(Number(expected[i])));
  return worstAbsError / largest;
}

/** Compares two tensors: shapes must be equal, then values within the tolerance. */
export function compareTensors(actual: Tensor, expected: Tensor, tolerance: Tolerance = {}): Comparison {
  const sameShape =
    actual.dims.length === expected.dims.length && actual.dims.every((d, i) => d === expected.dims[i]);
  if (!sameShape) {
    return {
      ok: false,
      worstAbsError: Number.POSITIVE_INFINITY,
      worstIndex: -1,
      worstPosition: [],
      worstActual: Number.NaN,
      worstExpected: Number.NaN,
      countBeyond: expected.size,
      total: expected.size,
      shapeMismatch: `shape [${actual.dims.join(', ')}] != expected [${expected.dims.join(', ')}]`,
    };
  }
  return compareArrays(actual.data, expected.data, expected.dims, tolerance);
}

/** One line saying how far off a comparison is, e.g. `worst 0.0123 at [0, 2, 5] (got 1.2, expected 1.19), 3/768 beyond`. */
export function describeComparison(comparison: Comparison): string {
  if (comparison.shapeMismatch) return comparison.shapeMismatch;
  if (comparison.total === 0) return 'empty';
  const { worstAbsError, worstPosition, worstActual, worstExpected, countBeyond, total } = comparison;
  return (
    `worst ${worstAbsError.toPrecision(3)} at [${worstPosition.join(', ')}] ` +
    `(got ${worstActual}, expected ${worstExpected}), ${countBeyond}/${total} beyond tolerance`
  );
}

/** A comparison beyond tolerance; the message says where and by how much. */
export class ToleranceError extends OrtVisionError {}

/** Throws `ToleranceError` with `describeComparison`'s text when tensors differ beyond the tolerance. */
export function assertTensorClose(
  actual: Tensor,
  expected: Tensor,
  tolerance: Tolerance = {},
  label = 'tensor',
): void {
  const comparison = compareTensors(actual, expected, tolerance);
  if (!comparison.ok) {
    throw new ToleranceError(
      `${label} differs (atol ${tolerance.atol ?? 0}, rtol ${tolerance.rtol ?? 0}): ${describeComparison(comparison)}`,
    );
  }
}

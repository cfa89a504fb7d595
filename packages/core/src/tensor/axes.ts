import { InvalidArgumentError } from '../errors.js';

/** Resolves a possibly negative axis against a rank, as numpy and torch do. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  const resolved = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || resolved < 0 || resolved >= rank) {
    throw new InvalidArgumentError(`${what} ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return resolved;
}

/**
 * Splits a shape around one axis: `outer` blocks, each of `length` steps of `inner` contiguous elements. Element
 * (o, i, j) of that view lives at `(o * length + i) * inner + j`.
 */
export function splitAroundAxis(
  dims: readonly number[],
  axis: number,
): { outer: number; length: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < axis; d++) outer *= dims[d]!;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  return { outer, length: dims[axis]!, inner };
}

/** Row-major strides of a shape. */
export function stridesOf(dims: readonly number[]): number[] {
  const strides = new Array<number>(dims.length);
  let stride = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= dims[d]!;
  }
  return strides;
}

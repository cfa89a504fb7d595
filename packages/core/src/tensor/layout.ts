import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { normalizeAxis, stridesOf } from './axes.js';
import { type DataType, Tensor, type TypedArrayOf, shapeSize } from './tensor.js';

function allocate<T extends DataType>(like: Tensor<T>, size: number): TypedArrayOf<T> {
  const Constructor = like.data.constructor as new (length: number) => TypedArrayOf<T>;
  return new Constructor(size);
}

/**
 * The same data with another shape (no copy). One dimension may be -1 and is inferred, as in torch's `reshape`.
 */
export function reshape<T extends DataType>(tensor: Tensor<T>, dims: readonly number[]): Tensor<T> {
  const inferred = dims.filter((d) => d === -1).length;
  if (inferred > 1)
    throw new InvalidArgumentError(`reshape: only one dimension can be -1, got [${dims.join(', ')}]`);
  let target = [...dims];
  if (inferred === 1) {
    const known = shapeSize(dims.filter((d) => d !== -1));
    if (known === 0 || tensor.size % known !== 0) {
      throw new InputShapeError(`cannot reshape [${tensor.dims.join(', ')}] to [${dims.join(', ')}]`);
    }
    target = dims.map((d) => (d === -1 ? tensor.size / known : d));
  }
  if (shapeSize(target) !== tensor.size) {
    throw new InputShapeError(
      `cannot reshape [${tensor.dims.join(', ')}] (${tensor.size} elements) to [${dims.join(', ')}]`,
    );
  }
  return tensor.reshape(target);
}

/** Drops axes of length 1: the given one (an error if its length is not 1), or all of them. No copy. */
export function squeeze<T extends DataType>(tensor: Tensor<T>, axis?: number): Tensor<T> {
  if (axis === undefined) return tensor.reshape(tensor.dims.filter((d) => d !== 1));
  const resolved = normalizeAxis(axis, tensor.rank);
  if (tensor.dims[resolved] !== 1) {
    throw new InputShapeError(
      `squeeze: axis ${axis} of shape [${tensor.dims.join(', ')}] has length ${tensor.dims[resolved]}, expected 1`,
    );
  }
  return tensor.reshape(tensor.dims.filter((_, i) => i !== resolved));
}

/** Inserts an axis of length 1 at `axis` (negative counts from the end of the result, as in torch). No copy. */
export function unsqueeze<T extends DataType>(tensor: Tensor<T>, axis: number): Tensor<T> {
  const resolved = normalizeAxis(axis, tensor.rank + 1);
  const dims = [...tensor.dims];
  dims.splice(resolved, 0, 1);
  return tensor.reshape(dims);
}

/** Reorders axes (torch's `permute`, numpy's `transpose`); copies the data into the new order. */
export function permute<T extends DataType>(tensor: Tensor<T>, axes: readonly number[]): Tensor<T> {
  const rank = tensor.rank;
  const resolved = axes.map((axis) => normalizeAxis(axis, rank));
  if (axes.length !== rank || new Set(resolved).size !== rank) {
    throw new InvalidArgumentError(
      `permute: [${axes.join(', ')}] is not a permutation of the ${rank} axes of [${tensor.dims.join(', ')}]`,
    );
  }
  const dims = resolved.map((axis) => tensor.dims[axis]!);
  const sourceStrides = stridesOf(tensor.dims);
  const strides = resolved.map((axis) => sourceStrides[axis]!);
  return gather(tensor, dims, strides, 0);
}

/** One axis of a `slice`: an index (the axis is dropped), a [start, end) range, or null for the whole axis. */
export type SliceSpec = number | readonly [start: number, end?: number] | null | undefined;

/**
 * Selects a sub-tensor, one spec per leading axis (missing specs take the whole axis). Negative positions count
 * from the end and ranges are clamped, like Python slices; a plain index drops its axis, like `t[0]`. Copies.
 *
 * @example slice(logits, [0, [1, 3]])  // logits[0, 1:3]
 */
export function slice<T extends DataType>(tensor: Tensor<T>, specs: readonly SliceSpec[]): Tensor<T> {
  if (specs.length > tensor.rank) {
    throw new InvalidArgumentError(`slice: ${specs.length} specs for a tensor of rank ${tensor.rank}`);
  }
  const sourceStrides = stridesOf(tensor.dims);
  const dims: number[] = [];
  const strides: number[] = [];
  let offset = 0;
  tensor.dims.forEach((length, axis) => {
    const spec = specs[axis];
    if (typeof spec === 'number') {
      const index = spec < 0 ? spec + length : spec;
      if (!Number.isInteger(spec) || index < 0 || index >= length) {
        throw new InvalidArgumentError(
          `slice: index ${spec} is out of range for axis ${axis} of length ${length}`,
        );
      }
      offset += index * sourceStrides[axis]!;
      return;
    }
    const clamp = (value: number) => Math.min(Math.max(value < 0 ? value + length : value, 0), length);
    const start = spec ? clamp(spec[0]) : 0;
    const end = spec && spec[1] !== undefined ? clamp(spec[1]) : length;
    offset += start * sourceStrides[axis]!;
    dims.push(Math.max(end - start, 0));
    strides.push(sourceStrides[axis]!);
  });
  return gather(tensor, dims, strides, offset);
}

/** Copies the strided view (dims, strides, offset) of a tensor's data into a new contiguous tensor. */
function gather<T extends DataType>(
  tensor: Tensor<T>,
  dims: readonly number[],
  strides: readonly number[],
  offset: number,
): Tensor<T> {
  const size = shapeSize(dims);
  const output = allocate(tensor, size);
  const source = tensor.data as unknown as { [index: number]: number | bigint };
  const target = output as unknown as { [index: number]: number | bigint };
  const rank = dims.length;
  const position = new Array<number>(rank).fill(0);
  let from = offset;
  for (let i = 0; i < size; i++) {
    target[i] = source[from]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      position[axis]!++;
      from += strides[axis]!;
      if (position[axis]! < dims[axis]!) break;
      from -= position[axis]! * strides[axis]!;
      position[axis] = 0;
    }
  }
  return new Tensor(tensor.dtype, output, dims);
}

import { InvalidArgumentError } from '../errors.js';
import { normalizeAxis, splitAroundAxis } from './axes.js';
import { type DataType, Tensor } from './tensor.js';

type NumericTensor = Tensor<Exclude<DataType, 'int64'>> | Tensor<'int64'>;

function reducedDims(dims: readonly number[], axis: number, keepDims: boolean): number[] {
  return keepDims ? dims.map((d, i) => (i === axis ? 1 : d)) : dims.filter((_, i) => i !== axis);
}

export interface ReduceOptions {
  /** Keep the reduced axis with length 1 (torch's `keepdim`). Default false. */
  keepDims?: boolean;
}

/**
 * Index of the largest value along `axis` (default: the last). Ties go to the first index, as torch and numpy
 * do; NaN counts as the largest value, as in torch. Indices are int32 (no tensor here has 2^31 elements per axis).
 */
export function argmax(
  tensor: NumericTensor,
  axis = -1,
  { keepDims = false }: ReduceOptions = {},
): Tensor<'int32'> {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  if (length === 0) throw new InvalidArgumentError(`argmax over axis ${axis} of length 0`);
  const data = tensor.data as ArrayLike<number | bigint>;
  const output = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      let best = 0;
      let bestValue = data[base]!;
      for (let i = 1; i < length; i++) {
        const value = data[base + i * inner]!;
        if (Number.isNaN(bestValue)) break;
        if (value > bestValue || Number.isNaN(value)) {
          best = i;
          bestValue = value;
        }
      }
      output[o * inner + j] = best;
    }
  }
  return new Tensor('int32', output, reducedDims(tensor.dims, resolved, keepDims));
}

/** Arithmetic mean along `axis`, accumulated in float64, returned as float32. */
export function mean(
  tensor: Tensor<'float32'> | Tensor<'float64'>,
  axis = -1,
  { keepDims = false }: ReduceOptions = {},
): Tensor<'float32'> {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  const data = tensor.data;
  const output = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      let sum = 0;
      for (let i = 0; i < length; i++) sum += data[base + i * inner]!;
      output[o * inner + j] = length === 0 ? Number.NaN : sum / length;
    }
  }
  return new Tensor('float32', output, reducedDims(tensor.dims, resolved, keepDims));
}

export interface L2NormalizeOptions {
  /** Lower bound on the norm, as in torch's `F.normalize` (default 1e-12), so zero vectors stay zero. */
  eps?: number;
}

/** Divides every vector along `axis` by its Euclidean norm (torch's `F.normalize(x, p=2, dim=axis)`). */
export function l2Normalize(
  tensor: Tensor<'float32'> | Tensor<'float64'>,
  axis = -1,
  { eps = 1e-12 }: L2NormalizeOptions = {},
): Tensor<'float32'> {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  const data = tensor.data;
  const output = new Float32Array(data.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      let squares = 0;
      for (let i = 0; i < length; i++) squares += data[base + i * inner]! ** 2;
      const norm = Math.max(Math.sqrt(squares), eps);
      for (let i = 0; i < length; i++) output[base + i * inner] = data[base + i * inner]! / norm;
    }
  }
  return new Tensor('float32', output, tensor.dims);
}

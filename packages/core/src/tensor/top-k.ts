import { InvalidArgumentError } from '../errors.js';
import { normalizeAxis, splitAroundAxis } from './axes.js';
import { Tensor } from './tensor.js';

export interface TopKOptions {
  /** Axis to select along (default: the last). */
  axis?: number;
  /** Largest first (default) or smallest first. */
  largest?: boolean;
}

export interface TopKResult {
  values: Tensor<'float32'>;
  /** Positions along the axis, int32. */
  indices: Tensor<'int32'>;
}

/**
 * The k largest (or smallest) values along an axis, sorted, with their indices. The order is stable: equal values
 * keep their original order (lower index first), which is what pipelines' `sorted(..., reverse=True)` and a stable
 * argsort give. NaN sorts as the largest value.
 */
export function topK(
  tensor: Tensor<'float32'> | Tensor<'float64'>,
  k: number,
  { axis = -1, largest = true }: TopKOptions = {},
): TopKResult {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  if (!Number.isInteger(k) || k < 0 || k > length) {
    throw new InvalidArgumentError(`topK: k must be an integer in [0, ${length}] for axis ${axis}, got ${k}`);
  }
  const data = tensor.data;
  const values = new Float32Array(outer * k * inner);
  const indices = new Int32Array(outer * k * inner);
  const order = new Array<number>(length);
  const key = (value: number) => (Number.isNaN(value) ? Number.POSITIVE_INFINITY : value);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      for (let i = 0; i < length; i++) order[i] = i;
      // Array.prototype.sort is stable (ES2019), so ties keep the lower index first.
      order.sort((a, b) => {
        const difference = key(data[base + b * inner]!) - key(data[base + a * inner]!);
        return largest ? difference || 0 : -difference || 0;
      });
      for (let r = 0; r < k; r++) {
        const at = (o * k + r) * inner + j;
        values[at] = data[base + order[r]! * inner]!;
        indices[at] = order[r]!;
      }
    }
  }
  const dims = tensor.dims.map((d, i) => (i === resolved ? k : d));
  return { values: new Tensor('float32', values, dims), indices: new Tensor('int32', indices, dims) };
}

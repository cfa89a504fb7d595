import { normalizeAxis, splitAroundAxis } from './axes.js';
import type { Tensor } from './tensor.js';
import { Tensor as TensorClass } from './tensor.js';

type FloatTensor = Tensor<'float32'> | Tensor<'float64'>;

/**
 * The logistic sigmoid of one value, 1 / (1 + e^-x), in float64. Where torch computes it in float32 (OWLv2's box
 * scores, Mask2Former's mask scores), wrap it in `Math.fround`: exp in float64 then one rounding gives torch's
 * float32 result on the fixtures.
 *
 * @example
 * sigmoidOf(0); // 0.5
 * Math.fround(sigmoidOf(logit)); // torch.sigmoid on a float32 tensor
 */
export function sigmoidOf(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Softmax of one row in float64, subtracting the row's maximum first (as torch does) so that large logits do not
 * overflow: `softmaxOf([1000, 1000])` is [0.5, 0.5]. A NaN or +Infinity in the row gives NaN, as in torch; callers
 * that turn scores into results check for it.
 *
 * @example
 * softmaxOf([0, Math.log(3)]); // Float64Array [0.25, 0.75]
 */
export function softmaxOf(row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(row.length);
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    out[i] = Math.exp(row[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < row.length; i++) out[i] = out[i]! / sum;
  return out;
}

/**
 * Softmax along `axis` (default: the last) with `softmaxOf` on each row: the maximum subtracted first, sums in
 * float64; the result is float32.
 */
export function softmax(tensor: FloatTensor, axis = -1): Tensor<'float32'> {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  const input = tensor.data;
  const output = new Float32Array(input.length);
  const row = new Float64Array(length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      for (let i = 0; i < length; i++) row[i] = input[base + i * inner]!;
      const probabilities = softmaxOf(row);
      for (let i = 0; i < length; i++) output[base + i * inner] = probabilities[i]!;
    }
  }
  return new TensorClass('float32', output, tensor.dims);
}

/** Element-wise logistic sigmoid (`sigmoidOf`), as float32. */
export function sigmoid(tensor: FloatTensor): Tensor<'float32'> {
  const input = tensor.data;
  const output = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) output[i] = sigmoidOf(input[i]!);
  return new TensorClass('float32', output, tensor.dims);
}

import { normalizeAxis, splitAroundAxis } from './axes.js';
import type { Tensor } from './tensor.js';
import { Tensor as TensorClass } from './tensor.js';

type FloatTensor = Tensor<'float32'> | Tensor<'float64'>;

/**
 * Softmax along `axis` (default: the last), subtracting the maximum first as torch does so large logits do not
 * overflow. Sums are accumulated in float64; the result is float32.
 */
export function softmax(tensor: FloatTensor, axis = -1): Tensor<'float32'> {
  const resolved = normalizeAxis(axis, tensor.rank);
  const { outer, length, inner } = splitAroundAxis(tensor.dims, resolved);
  const input = tensor.data;
  const output = new Float32Array(input.length);
  const exps = new Float64Array(length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      let max = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < length; i++) max = Math.max(max, input[base + i * inner]!);
      let sum = 0;
      for (let i = 0; i < length; i++) {
        exps[i] = Math.exp(input[base + i * inner]! - max);
        sum += exps[i]!;
      }
      for (let i = 0; i < length; i++) output[base + i * inner] = exps[i]! / sum;
    }
  }
  return new TensorClass('float32', output, tensor.dims);
}

/** Element-wise logistic sigmoid 1 / (1 + e^-x), as float32. */
export function sigmoid(tensor: FloatTensor): Tensor<'float32'> {
  const input = tensor.data;
  const output = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) output[i] = 1 / (1 + Math.exp(-input[i]!));
  return new TensorClass('float32', output, tensor.dims);
}

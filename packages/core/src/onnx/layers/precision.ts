import type { InitializerArray, Value } from '../graph.js';
import type { Module } from '../module.js';
import { toFloat16 } from '../weight-transforms.js';

/**
 * The dtype a large float weight (a matrix, a conv kernel, an embedding table) is stored in: float16 when building
 * 'fp16', float32 otherwise. Small tensors (biases, norms) always stay float32.
 */
export function storedFloat(m: Module): 'float16' | 'float32' {
  return m.dtype === 'fp16' ? 'float16' : 'float32';
}

/** `data` in the stored dtype of `storedFloat(m)`. */
export function toStored(m: Module, data: Float32Array): InitializerArray {
  return m.dtype === 'fp16' ? toFloat16(data) : data;
}

/**
 * A stored weight as float32 for the node that uses it: a Cast from float16 when building 'fp16' (a constant
 * expression ONNX Runtime folds when the session starts, so compute stays float32), the weight itself otherwise.
 */
export function widened(m: Module, stored: Value): Value {
  return m.dtype === 'fp16' ? m.op('Cast', [stored], { to: 1 }, { label: 'Cast_weight' }) : stored;
}

/** The initializer suffix of a stored weight: `${base}_fp16` when stored as float16. */
export function storedSuffix(m: Module, base: string): string {
  return m.dtype === 'fp16' ? `${base}_fp16` : base;
}

/**
 * Module `m`'s large weight `name` (a conv kernel, an embedding table) as stored for the build's dtype, widened to
 * float32 for its node: the checkpoint tensor itself for fp32 and q8, a float16 copy (`${key}/stored_fp16`) plus
 * Cast for fp16. For weights used as they are (learned latents, position tables); `linear`, `conv` and `embedding`
 * store theirs this way already.
 *
 * @example
 * ```ts
 * const latents = storedWeight(embeddings, 'latents', [config.num_latents, config.d_latents]);
 * ```
 */
export function storedWeight(m: Module, name: string, shape: readonly number[]): Value {
  if (m.dtype !== 'fp16') return m.param(name, shape);
  const key = m.weight(name, shape).key;
  const [stored] = m.derived(
    [key],
    [{ suffix: 'stored_fp16', dtype: 'float16', dims: shape }],
    async (read) => [toFloat16(await read(key))],
  );
  return widened(m, stored!);
}

import type { Value } from '../graph.js';
import type { Module } from '../module.js';

export interface LayerNormOptions {
  /** normalized_shape: the size of the last axis. */
  readonly size: number;
  /** config's layer_norm_eps. */
  readonly eps: number;
}

/**
 * torch's `nn.LayerNorm(size, eps)` at module `m` (`m.weight`, `m.bias`) over the last axis: one ONNX
 * `LayerNormalization` (opset 17), which ONNX Runtime runs as one kernel, as it does for torch's export.
 *
 * @example
 * ```ts
 * const normed = layerNorm(layer.child('layernorm_before'), hidden, { size: 768, eps: 1e-12 });
 * ```
 */
export function layerNorm(m: Module, x: Value, options: LayerNormOptions): Value {
  const { size, eps } = options;
  return m.op('LayerNormalization', [x, m.param('weight', [size]), m.param('bias', [size])], {
    axis: -1,
    epsilon: eps,
  });
}

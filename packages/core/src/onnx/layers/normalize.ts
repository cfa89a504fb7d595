import type { Value } from '../graph.js';
import type { Module } from '../module.js';

export interface L2NormalizeLastAxisOptions {
  /**
   * Added to the norm before dividing (OWL-ViT's class head: `x / (‖x‖ + 1e-6)`); default none, as CLIP's
   * `x / x.norm(p=2, dim=-1, keepdim=True)`.
   */
  readonly eps?: number;
}

/**
 * In a graph: `x` divided by its L2 norm over the last axis (ReduceL2 then Div, as torch's exporter writes `x / x.norm(...)`).
 *
 * @example
 * ```ts
 * const textEmbeds = l2NormalizeLastAxis(root, textFeatures); // CLIPModel.forward's text_embeds
 * ```
 */
export function l2NormalizeLastAxis(m: Module, x: Value, options: L2NormalizeLastAxisOptions = {}): Value {
  let norm = m.op('ReduceL2', [x], { axes: [-1], keepdims: 1 }, { label: 'ReduceL2_norm' });
  if (options.eps !== undefined) {
    norm = m.op('Add', [norm, m.float32('norm_eps', options.eps)], {}, { label: 'Add_norm_eps' });
  }
  return m.op('Div', [x, norm], {}, { label: 'Div_norm' });
}

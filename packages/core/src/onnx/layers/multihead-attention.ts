import { InvalidArgumentError } from '../../errors.js';
import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import { scaledDotProductAttention } from './attention.js';
import { linear } from './linear.js';

export interface MultiheadAttentionOptions {
  /** embed_dim: the width of queries, keys, values and the output. */
  readonly embedDim: number;
  readonly numHeads: number;
  /**
   * Added to the scores before softmax, broadcastable to [batch, heads, queries, keys]: torch's `attn_mask` made
   * additive (a boolean mask becomes -inf where true, 0 elsewhere).
   */
  readonly scoreBias?: Value;
}

/**
 * torch's `nn.MultiheadAttention(embed_dim, num_heads)` (bias, no add_bias_kv, keys and values of embed_dim wide) at
 * module `m`, in batch-first layout: query [batch, queries, E], key and value [batch, keys, E] -> [batch, queries, E].
 * The query, key and value projections are rows 0..E, E..2E and 2E..3E of `in_proj_weight` / `in_proj_bias`,
 * then scaled dot-product attention per head and `out_proj`. Unlike transformers' attentions, torch takes the
 * three inputs as given: a caller adding position embeddings to queries and keys only does so before the call
 * (DETR-style cross-attention). torch divides the queries by √d before the product; here the product is scaled
 * (`scaledDotProductAttention`), the same function up to float32 rounding.
 *
 * @example
 * ```ts
 * const attended = multiheadAttention(layer.child('cross_attn'), queries, keys, memory, { embedDim: 256, numHeads: 8 });
 * ```
 */
export function multiheadAttention(
  m: Module,
  query: Value,
  key: Value,
  value: Value,
  options: MultiheadAttentionOptions,
): Value {
  const { embedDim, numHeads } = options;
  if (embedDim % numHeads !== 0) {
    throw new InvalidArgumentError(
      `multihead attention ${m.path}: embed_dim ${embedDim} is not a multiple of num_heads ${numHeads}`,
    );
  }
  const projection = (x: Value, index: number) =>
    linear(m, x, {
      inFeatures: embedDim,
      outFeatures: embedDim,
      packed: {
        weight: 'in_proj_weight',
        bias: 'in_proj_bias',
        rows: 3 * embedDim,
        offset: index * embedDim,
      },
    });
  const context = scaledDotProductAttention(
    m,
    projection(query, 0),
    projection(key, 1),
    projection(value, 2),
    {
      numHeads,
      headDim: embedDim / numHeads,
      scoreBias: options.scoreBias,
    },
  );
  return linear(m.child('out_proj'), context, { inFeatures: embedDim, outFeatures: embedDim });
}

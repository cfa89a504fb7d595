import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import { linear } from './linear.js';

export interface AttentionOptions {
  readonly numHeads: number;
  /** Size of one head of queries and keys. */
  readonly headDim: number;
  /** Size of one head of values (default headDim; LeViT's differ). */
  readonly valueHeadDim?: number;
  /** Multiplies Q·Kᵀ; default 1/√headDim. */
  readonly scale?: number;
  /** Added to the scores before softmax, broadcastable to [batch, heads, queries, keys]: a padding mask already
   * turned additive (0 keep, large negative drop), or a position bias. */
  readonly scoreBias?: Value;
}

/**
 * softmax(Q·Kᵀ·scale + scoreBias)·V per head: q [batch, queries, heads·headDim], k [batch, keys, heads·headDim],
 * v [batch, keys, heads·valueHeadDim] -> [batch, queries, heads·valueHeadDim], heads concatenated as transformers'
 * `transpose_for_scores` / `permute(0, 2, 1, 3)` / `view` do.
 *
 * transformers divides the scores by √d (ViT, BERT) or multiplies the queries by d^-0.5 first (CLIP); here the
 * product is multiplied by the scale, which ONNX Runtime folds into the MatMul (FusedMatMul), as it does with torch's
 * exported Div: the same function up to float32 rounding.
 *
 * @example
 * ```ts
 * const context = scaledDotProductAttention(self, q, k, v, { numHeads: 12, headDim: 64 });
 * ```
 */
export function scaledDotProductAttention(
  m: Module,
  q: Value,
  k: Value,
  v: Value,
  options: AttentionOptions,
): Value {
  const { numHeads, headDim } = options;
  const valueHeadDim = options.valueHeadDim ?? headDim;
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  // [batch, seq, heads·d] -> [batch, seq, heads, d]; Reshape's 0 keeps batch and seq as they come.
  const heads = (x: Value, d: number, label: string) =>
    m.op('Reshape', [x, m.int64s('heads_shape', [0, 0, numHeads, d])], {}, { label: `Reshape_${label}` });
  const queries = m.op(
    'Transpose',
    [heads(q, headDim, 'query')],
    { perm: [0, 2, 1, 3] },
    { label: 'Transpose_query' },
  );
  const keysT = m.op(
    'Transpose',
    [heads(k, headDim, 'key')],
    { perm: [0, 2, 3, 1] },
    { label: 'Transpose_key' },
  );
  const values = m.op(
    'Transpose',
    [heads(v, valueHeadDim, 'value')],
    { perm: [0, 2, 1, 3] },
    { label: 'Transpose_value' },
  );
  return attendHeads(m, queries, keysT, values, { ...options, valueHeadDim, scale });
}

export interface AttendHeadsOptions {
  readonly numHeads: number;
  /** Size of one head of values. */
  readonly valueHeadDim: number;
  /** Multiplies Q·Kᵀ. */
  readonly scale: number;
  /** Added to the scaled scores before softmax, broadcastable to [batch, heads, queries, keys]. */
  readonly scoreBias?: Value;
}

/**
 * The part of attention after the heads are split: softmax(Q·Kᵀ·scale + scoreBias)·V with queries
 * [batch, heads, queries, d], keys already transposed [batch, heads, d, keys] and values [batch, heads, keys, dv],
 * heads merged back into [batch, queries, heads·dv]. For models whose projections lay heads out their own way
 * (LeViT's per-head query|key|value blocks); others call `scaledDotProductAttention`.
 *
 * @example
 * ```ts
 * const context = attendHeads(m, queries, keysT, values, { numHeads: 4, valueHeadDim: 64, scale: 32 ** -0.5, scoreBias });
 * ```
 */
export function attendHeads(
  m: Module,
  queries: Value,
  keysT: Value,
  values: Value,
  options: AttendHeadsOptions,
): Value {
  const { numHeads, valueHeadDim } = options;
  let scores = m.op('MatMul', [queries, keysT], {}, { label: 'MatMul_scores' });
  scores = m.op('Mul', [scores, m.float32('scale', options.scale)], {}, { label: 'Mul_scale' });
  if (options.scoreBias) scores = m.op('Add', [scores, options.scoreBias], {}, { label: 'Add_score_bias' });
  const probs = m.op('Softmax', [scores], { axis: -1 });
  const context = m.op('MatMul', [probs, values], {}, { label: 'MatMul_context' });
  const merged = m.op('Transpose', [context], { perm: [0, 2, 1, 3] }, { label: 'Transpose_context' });
  return m.op(
    'Reshape',
    [merged, m.int64s('merged_shape', [0, 0, numHeads * valueHeadDim])],
    {},
    {
      label: 'Reshape_context',
    },
  );
}

export interface SelfAttentionOptions extends AttentionOptions {
  readonly hiddenSize: number;
  /** Names of the projection submodules (ViT/BERT: query/key/value; CLIP: q_proj/k_proj/v_proj). */
  readonly projections?: readonly [query: string, key: string, value: string];
  /** Whether the projections have biases (config's qkv_bias); default true. */
  readonly bias?: boolean;
  /** Keys and values come from this sequence instead of `x` (cross-attention), of width `keyValueSize`. */
  readonly keyValue?: Value;
  readonly keyValueSize?: number;
}

/**
 * Multi-head attention as transformers' self-attention modules compute it (ViTSelfAttention, BertSelfAttention,
 * CLIPAttention without its out_proj): three Linear projections of `x` (or, for cross-attention, of `keyValue`),
 * then `scaledDotProductAttention`. The output projection is left to the caller: its module name differs by model
 * (ViT's `attention.output.dense`, CLIP's `out_proj`).
 *
 * @example
 * ```ts
 * const context = selfAttention(layer.child('attention', 'attention'), x, { hiddenSize: 768, numHeads: 12, headDim: 64 });
 * ```
 */
export function selfAttention(m: Module, x: Value, options: SelfAttentionOptions): Value {
  const { hiddenSize, numHeads, headDim } = options;
  const [queryName, keyName, valueName] = options.projections ?? ['query', 'key', 'value'];
  const source = options.keyValue ?? x;
  const sourceSize = options.keyValueSize ?? hiddenSize;
  const bias = options.bias ?? true;
  const valueHeadDim = options.valueHeadDim ?? headDim;
  const q = linear(m.child(queryName), x, { inFeatures: hiddenSize, outFeatures: numHeads * headDim, bias });
  const k = linear(m.child(keyName), source, {
    inFeatures: sourceSize,
    outFeatures: numHeads * headDim,
    bias,
  });
  const v = linear(m.child(valueName), source, {
    inFeatures: sourceSize,
    outFeatures: numHeads * valueHeadDim,
    bias,
  });
  return scaledDotProductAttention(m, q, k, v, options);
}

/** torch.finfo(torch.float32).min: what transformers adds to the scores of masked keys. */
const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * transformers' `invert_attention_mask` (and the non-causal `get_extended_attention_mask`): a padding mask
 * [batch, keys] (int64 or float, 1 keep, 0 drop) as the additive score bias [batch, 1, 1, keys] that
 * `scaledDotProductAttention` takes: `(1 - mask) · finfo(float32).min`, computed in float32 as transformers does,
 * so a masked key's weight is exactly 0 after the softmax (unless every key of a row is masked: then uniform).
 *
 * @example
 * ```ts
 * const scoreBias = invertAttentionMask(model, attentionMask);
 * const context = selfAttention(layer, x, { hiddenSize: 768, numHeads: 12, headDim: 64, scoreBias });
 * ```
 */
export function invertAttentionMask(m: Module, mask: Value): Value {
  const float = m.op('Cast', [mask], { to: 1 }, { label: 'Cast_attention_mask' });
  const inverted = m.op('Sub', [m.float32('one', 1), float], {}, { label: 'Sub_attention_mask' });
  const bias = m.op(
    'Mul',
    [inverted, m.float32('float32_min', FLOAT32_MIN)],
    {},
    { label: 'Mul_attention_mask' },
  );
  return m.op('Unsqueeze', [bias, m.int64s('mask_axes', [1, 2])], {}, { label: 'Unsqueeze_attention_mask' });
}

/**
 * A causal mask for a sequence as long as `ids`' last axis (transformers' `_create_4d_causal_attention_mask`, CLIP's
 * text tower): float32 [seq, seq], 0 where key <= query and finfo(float32).min above the diagonal, built from the
 * input's shape so one graph serves every length. Added to `invertAttentionMask`'s bias it gives CLIP's [batch, 1,
 * seq, seq] mask; a key masked twice sums to -inf, as in PyTorch, and gets weight 0 either way.
 *
 * @example
 * ```ts
 * const scoreBias = m.op('Add', [invertAttentionMask(m, attentionMask), causalMaskBias(m, inputIds)]);
 * ```
 */
export function causalMaskBias(m: Module, ids: Value): Value {
  const length = m.op(
    'Gather',
    [m.op('Shape', [ids]), m.int64('seq_axis', -1)],
    { axis: 0 },
    { label: 'Gather_length' },
  );
  const positions = m.op('Range', [m.int64('zero', 0), length, m.int64('one', 1)]);
  const queries = m.op(
    'Unsqueeze',
    [positions, m.int64s('query_axis', [1])],
    {},
    { label: 'Unsqueeze_queries' },
  );
  const keys = m.op('Unsqueeze', [positions, m.int64s('key_axis', [0])], {}, { label: 'Unsqueeze_keys' });
  const future = m.op('Greater', [keys, queries]);
  return m.op(
    'Where',
    [future, m.float32('float32_min', FLOAT32_MIN), m.float32('keep', 0)],
    {},
    { label: 'Where_causal' },
  );
}

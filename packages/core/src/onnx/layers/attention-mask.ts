import type { Value } from '../graph.js';
import type { Module } from '../module.js';

/**
 * `torch.finfo(torch.float32).min`: what transformers fills masked attention scores with. Where two masks overlap
 * (CLIP's causal and padding masks) the sum overflows to -inf, as in PyTorch; either way the softmax gives 0.
 */
export const FLOAT32_MIN = -3.4028234663852886e38;

/**
 * A padding mask (`attention_mask` int64 [batch, keys], 1 = attend) as the additive score bias transformers makes
 * of it (`_prepare_4d_attention_mask`, BERT's `get_extended_attention_mask`): float32 [batch, 1, 1, keys], 0 where
 * the mask is 1 and `FLOAT32_MIN` elsewhere, broadcast over heads and queries by `scaledDotProductAttention`.
 *
 * @example
 * ```ts
 * const bias = paddingMaskBias(root.child('text_model'), attentionMask);
 * const context = selfAttention(layer.child('attention', 'self'), x, { ...sizes, scoreBias: bias });
 * ```
 */
export function paddingMaskBias(m: Module, attentionMask: Value): Value {
  const attend = m.op('Equal', [attentionMask, m.int64('attend', 1)], {}, { label: 'Equal_attend' });
  const bias = m.op(
    'Where',
    [attend, m.float32('keep', 0), m.float32('masked', FLOAT32_MIN)],
    {},
    { label: 'Where_padding' },
  );
  return m.op('Unsqueeze', [bias, m.int64s('head_query_axes', [1, 2])], {}, { label: 'Unsqueeze_padding' });
}

/**
 * A causal mask for a sequence as long as `ids`' last axis (transformers' `_create_4d_causal_attention_mask`):
 * float32 [seq, seq], 0 where key <= query and `FLOAT32_MIN` above the diagonal. Built from the input's shape, so
 * one graph serves every sequence length.
 *
 * @example
 * ```ts
 * const bias = m.op('Add', [paddingMaskBias(m, attentionMask), causalMaskBias(m, inputIds)]); // [batch, 1, seq, seq]
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
    [future, m.float32('masked', FLOAT32_MIN), m.float32('keep', 0)],
    {},
    { label: 'Where_causal' },
  );
}

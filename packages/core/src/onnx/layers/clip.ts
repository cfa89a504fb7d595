import { ConfigError } from '../../errors.js';
import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import { activation } from './activation.js';
import { causalMaskBias, invertAttentionMask, selfAttention } from './attention.js';
import { conv } from './conv.js';
import { embedding } from './embedding.js';
import { layerNorm } from './layer-norm.js';
import { linear } from './linear.js';
import { l2NormalizeLastAxis } from './normalize.js';
import { storedWeight } from './precision.js';

// CLIP's two towers as transformers 4.37 writes them in modeling_clip.py, and as CLIPSeg, OWLv2 and AltCLIP copy
// them ("# Copied from transformers.models.clip"): one function per module, taking the module's place in the
// state dict (`text_model`, `vision_model`, or under a prefix such as `clip.`/`owlv2.`). The configs are the fields
// of CLIPTextConfig / CLIPVisionConfig the graph needs, so each package passes its own config classes.

/** The fields of a CLIP encoder (either tower's `text_config` / `vision_config`, or CLIPSeg's decoder). */
export interface CLIPEncoderConfig {
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  /** `quick_gelu` for CLIP; any name `activation()` knows. */
  readonly hidden_act: string;
  readonly layer_norm_eps: number;
}

/** The fields of `CLIPTextConfig` the text tower needs. */
export interface CLIPTextTowerConfig extends CLIPEncoderConfig {
  readonly vocab_size: number;
  readonly max_position_embeddings: number;
}

/** The fields of `CLIPVisionConfig` the vision tower needs. */
export interface CLIPVisionTowerConfig extends CLIPEncoderConfig {
  readonly num_channels: number;
  readonly image_size: number;
  readonly patch_size: number;
}

/**
 * CLIPAttention at `m` (`...self_attn`): q_proj/k_proj/v_proj, softmax(Q·Kᵀ/√d + scoreBias)·V per head, out_proj.
 * transformers scales the queries before the product; here the product is scaled (see
 * `scaledDotProductAttention`): the same function up to float32 rounding.
 *
 * @example
 * ```ts
 * const attended = clipAttention(layer.child('self_attn'), normed, config.vision_config);
 * ```
 */
export function clipAttention(m: Module, x: Value, config: CLIPEncoderConfig, scoreBias?: Value): Value {
  const { hidden_size: hidden, num_attention_heads: heads } = config;
  if (!Number.isInteger(hidden / heads)) {
    throw new ConfigError(
      `${m.path}: hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`,
    );
  }
  const context = selfAttention(m, x, {
    hiddenSize: hidden,
    numHeads: heads,
    headDim: hidden / heads,
    projections: ['q_proj', 'k_proj', 'v_proj'],
    scoreBias,
  });
  return linear(m.child('out_proj'), context, { inFeatures: hidden, outFeatures: hidden });
}

/**
 * CLIPMLP at `m` (`...mlp`): fc1, hidden_act, fc2.
 *
 * @example
 * ```ts
 * const mlp = clipMlp(layer.child('mlp'), normed, config.text_config);
 * ```
 */
export function clipMlp(m: Module, x: Value, config: CLIPEncoderConfig): Value {
  const { hidden_size: hidden, intermediate_size: intermediate } = config;
  const fc1 = linear(m.child('fc1'), x, { inFeatures: hidden, outFeatures: intermediate });
  return linear(m.child('fc2'), activation(m, fc1, config.hidden_act), {
    inFeatures: intermediate,
    outFeatures: hidden,
  });
}

/**
 * CLIPEncoderLayer at `m` (`...encoder.layers.<i>`): pre-LN, x + attention(layer_norm1(x)), then
 * h + mlp(layer_norm2(h)).
 *
 * @example
 * ```ts
 * const hidden = clipEncoderLayer(encoder.child('layers', 0), embeddings, config.vision_config);
 * ```
 */
export function clipEncoderLayer(m: Module, x: Value, config: CLIPEncoderConfig, scoreBias?: Value): Value {
  const norm = { size: config.hidden_size, eps: config.layer_norm_eps };
  const attended = clipAttention(
    m.child('self_attn'),
    layerNorm(m.child('layer_norm1'), x, norm),
    config,
    scoreBias,
  );
  const hidden = m.op('Add', [x, attended], {}, { label: 'Add_attention_residual' });
  const mlp = clipMlp(m.child('mlp'), layerNorm(m.child('layer_norm2'), hidden, norm), config);
  return m.op('Add', [hidden, mlp], {}, { label: 'Add_mlp_residual' });
}

/** What an encoder gives: its last layer's output and every layer's (transformers' `hidden_states[1:]`). */
export interface CLIPEncoderOutputs {
  readonly lastHiddenState: Value;
  /** Layer i's output at index i (CLIPSeg's decoder reads `extract_layers` of them). */
  readonly layerOutputs: readonly Value[];
}

/**
 * CLIPEncoder at `m` (`...encoder`): `num_hidden_layers` CLIPEncoderLayers, all under the same `scoreBias` (the
 * text tower's causal and padding masks; none for images).
 *
 * @example
 * ```ts
 * const { lastHiddenState } = clipEncoder(tower.child('encoder'), normed, config.vision_config);
 * ```
 */
export function clipEncoder(
  m: Module,
  x: Value,
  config: CLIPEncoderConfig,
  scoreBias?: Value,
): CLIPEncoderOutputs {
  const layerOutputs: Value[] = [];
  let hidden = x;
  for (let i = 0; i < config.num_hidden_layers; i++) {
    hidden = clipEncoderLayer(m.child('layers', i), hidden, config, scoreBias);
    layerOutputs.push(hidden);
  }
  return { lastHiddenState: hidden, layerOutputs };
}

/**
 * CLIPTextEmbeddings at `m` (`text_model.embeddings`): token_embedding(input_ids) + the first `seq` rows of
 * position_embedding. A sequence longer than max_position_embeddings fails in ONNX Runtime: callers check it first.
 *
 * @example
 * ```ts
 * const embedded = clipTextEmbeddings(textModel.child('embeddings'), inputIds, config.text_config);
 * ```
 */
export function clipTextEmbeddings(m: Module, ids: Value, config: CLIPTextTowerConfig): Value {
  const hidden = config.hidden_size;
  const tokens = embedding(m.child('token_embedding'), ids, {
    numEmbeddings: config.vocab_size,
    embeddingDim: hidden,
  });
  const table = storedWeight(m.child('position_embedding'), 'weight', [
    config.max_position_embeddings,
    hidden,
  ]);
  const length = m.op('Shape', [ids], { start: -1 }, { label: 'Shape_length' });
  const positions = m.op(
    'Slice',
    [table, m.int64s('position_start', [0]), length, m.int64s('position_axis', [0])],
    {},
    { label: 'Slice_positions' },
  );
  return m.op('Add', [tokens, positions]);
}

/**
 * Which token's state is a text's pooled output:
 * - `'largest-id'`: the position of the largest id of each row, i.e. the first `<|endoftext|>` (CLIP's largest id):
 *   OWL-ViT and OWLv2 always, CLIP and CLIPSeg when eos_token_id is 2 (configs from before the eos fix);
 * - `{ eosTokenId }`: the first occurrence of that id.
 */
export type CLIPTextPooling = 'largest-id' | { readonly eosTokenId: number };

/**
 * CLIPTextTransformer's pooling choice in transformers 4.37: `eos_token_id == 2` marks a legacy config whose
 * eos id is wrong, so the largest id is taken instead.
 *
 * @example
 * ```ts
 * clipTextPooling(49407); // { eosTokenId: 49407 }
 * clipTextPooling(2); // 'largest-id'
 * ```
 */
export function clipTextPooling(eosTokenId: number): CLIPTextPooling {
  return eosTokenId === 2 ? 'largest-id' : { eosTokenId };
}

/** The pooled token's state of each row: [batch, seq, hidden] -> [batch, hidden]. */
function pooledToken(m: Module, hidden: Value, ids: Value, pooling: CLIPTextPooling): Value {
  // torch casts to int32 before argmax (ONNX Runtime's ArgMax has no int64 kernel); ties go to the first index in
  // both.
  const scores =
    pooling === 'largest-id'
      ? m.op('Cast', [ids], { to: 6 }, { label: 'Cast_ids' })
      : m.op(
          'Cast',
          [m.op('Equal', [ids, m.int64('eos_token_id', pooling.eosTokenId)], {}, { label: 'Equal_eos' })],
          { to: 6 },
          { label: 'Cast_eos' },
        );
  const index = m.op('ArgMax', [scores], { axis: -1, keepdims: 1 }); // [batch, 1]
  return m.op('GatherND', [hidden, index], { batch_dims: 1 }, { label: 'GatherND_pooled' });
}

/**
 * CLIPTextTransformer at `m` (`text_model`) up to its pooled output [batch, hidden]: embeddings, the encoder under
 * the causal mask plus the padding mask of `attention_mask`, final_layer_norm. The LayerNorm acts on each token
 * alone, so it is applied to the pooled token only: the same values for a sequence's worth less work (no graph
 * here needs the text's last_hidden_state).
 *
 * @example
 * ```ts
 * const pooled = clipTextTransformer(root.child('text_model'), inputIds, attentionMask, config.textConfig, 'largest-id');
 * ```
 */
export function clipTextTransformer(
  m: Module,
  ids: Value,
  attentionMask: Value,
  config: CLIPTextTowerConfig,
  pooling: CLIPTextPooling,
): Value {
  const embedded = clipTextEmbeddings(m.child('embeddings'), ids, config);
  const masks = m.op(
    'Add',
    [invertAttentionMask(m, attentionMask), causalMaskBias(m, ids)],
    {},
    { label: 'Add_masks' },
  );
  const { lastHiddenState } = clipEncoder(m.child('encoder'), embedded, config, masks);
  return layerNorm(m.child('final_layer_norm'), pooledToken(m, lastHiddenState, ids, pooling), {
    size: config.hidden_size,
    eps: config.layer_norm_eps,
  });
}

export interface CLIPVisionTowerOptions {
  /**
   * The LayerNorm before the encoder: `'pre_layrnorm'` (transformers' spelling in CLIP, CLIPSeg and AltCLIP, the
   * default) or `'pre_layernorm'` (OWL-ViT, OWLv2).
   */
  readonly preLayerNorm?: 'pre_layrnorm' | 'pre_layernorm';
  /**
   * CLIPSeg: pixel_values of any size, the position embeddings interpolated (bicubic) to the patch grid inside
   * the graph. Default false: pixel_values are image_size x image_size, as the position embeddings were trained.
   */
  readonly interpolatePositions?: boolean;
}

/**
 * torch's bicubic interpolation (align_corners=False, a = -0.75) along one axis as a matrix [outLength, inLength]:
 * row i holds the four taps' weights of output i (source x = (i + 0.5) · in / out - 0.5, taps floor(x) - 1 ..
 * floor(x) + 2 clamped to the edges, as `upsample_bicubic2d` reads them). Computed in the graph from the output
 * length, so any input size works; a Resize 'cubic' computes the same, but ONNX Runtime's took 35 ms a run on
 * CLIPSeg-rd64's 768 x 14 x 14 -> 22 x 22 (12% of the model), the matrices a fraction of a millisecond.
 */
function bicubicMatrix(m: Module, axis: string, outLength: Value, inLength: number): Value {
  const A = -0.75;
  const f = (label: string, value: number) => m.float32(`${axis}_${label}`, value);
  const op = (type: string, inputs: Value[], label: string, attributes = {}) =>
    m.op(type, inputs, attributes, { label: `${type}_${axis}_${label}` });
  const [zero, half, one] = [f('zero', 0), f('half', 0.5), f('one', 1)];
  const outFloat = op('Cast', [outLength], 'out_length', { to: 1 });
  const index = op('Range', [zero, outFloat, one], 'index');
  const source = op(
    'Sub',
    [
      op(
        'Mul',
        [op('Add', [index, half], 'centre'), op('Div', [f('in_length', inLength), outFloat], 'scale')],
        'scaled',
      ),
      half,
    ],
    'source',
  );
  const floor = op('Floor', [source], 'floor');
  const t = op('Sub', [source, floor], 't');
  // cubic_convolution1 for |x| <= 1, cubic_convolution2 for 1 < |x| < 2 (PyTorch's UpSample.h).
  const near = (x: Value, label: string) =>
    op(
      'Add',
      [
        op(
          'Mul',
          [
            op(
              'Sub',
              [op('Mul', [f('a_plus_2', A + 2), x], `${label}_1`), f('a_plus_3', A + 3)],
              `${label}_2`,
            ),
            op('Mul', [x, x], `${label}_3`),
          ],
          `${label}_4`,
        ),
        one,
      ],
      label,
    );
  const far = (x: Value, label: string) =>
    op(
      'Sub',
      [
        op(
          'Mul',
          [
            op(
              'Add',
              [
                op(
                  'Mul',
                  [op('Sub', [op('Mul', [f('a', A), x], `${label}_1`), f('five_a', 5 * A)], `${label}_2`), x],
                  `${label}_3`,
                ),
                f('eight_a', 8 * A),
              ],
              `${label}_4`,
            ),
            x,
          ],
          `${label}_5`,
        ),
        f('four_a', 4 * A),
      ],
      label,
    );
  const oneMinusT = op('Sub', [one, t], 'one_minus_t');
  const weights = [
    far(op('Add', [t, one], 't_plus_1'), 'w0'),
    near(t, 'w1'),
    near(oneMinusT, 'w2'),
    far(op('Add', [oneMinusT, one], 'two_minus_t'), 'w3'),
  ];
  const columns = m.constant(`${axis}_columns`, {
    dtype: 'float32',
    dims: [1, inLength],
    data: Float32Array.from({ length: inLength }, (_, i) => i),
  });
  let matrix: Value | undefined;
  for (const [k, weight] of weights.entries()) {
    const tap = op(
      'Clip',
      [op('Add', [floor, f(`offset_${k}`, k - 1)], `tap_${k}`), zero, f('last', inLength - 1)],
      `tap_${k}_clamped`,
    );
    const hits = op(
      'Cast',
      [
        op(
          'Equal',
          [op('Unsqueeze', [tap, m.int64s(`${axis}_tap_axis`, [1])], `tap_${k}_column`), columns],
          `tap_${k}_hits`,
        ),
      ],
      `tap_${k}_onehot`,
      { to: 1 },
    );
    const term = op(
      'Mul',
      [op('Unsqueeze', [weight, m.int64s(`${axis}_weight_axis`, [1])], `w${k}_column`), hits],
      `term_${k}`,
    );
    matrix = matrix === undefined ? term : op('Add', [matrix, term], `sum_${k}`);
  }
  return matrix!;
}

/**
 * CLIPSeg's `interpolate_position_embeddings` (4.37): the patch rows of the table as a [hidden, grid, grid] map,
 * resized bicubically (align_corners=False, a = -0.75) to the patch grid of the input, the class row kept:
 * rows · map · columnsᵀ with `bicubicMatrix` for each axis. transformers takes the new grid as sqrt(patches)
 * (square inputs only); the input's own grid gives the same map for square inputs and a meaningful one for others
 * (fixture clipseg: config image_size 32, inputs 48, model case text-batch3).
 */
function interpolatedPositions(m: Module, table: Value, patches: Value, grid: number, hidden: number): Value {
  const classRow = m.op(
    'Slice',
    [table, m.int64s('class_start', [0]), m.int64s('class_end', [1]), m.int64s('row_axis', [0])],
    {},
    { label: 'Slice_class_position' },
  );
  const patchRows = m.op(
    'Slice',
    [table, m.int64s('patch_start', [1]), m.int64s('patch_end', [2 ** 62]), m.int64s('row_axis', [0])],
    {},
    { label: 'Slice_patch_positions' },
  );
  const map = m.op(
    'Reshape',
    [
      m.op('Transpose', [patchRows], { perm: [1, 0] }, { label: 'Transpose_positions' }),
      m.int64s('position_map_shape', [hidden, grid, grid]),
    ],
    {},
    { label: 'Reshape_position_map' },
  );
  const patchGrid = m.op('Shape', [patches], { start: 2 }, { label: 'Shape_grid' });
  const length = (axis: number, label: string) =>
    m.op('Gather', [patchGrid, m.int64(`${label}_axis`, axis)], { axis: 0 }, { label: `Gather_${label}` });
  const rowsMatrix = bicubicMatrix(m, 'rows', length(0, 'rows'), grid);
  const columnsMatrix = bicubicMatrix(m, 'columns', length(1, 'columns'), grid);
  // [hidden, grid, grid] · columnsᵀ -> [hidden, grid, width]; rows · that -> [hidden, height, width].
  const alongColumns = m.op(
    'MatMul',
    [map, m.op('Transpose', [columnsMatrix], { perm: [1, 0] }, { label: 'Transpose_columns_matrix' })],
    {},
    { label: 'MatMul_position_columns' },
  );
  const resized = m.op('MatMul', [rowsMatrix, alongColumns], {}, { label: 'MatMul_position_rows' });
  const rows = m.op(
    'Transpose',
    [
      m.op(
        'Reshape',
        [resized, m.int64s('resized_rows_shape', [hidden, -1])],
        {},
        { label: 'Reshape_resized' },
      ),
    ],
    { perm: [1, 0] },
    { label: 'Transpose_resized' },
  );
  return m.op('Concat', [classRow, rows], { axis: 0 }, { label: 'Concat_positions' });
}

/**
 * CLIPVisionEmbeddings at `m` (`vision_model.embeddings`): patch_embedding (a bias-free Conv2d, stride =
 * patch_size) flattened to tokens, class_embedding in front, position_embedding added ([batch, 1 + patches,
 * hidden]).
 *
 * @example
 * ```ts
 * const embedded = clipVisionEmbeddings(visionModel.child('embeddings'), pixels, config.vision_config);
 * ```
 */
export function clipVisionEmbeddings(
  m: Module,
  pixels: Value,
  config: CLIPVisionTowerConfig,
  options: Pick<CLIPVisionTowerOptions, 'interpolatePositions'> = {},
): Value {
  const { hidden_size: hidden, patch_size: patch } = config;
  const patches = conv(m.child('patch_embedding'), pixels, {
    inChannels: config.num_channels,
    outChannels: hidden,
    kernelSize: [patch, patch],
    stride: patch,
    bias: false,
  });
  const flat = m.op('Reshape', [patches, m.int64s('flatten_shape', [0, 0, -1])]);
  const tokens = m.op('Transpose', [flat], { perm: [0, 2, 1] });
  // class_embedding.expand(batch_size, 1, -1): the batch size comes from the input's shape.
  const batch = m.op('Shape', [pixels], { start: 0, end: 1 });
  const classShape = m.op(
    'Concat',
    [batch, m.int64s('class_shape_tail', [1, hidden])],
    { axis: 0 },
    { label: 'Concat_class_shape' },
  );
  const classToken = m.op('Expand', [m.param('class_embedding', [hidden]), classShape]);
  const embeddings = m.op('Concat', [classToken, tokens], { axis: 1 }, { label: 'Concat_tokens' });
  const grid = Math.floor(config.image_size / patch);
  const table = storedWeight(m.child('position_embedding'), 'weight', [grid * grid + 1, hidden]);
  const positions = options.interpolatePositions
    ? interpolatedPositions(m, table, patches, grid, hidden)
    : table;
  return m.op('Add', [embeddings, positions]);
}

/**
 * CLIPVisionTransformer at `m` (`vision_model`) up to the encoder: embeddings, the pre-encoder LayerNorm, the
 * encoder. `clipVisionPooledOutput` adds the pooled output where a graph needs it.
 *
 * @example
 * ```ts
 * const { lastHiddenState } = clipVisionTransformer(root.child('vision_model'), pixels, config.vision_config);
 * ```
 */
export function clipVisionTransformer(
  m: Module,
  pixels: Value,
  config: CLIPVisionTowerConfig,
  options: CLIPVisionTowerOptions = {},
): CLIPEncoderOutputs {
  const embedded = clipVisionEmbeddings(m.child('embeddings'), pixels, config, options);
  const normed = layerNorm(m.child(options.preLayerNorm ?? 'pre_layrnorm'), embedded, {
    size: config.hidden_size,
    eps: config.layer_norm_eps,
  });
  return clipEncoder(m.child('encoder'), normed, config);
}

/**
 * CLIPVisionTransformer's pooled output at `m` (`vision_model`): post_layernorm(last_hidden_state[:, 0]), the
 * class token's state, [batch, hidden].
 *
 * @example
 * ```ts
 * const pooled = clipVisionPooledOutput(visionModel, lastHiddenState, config.vision_config);
 * ```
 */
export function clipVisionPooledOutput(m: Module, lastHiddenState: Value, config: CLIPEncoderConfig): Value {
  const classToken = m.op(
    'Gather',
    [lastHiddenState, m.int64('class_token', 0)],
    { axis: 1 },
    { label: 'Gather_class_token' },
  );
  return layerNorm(m.child('post_layernorm'), classToken, {
    size: config.hidden_size,
    eps: config.layer_norm_eps,
  });
}

/**
 * `CLIPModel.get_text_features` at `m` (the model holding `text_model` and `text_projection`): the text tower's
 * pooled output through the bias-free text_projection, [batch, projection_dim], not normalized.
 *
 * @example
 * ```ts
 * const textEmbeds = clipTextFeatures(root, inputIds, attentionMask, config.text_config, 512, 'largest-id');
 * ```
 */
export function clipTextFeatures(
  m: Module,
  ids: Value,
  attentionMask: Value,
  config: CLIPTextTowerConfig,
  projectionDim: number,
  pooling: CLIPTextPooling,
): Value {
  const pooled = clipTextTransformer(m.child('text_model'), ids, attentionMask, config, pooling);
  return linear(m.child('text_projection'), pooled, {
    inFeatures: config.hidden_size,
    outFeatures: projectionDim,
    bias: false,
  });
}

/**
 * `CLIPModel.get_image_features` at `m` (the model holding `vision_model` and `visual_projection`): the vision
 * tower's pooled output through the bias-free visual_projection, [batch, projection_dim], not normalized.
 *
 * @example
 * ```ts
 * const imageEmbeds = clipImageFeatures(root, pixels, config.vision_config, 512);
 * ```
 */
export function clipImageFeatures(
  m: Module,
  pixels: Value,
  config: CLIPVisionTowerConfig,
  projectionDim: number,
  options: CLIPVisionTowerOptions = {},
): Value {
  const tower = m.child('vision_model');
  const { lastHiddenState } = clipVisionTransformer(tower, pixels, config, options);
  return linear(m.child('visual_projection'), clipVisionPooledOutput(tower, lastHiddenState, config), {
    inFeatures: config.hidden_size,
    outFeatures: projectionDim,
    bias: false,
  });
}

/** CLIPModel.forward's outputs after the towers. */
export interface CLIPContrastiveOutputs {
  /** [image_batch, text_batch]. */
  readonly logitsPerImage: Value;
  /** [text_batch, image_batch]. */
  readonly logitsPerText: Value;
  /** L2-normalized [text_batch, projection_dim]. */
  readonly textEmbeds: Value;
  /** L2-normalized [image_batch, projection_dim]. */
  readonly imageEmbeds: Value;
}

/**
 * CLIPModel.forward's head at `m` (the model holding the scalar `logit_scale`): both features L2-normalized,
 * logits_per_text = text · imageᵀ · exp(logit_scale), logits_per_image its transpose.
 *
 * @example
 * ```ts
 * const { logitsPerImage } = clipContrastiveLogits(root, textFeatures, imageFeatures);
 * ```
 */
export function clipContrastiveLogits(
  m: Module,
  textFeatures: Value,
  imageFeatures: Value,
): CLIPContrastiveOutputs {
  const imageEmbeds = l2NormalizeLastAxis(m.child('image_embeds'), imageFeatures);
  const textEmbeds = l2NormalizeLastAxis(m.child('text_embeds'), textFeatures);
  const scale = m.op('Exp', [m.param('logit_scale', [])], {}, { label: 'Exp_logit_scale' });
  const similarity = m.op(
    'MatMul',
    [textEmbeds, m.op('Transpose', [imageEmbeds], { perm: [1, 0] }, { label: 'Transpose_image_embeds' })],
    {},
    { label: 'MatMul_logits_per_text' },
  );
  const logitsPerText = m.op('Mul', [similarity, scale], {}, { label: 'Mul_logit_scale' });
  const logitsPerImage = m.op('Transpose', [logitsPerText], { perm: [1, 0] }, { label: 'Transpose_logits' });
  return { logitsPerImage, logitsPerText, textEmbeds, imageEmbeds };
}

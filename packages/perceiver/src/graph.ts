import {
  type BuiltGraph,
  type Checkpoint,
  ConfigError,
  type GraphBuildOptions,
  type ModelGraphBuilder,
  type Module,
  type Value,
  activation,
  buildModelGraph,
  conv,
  embedding,
  invertAttentionMask,
  layerNorm,
  linear,
  selfAttention,
  storedWeight,
} from '@ortvision/core';
import type { PerceiverConfig } from './config.js';

// Perceiver IO as ONNX graphs, read top to bottom like transformers' modeling_perceiver.py (4.37): the attention
// blocks and the encoder, position encodings, the preprocessors, the decoders and postprocessors, then one builder
// per model class. One function per module, named as the module, taking the module's place in the state dict.
// What differs from a plain reading of the Python says so where it happens.

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const PERCEIVER_GRAPH_VERSION = 1;

/** The batch dimension's symbolic name, as in the exported graphs (`fixtures/perceiver-*\/onnx/*.onnx`). */
const BATCH = 'batch_size';

/**
 * Every LayerNorm of modeling_perceiver.py is `nn.LayerNorm(dim)` with torch's default eps: config.layer_norm_eps is
 * read by no module.
 */
const LAYER_NORM_EPS = 1e-5;

// ---------------------------------------------------------------------------------------------------------------
// Small shape helpers

/** x.shape[0] as a 1-D int64 [1]. */
function batchOf(m: Module, x: Value): Value {
  return m.op('Shape', [x], { start: 0, end: 1 }, { label: 'Shape_batch' });
}

/** `table.expand(batch_size, -1, -1)`: a [N, C] table (a parameter, position features) repeated per batch row. */
function expandToBatch(m: Module, table: Value, batch: Value): Value {
  const shape = m.op(
    'Concat',
    [batch, m.op('Shape', [table], {}, { label: 'Shape_table' })],
    { axis: 0 },
    { label: 'Concat_expand_shape' },
  );
  return m.op('Expand', [table, shape], {}, { label: 'Expand_batch' });
}

/** transformers' PretrainedConfig has two labels (LABEL_0, LABEL_1) when config.json names none. */
function labelCount(config: PerceiverConfig): number {
  return config.numLabels > 0 ? config.numLabels : 2;
}

// ---------------------------------------------------------------------------------------------------------------
// PerceiverSelfAttention, PerceiverAttention, PerceiverMLP, PerceiverLayer

/** What a PerceiverLayer is built with (the arguments of its `__init__`). */
interface LayerSpec {
  readonly isCrossAttention: boolean;
  readonly qDim: number;
  readonly kvDim: number;
  readonly qkChannels: number | null;
  readonly vChannels: number | null;
  readonly numHeads: number;
  readonly wideningFactor: number;
  readonly useQueryResidual: boolean;
}

interface AttentionChannels {
  readonly qk: number;
  readonly v: number;
}

/** The channel defaults of PerceiverAttention.__init__ and PerceiverSelfAttention.__init__, and their checks. */
function attentionChannels(m: Module, config: PerceiverConfig, spec: LayerSpec): AttentionChannels {
  let qk = spec.qkChannels ?? undefined;
  if (spec.isCrossAttention && qk === undefined) {
    const shape = config.cross_attention_shape_for_attention;
    if (shape !== 'q' && shape !== 'kv') {
      throw new ConfigError(
        `cross_attention_shape_for_attention ${JSON.stringify(shape)} is not 'q' or 'kv' (as transformers requires)`,
      );
    }
    qk = shape === 'q' ? spec.qDim : spec.kvDim;
  }
  qk ??= spec.qDim;
  const v = spec.vChannels ?? qk;
  for (const [name, channels] of [
    ['qk_channels', qk],
    ['v_channels', v],
  ] as const) {
    if (channels % spec.numHeads !== 0) {
      throw new ConfigError(
        `${m.path}: ${name} (${channels}) must be divisible by num_heads (${spec.numHeads})`,
      );
    }
  }
  // The output projection maps v to q_dim (cross-attention) or keeps v (self-attention), and the layer's LayerNorm
  // and residuals then need q_dim: transformers fails in the forward otherwise.
  if (!spec.isCrossAttention && v !== spec.qDim) {
    throw new ConfigError(
      `${m.path}: v_channels (${v}) must equal the latent size (${spec.qDim}) for self-attention`,
    );
  }
  return { qk, v };
}

/**
 * PerceiverSelfAttention: layernorm1 on the queries' side, layernorm2 on the inputs' side (cross-attention only),
 * then multi-head attention (keys and values from the inputs for cross-attention, from the normed queries
 * otherwise). `scoreBias` is the padding mask of the inputs, as the encoder's cross-attention applies it.
 */
function perceiverSelfAttention(
  m: Module,
  hidden: Value,
  inputs: Value | undefined,
  spec: LayerSpec,
  channels: AttentionChannels,
  scoreBias: Value | undefined,
): Value {
  const queries = layerNorm(m.child('layernorm1'), hidden, { size: spec.qDim, eps: LAYER_NORM_EPS });
  const keyValue =
    inputs && layerNorm(m.child('layernorm2'), inputs, { size: spec.kvDim, eps: LAYER_NORM_EPS });
  return selfAttention(m, queries, {
    hiddenSize: spec.qDim,
    numHeads: spec.numHeads,
    headDim: channels.qk / spec.numHeads,
    valueHeadDim: channels.v / spec.numHeads,
    keyValue,
    keyValueSize: spec.kvDim,
    scoreBias,
  });
}

/** PerceiverAttention: self-attention, the output dense to q_dim, and the residual to the queries if asked. */
function perceiverAttention(
  m: Module,
  hidden: Value,
  inputs: Value | undefined,
  spec: LayerSpec,
  scoreBias: Value | undefined,
  config: PerceiverConfig,
): Value {
  const channels = attentionChannels(m, config, spec);
  const context = perceiverSelfAttention(m.child('self'), hidden, inputs, spec, channels, scoreBias);
  const output = linear(m.child('output', 'dense'), context, {
    inFeatures: channels.v,
    outFeatures: spec.qDim,
  });
  return spec.useQueryResidual ? m.op('Add', [output, hidden], {}, { label: 'Add_query_residual' }) : output;
}

/** PerceiverMLP: dense1 (widened), hidden_act, dense2. */
function perceiverMlp(
  m: Module,
  x: Value,
  size: number,
  wideningFactor: number,
  config: PerceiverConfig,
): Value {
  const wide = size * wideningFactor;
  const dense1 = linear(m.child('dense1'), x, { inFeatures: size, outFeatures: wide });
  return linear(m.child('dense2'), activation(m, dense1, config.hidden_act), {
    inFeatures: wide,
    outFeatures: size,
  });
}

/** PerceiverLayer: attention, then layernorm + MLP with a residual. */
function perceiverLayer(
  m: Module,
  hidden: Value,
  config: PerceiverConfig,
  spec: LayerSpec,
  inputs?: Value,
  scoreBias?: Value,
): Value {
  const attended = perceiverAttention(m.child('attention'), hidden, inputs, spec, scoreBias, config);
  const normed = layerNorm(m.child('layernorm'), attended, { size: spec.qDim, eps: LAYER_NORM_EPS });
  const mlp = perceiverMlp(m.child('mlp'), normed, spec.qDim, spec.wideningFactor, config);
  return m.op('Add', [mlp, attended], {}, { label: 'Add_residual' });
}

// ---------------------------------------------------------------------------------------------------------------
// PerceiverEncoder, PerceiverEmbeddings, PerceiverModel

/**
 * PerceiverEncoder: the latents cross-attend to the inputs (the only place the padding mask applies), then the
 * block of self-attention layers runs num_blocks times with the same weights.
 */
function perceiverEncoder(
  m: Module,
  latents: Value,
  inputs: Value,
  kvDim: number,
  config: PerceiverConfig,
  inputsMask: Value | undefined,
): Value {
  const {
    d_latents: latentSize,
    num_self_attention_heads: selfHeads,
    num_cross_attention_heads: crossHeads,
  } = config;
  for (const [what, heads] of [
    ['num_self_attention_heads', selfHeads],
    ['num_cross_attention_heads', crossHeads],
  ] as const) {
    if (latentSize % heads !== 0) {
      throw new ConfigError(`d_latents (${latentSize}) must be divisible by ${what} (${heads})`);
    }
  }
  let hidden = perceiverLayer(
    m.child('cross_attention'),
    latents,
    config,
    {
      isCrossAttention: true,
      qDim: latentSize,
      kvDim,
      qkChannels: config.qk_channels,
      vChannels: config.v_channels,
      numHeads: crossHeads,
      wideningFactor: config.cross_attention_widening_factor,
      useQueryResidual: config.use_query_residual,
    },
    inputs,
    inputsMask,
  );
  const selfSpec: LayerSpec = {
    isCrossAttention: false,
    qDim: latentSize,
    kvDim: latentSize,
    qkChannels: config.qk_channels,
    vChannels: config.v_channels,
    numHeads: selfHeads,
    wideningFactor: config.self_attention_widening_factor,
    useQueryResidual: true,
  };
  for (let block = 0; block < config.num_blocks; block++) {
    for (let i = 0; i < config.num_self_attends_per_block; i++) {
      hidden = perceiverLayer(m.child('self_attends', i), hidden, config, selfSpec);
    }
  }
  return hidden;
}

/** PerceiverEmbeddings: the learned latents, repeated per batch row. */
function perceiverEmbeddings(m: Module, batch: Value, config: PerceiverConfig): Value {
  const latents = storedWeight(m, 'latents', [config.num_latents, config.d_latents]);
  return expandToBatch(m, latents, batch);
}

/**
 * PerceiverModel.forward from the preprocessed inputs [batch, seq, kvDim] to last_hidden_state [batch, num_latents,
 * d_latents]. Without an attention mask transformers masks nothing (a mask of ones adds 0 to every score), so the
 * graphs without a mask input add nothing.
 */
function perceiverModel(
  m: Module,
  inputs: Value,
  kvDim: number,
  config: PerceiverConfig,
  attentionMask?: Value,
): Value {
  const latents = perceiverEmbeddings(m.child('embeddings'), batchOf(m, inputs), config);
  const inputsMask = attentionMask && invertAttentionMask(m, attentionMask);
  return perceiverEncoder(m.child('encoder'), latents, inputs, kvDim, config, inputsMask);
}

// ---------------------------------------------------------------------------------------------------------------
// Position encodings

/** PerceiverTrainablePositionEncoding's table [index_dims, num_channels] (its forward repeats it per batch row). */
function trainablePositionEncoding(m: Module, indexDims: number, channels: number): Value {
  return storedWeight(m, 'position_embeddings', [indexDims, channels]);
}

/** A PerceiverFourierPositionEncoding as every Perceiver class builds it (concat_pos true, sine_only false). */
interface FourierSpec {
  readonly numBands: number;
  readonly maxResolution: readonly number[];
}

/** PerceiverFourierPositionEncoding.output_size(): the positions themselves, then a sine and a cosine per band. */
function fourierChannels({ numBands, maxResolution }: FourierSpec): number {
  return maxResolution.length * (1 + 2 * numBands);
}

/**
 * `torch.linspace(start, end, steps)` in float32 as torch's CPU kernel computes it: the first half of the points
 * count up from `start` (start + step·i), the second half down from `end` (end − step·(steps − 1 − i)), so both
 * ends are exact; one step gives `start`. `steps` is an int64 scalar (a constant, or a size read from a shape).
 */
function linspace(m: Module, steps: Value, start: number, end: number): Value {
  const one = m.int64('one', 1);
  const float = (x: Value, label: string) => m.op('Cast', [x], { to: 1 }, { label });
  // Max(steps - 1, 1): a single step then counts up by 0 from `start`, as torch returns it.
  const lessOne = m.op('Sub', [steps, one], {}, { label: 'Sub_intervals' });
  const intervals = m.op('Max', [lessOne, one], {}, { label: 'Max_intervals' });
  const span = m.float32('span', Math.fround(end) - Math.fround(start));
  const step = m.op('Div', [span, float(intervals, 'Cast_intervals')], {}, { label: 'Div_step' });
  const index = m.op('Range', [m.int64('zero', 0), steps, one], {}, { label: 'Range_index' });
  const up = m.op('Mul', [step, float(index, 'Cast_index')], {}, { label: 'Mul_up' });
  const fromStart = m.op('Add', [m.float32('start', start), up], {}, { label: 'Add_from_start' });
  const remaining = m.op('Sub', [intervals, index], {}, { label: 'Sub_remaining' });
  const down = m.op('Mul', [step, float(remaining, 'Cast_remaining')], {}, { label: 'Mul_down' });
  const fromEnd = m.op('Sub', [m.float32('end', end), down], {}, { label: 'Sub_from_end' });
  const half = m.op('Div', [steps, m.int64('two', 2)], {}, { label: 'Div_half' });
  const halfway = m.op('Max', [half, one], {}, { label: 'Max_halfway' });
  return m.op('Where', [m.op('Less', [index, halfway]), fromStart, fromEnd]);
}

/**
 * np.unravel_index in C order: the coordinates [N] int64 along each of `dims` (int64 scalars) of flat indices
 * [N] into a grid of those sizes. Indices must lie in the grid (numpy raises otherwise; this wraps).
 */
function unravelIndex(m: Module, flat: Value, dims: readonly Value[]): Value[] {
  const coordinates: Value[] = [];
  let rest = flat;
  for (let axis = dims.length - 1; axis >= 0; axis--) {
    coordinates.unshift(m.op('Mod', [rest, dims[axis]!], {}, { label: `Mod_axis${axis}` }));
    if (axis > 0) rest = m.op('Div', [rest, dims[axis]!], {}, { label: `Div_axis${axis}` });
  }
  return coordinates;
}

/** Sizes as int64 scalar constants. */
function sizeConstants(m: Module, sizes: readonly number[]): Value[] {
  return sizes.map((size, axis) => m.int64(`size_axis${axis}`, size));
}

/** The int64 scalars of a 1-D shape slice: `shape[i]` for each axis. */
function sizesOf(m: Module, shape: Value, count: number): Value[] {
  return Array.from({ length: count }, (_, axis) =>
    m.op('Gather', [shape, m.int64(`axis${axis}`, axis)], { axis: 0 }, { label: `Gather_size${axis}` }),
  );
}

/** [N, 1] float columns side by side: [N, d]. */
function stackColumns(m: Module, columns: readonly Value[]): Value {
  const unsqueezed = columns.map((column, axis) =>
    m.op('Unsqueeze', [column, m.int64s('column_axis', [1])], {}, { label: `Unsqueeze_column${axis}` }),
  );
  return unsqueezed.length === 1
    ? unsqueezed[0]!
    : m.op('Concat', unsqueezed, { axis: 1 }, { label: 'Concat_columns' });
}

/**
 * build_linear_positions flattened: every point of a grid of `sizes` in C order, each coordinate linspace(-1, 1)
 * along its axis -> [prod(sizes), d]. Built from int64 sizes so the same nodes serve a size read from the input's
 * shape; with constant sizes ONNX Runtime folds them when the session starts.
 */
function linearPositions(m: Module, sizes: readonly Value[]): Value {
  const count = sizes.reduce((a, b) => m.op('Mul', [a, b], {}, { label: 'Mul_count' }));
  const points = m.op('Range', [m.int64('zero', 0), count, m.int64('one', 1)], {}, { label: 'Range_points' });
  const coordinates = unravelIndex(m, points, sizes);
  return stackColumns(
    m,
    coordinates.map((coordinate, axis) =>
      m.op(
        'Gather',
        [linspace(m, sizes[axis]!, -1, 1), coordinate],
        { axis: 0 },
        { label: `Gather_position${axis}` },
      ),
    ),
  );
}

/**
 * generate_fourier_features for positions [N, d] in [-1, 1] -> [N, d + 2·d·num_bands]: the positions, then
 * sin(π·f·x) and cos(π·f·x) for the bands f = linspace(1, max_resolution/2, num_bands) of each axis, ordered
 * (axis, band). transformers takes the positions of the first batch row only, so they are built without batch.
 */
function fourierFeatures(m: Module, positions: Value, spec: FourierSpec): Value {
  const { numBands, maxResolution } = spec;
  const bands = m.int64('num_bands', numBands);
  const frequencies = m.op(
    'Concat',
    maxResolution.map((resolution, axis) =>
      m.op(
        'Unsqueeze',
        [linspace(m, bands, 1, resolution / 2), m.int64s('band_axis', [0])],
        {},
        { label: `Unsqueeze_bands${axis}` },
      ),
    ),
    { axis: 0 },
    { label: 'Concat_bands' },
  );
  const perPosition = m.op(
    'Mul',
    [
      m.op('Unsqueeze', [positions, m.int64s('position_axis', [2])], {}, { label: 'Unsqueeze_positions' }),
      frequencies,
    ],
    {},
    { label: 'Mul_frequencies' },
  );
  const flat = m.op(
    'Reshape',
    [perPosition, m.int64s('features_shape', [-1, maxResolution.length * numBands])],
    {},
    { label: 'Reshape_features' },
  );
  // np.pi * x multiplies by π rounded to float32, as torch does with a Python scalar and a float32 tensor.
  const angles = m.op('Mul', [flat, m.float32('pi', Math.PI)], {}, { label: 'Mul_pi' });
  return m.op(
    'Concat',
    [positions, m.op('Sin', [angles]), m.op('Cos', [angles])],
    { axis: 1 },
    { label: 'Concat_features' },
  );
}

/**
 * PerceiverFourierPositionEncoding.forward for a grid of `sizes` (no `pos` given): [prod(sizes), channels]. The
 * features are the same for every batch row; the callers repeat them.
 */
function fourierPositionEncoding(m: Module, sizes: readonly Value[], spec: FourierSpec): Value {
  if (sizes.length !== spec.maxResolution.length) {
    throw new ConfigError(
      `${m.path}: ${sizes.length}-D inputs with a ${spec.maxResolution.length}-D Fourier position encoding (transformers fails the same way)`,
    );
  }
  return fourierFeatures(m, linearPositions(m, sizes), spec);
}

// ---------------------------------------------------------------------------------------------------------------
// Preprocessors

/** What a preprocessor hands the encoder: the inputs with positions [batch, N, channels], and their width. */
interface Preprocessed {
  readonly inputs: Value;
  readonly channels: number;
}

/** PerceiverTextPreprocessor: token embeddings plus the position embeddings of positions 0 ... seq - 1. */
function textPreprocessor(m: Module, inputIds: Value, config: PerceiverConfig): Preprocessed {
  const { vocab_size: vocab, d_model: width, max_position_embeddings: positions } = config;
  const tokens = embedding(m.child('embeddings'), inputIds, { numEmbeddings: vocab, embeddingDim: width });
  const seq = m.op(
    'Squeeze',
    [m.op('Shape', [inputIds], { start: 1, end: 2 }, { label: 'Shape_seq' }), m.int64s('seq_axis', [0])],
    {},
    { label: 'Squeeze_seq' },
  );
  const positionIds = m.op(
    'Range',
    [m.int64('zero', 0), seq, m.int64('one', 1)],
    {},
    { label: 'Range_positions' },
  );
  const position = embedding(m.child('position_embeddings'), positionIds, {
    numEmbeddings: positions,
    embeddingDim: width,
  });
  return { inputs: m.op('Add', [tokens, position]), channels: width };
}

/**
 * PerceiverImagePreprocessor._build_network_inputs with Fourier positions: `x` [batch, ...index dims, channels]
 * flattened to [batch, N, channels], the position features of its grid concatenated after the channels.
 */
function withFourierPositions(
  m: Module,
  x: Value,
  sizes: readonly Value[],
  channels: number,
  spec: FourierSpec,
): Preprocessed {
  const flat = m.op('Reshape', [x, m.int64s('flat_shape', [0, -1, channels])], {}, { label: 'Reshape_flat' });
  const positions = fourierPositionEncoding(m.child('position_embeddings'), sizes, spec);
  const inputs = m.op(
    'Concat',
    [flat, expandToBatch(m, positions, batchOf(m, x))],
    { axis: 2 },
    { label: 'Concat_positions' },
  );
  return { inputs, channels: channels + fourierChannels(spec) };
}

/**
 * space_to_depth for video [batch, T, C, H, W] -> [batch, T/ts, H/bs, W/bs, ts·bs·bs·C] (channels last, the
 * block's time, row and column before the channel).
 */
function spaceToDepth(
  m: Module,
  frames: Value,
  [time, channels, height, width]: readonly number[],
  temporalBlock: number,
  spatialBlock: number,
): Value {
  if (time! % temporalBlock !== 0 || height! % spatialBlock !== 0 || width! % spatialBlock !== 0) {
    throw new ConfigError(
      `${m.path}: ${time} frames of ${height}x${width} do not split into blocks of ${temporalBlock} frames and ${spatialBlock}x${spatialBlock} pixels`,
    );
  }
  const [t, h, w] = [time! / temporalBlock, height! / spatialBlock, width! / spatialBlock];
  const blocks = m.op(
    'Reshape',
    [frames, m.int64s('blocks_shape', [0, t, temporalBlock, channels!, h, spatialBlock, w, spatialBlock])],
    {},
    { label: 'Reshape_blocks' },
  );
  const moved = m.op(
    'Transpose',
    [blocks],
    { perm: [0, 1, 4, 6, 2, 5, 7, 3] },
    { label: 'Transpose_blocks' },
  );
  return m.op(
    'Reshape',
    [moved, m.int64s('depth_shape', [0, t, h, w, temporalBlock * spatialBlock ** 2 * channels!])],
    {},
    { label: 'Reshape_depth' },
  );
}

/** [batch, C, H, W] -> [batch, H, W, C]: the preprocessors move channels last before adding positions. */
function channelsLast(m: Module, x: Value): Value {
  return m.op('Transpose', [x], { perm: [0, 2, 3, 1] }, { label: 'Transpose_channels_last' });
}

/**
 * PerceiverImagePreprocessor(prep_type="conv1x1", out_channels=256, position_encoding_type="trainable",
 * project_pos_dim=256) of PerceiverForImageClassificationLearned: one learned position per pixel, projected, after
 * the 256 channels of the 1x1 conv.
 */
function imagePreprocessorConv1x1(m: Module, pixels: Value, config: PerceiverConfig): Preprocessed {
  const out = 256;
  const pixelsCount = config.image_size ** 2;
  const features = conv(m.child('convnet_1x1'), pixels, {
    inChannels: 3,
    outChannels: out,
    kernelSize: [1, 1],
  });
  const flat = m.op(
    'Reshape',
    [channelsLast(m, features), m.int64s('flat_shape', [0, -1, out])],
    {},
    { label: 'Reshape_flat' },
  );
  // transformers repeats the table per batch row, then projects; projecting the table once gives the same rows,
  // and as a function of weights alone ONNX Runtime computes it when the session starts instead of on every run
  // (3.3 GFLOP a run for the 224x224 checkpoint; fixture perceiver-cls-learned proves the values). In float for
  // every dtype: it costs nothing at run time.
  const table = trainablePositionEncoding(m.child('position_embeddings'), pixelsCount, out);
  const projected = linear(m.child('positions_projection'), table, {
    inFeatures: out,
    outFeatures: out,
    constantInput: true,
  });
  const inputs = m.op(
    'Concat',
    [flat, expandToBatch(m, projected, batchOf(m, pixels))],
    { axis: 2 },
    { label: 'Concat_positions' },
  );
  return { inputs, channels: 2 * out };
}

/**
 * PerceiverImagePreprocessor(prep_type="pixels", spatial_downsample=1) with 2-D Fourier positions of
 * PerceiverForImageClassificationFourier. The positions are computed from the input's height and width, as in
 * PyTorch, so the graph takes any image size (config.image_size does not say which one the checkpoint expects).
 */
function imagePreprocessorPixels(m: Module, pixels: Value): Preprocessed {
  // inputs[::1, ::1]: with spatial_downsample 1 the crude downsampling keeps every value.
  const x = channelsLast(m, pixels);
  const sizes = sizesOf(m, m.op('Shape', [x], { start: 1, end: 3 }, { label: 'Shape_grid' }), 2);
  return withFourierPositions(m, x, sizes, 3, { numBands: 64, maxResolution: [224, 224] });
}

/**
 * PerceiverImagePreprocessor(prep_type="conv") of PerceiverForImageClassificationConvProcessing: Conv2DDownsample
 * (7x7/2 "same" conv without bias, BatchNorm folded into it, ReLU, 3x3/2 max-pool), then 2-D Fourier positions of
 * the pooled grid (computed from its size, so any input size works as in PyTorch).
 */
function imagePreprocessorConv(m: Module, pixels: Value): Preprocessed {
  const out = 64;
  const convnet = m.child('convnet');
  // Conv2dSamePadding pads (k//2 + k%2 - 1, k//2) = (3, 3) per side for k = 7: torch's symmetric padding 3.
  const convolved = conv(convnet.child('conv'), pixels, {
    inChannels: 3,
    outChannels: out,
    kernelSize: [7, 7],
    stride: 2,
    padding: 3,
    bias: false,
    batchNorm: { module: convnet.child('batchnorm'), eps: 1e-5 },
  });
  const pooled = convnet.op('MaxPool', [convnet.op('Relu', [convolved])], {
    kernel_shape: [3, 3],
    strides: [2, 2],
  });
  const x = channelsLast(m, pooled);
  const sizes = sizesOf(m, m.op('Shape', [x], { start: 1, end: 3 }, { label: 'Shape_grid' }), 2);
  return withFourierPositions(m, x, sizes, out, { numBands: 64, maxResolution: [56, 56] });
}

/**
 * PerceiverImagePreprocessor(prep_type="patches", temporal_downsample=2, conv_after_patching=True) of
 * PerceiverForOpticalFlow: the two frames' 27 patch channels side by side per pixel (54), a Linear to 64, then 2-D
 * Fourier positions of train_size.
 */
function imagePreprocessorFlow(m: Module, patches: Value, config: PerceiverConfig): Preprocessed {
  const [height, width] = trainSize(config);
  const depth = spaceToDepth(m, patches, [2, 27, height, width], 2, 1);
  // One frame pair: the time axis of size 1 is squeezed ("for flow").
  const frames = m.op('Squeeze', [depth, m.int64s('time_axis', [1])], {}, { label: 'Squeeze_time' });
  const features = linear(m.child('conv_after_patches'), frames, { inFeatures: 54, outFeatures: 64 });
  return withFourierPositions(m, features, sizeConstants(m, [height, width]), 64, {
    numBands: 64,
    maxResolution: [height, width],
  });
}

/** config.train_size as [height, width], checked. */
function trainSize(config: PerceiverConfig): [number, number] {
  const size = config.train_size;
  if (size.length !== 2 || !size.every((s) => Number.isInteger(s) && s > 0)) {
    throw new ConfigError(`train_size must be [height, width], got ${JSON.stringify(size)}`);
  }
  return [size[0]!, size[1]!];
}

// ---------------------------------------------------------------------------------------------------------------
// The multimodal autoencoder's shapes and preprocessors

/** The sizes PerceiverForMultimodalAutoencoding is built for. */
interface MultimodalShape {
  /** [T, H, W] of the video (config.output_shape[1..3]), as the model class checks its `image`. */
  readonly video: readonly [number, number, number];
  /** Audio samples per clip (num_frames · audio_samples_per_frame). */
  readonly samples: number;
  readonly samplesPerPatch: number;
  readonly audioPatches: number;
  readonly labels: number;
  /** Fourier encodings of the inputs and of the decoder queries. */
  readonly imageFourier: FourierSpec;
  readonly audioFourier: FourierSpec;
}

function multimodalShape(config: PerceiverConfig): MultimodalShape {
  const outputShape = config.output_shape;
  if (outputShape.length !== 4) {
    throw new ConfigError(
      `output_shape must be [batch, frames, height, width], got ${JSON.stringify(outputShape)}`,
    );
  }
  const [, t, h, w] = outputShape as [number, number, number, number];
  const samples = config.num_frames * config.audio_samples_per_frame;
  const samplesPerPatch = config.samples_per_patch;
  if (samples % samplesPerPatch !== 0) {
    throw new ConfigError(
      `${samples} audio samples (num_frames x audio_samples_per_frame) do not split into patches of samples_per_patch ${samplesPerPatch}`,
    );
  }
  if (t < 2) {
    // space_to_depth squeezes a single frame's time axis, then the 3-D Fourier encoding fails in transformers.
    throw new ConfigError(
      `PerceiverForMultimodalAutoencoding needs at least 2 frames, got output_shape ${JSON.stringify(outputShape)}`,
    );
  }
  return {
    video: [t, h, w],
    samples,
    samplesPerPatch,
    audioPatches: samples / samplesPerPatch,
    labels: labelCount(config),
    imageFourier: { numBands: 32, maxResolution: [config.num_frames, config.image_size, config.image_size] },
    audioFourier: { numBands: 192, maxResolution: [samples] },
  };
}

/** PerceiverAudioPreprocessor(prep_type="patches"): patches of samples_per_patch samples with 1-D Fourier positions. */
function audioPreprocessor(m: Module, audio: Value, shape: MultimodalShape): Preprocessed {
  const patches = m.op(
    'Reshape',
    [audio, m.int64s('patches_shape', [0, -1, shape.samplesPerPatch])],
    {},
    { label: 'Reshape_patches' },
  );
  return withFourierPositions(
    m,
    patches,
    sizeConstants(m, [shape.audioPatches]),
    shape.samplesPerPatch,
    shape.audioFourier,
  );
}

/**
 * PerceiverImagePreprocessor(prep_type="patches", spatial_downsample=4) of the video: 4x4 pixel blocks of every
 * frame (48 channels) with 3-D Fourier positions (frame, row, column).
 */
function videoPreprocessor(m: Module, image: Value, shape: MultimodalShape): Preprocessed {
  const [t, h, w] = shape.video;
  const blocks = spaceToDepth(m, image, [t, 3, h, w], 1, 4);
  return withFourierPositions(m, blocks, sizeConstants(m, [t, h / 4, w / 4]), 48, shape.imageFourier);
}

/** A modality's tokens [batch, N, c] padded to `width` channels with its learned padding (repeated per token). */
function padModality(m: Module, tokens: Value, channels: number, width: number, modality: string): Value {
  const padding = m.param(`padding.${modality}`, [1, width - channels]);
  const rows = m.op('Shape', [tokens], { start: 0, end: 2 }, { label: `Shape_${modality}_rows` });
  const shape = m.op(
    'Concat',
    [rows, m.int64s(`${modality}_padding_width`, [width - channels])],
    { axis: 0 },
    { label: `Concat_${modality}_padding_shape` },
  );
  const repeated = m.op('Expand', [padding, shape], {}, { label: `Expand_${modality}_padding` });
  return m.op('Concat', [tokens, repeated], { axis: 2 }, { label: `Concat_${modality}_padding` });
}

/**
 * PerceiverMultimodalPreprocessor of the autoencoder: audio, video and label tokens, each padded to a common width
 * (the widest modality + min_padding_size 4), concatenated in sorted order (audio, image, label).
 *
 * The autoencoder masks with probabilities {image: 0, audio: 0, label: 1}: `(1 - mask)·x + mask·token` is then
 * exactly x for audio and video and exactly the label's mask token whatever the label input holds (fixture
 * perceiver-multimodal, case batch2-label-onehot), so the label input, its padding and the two unused mask tokens
 * take no part here (their shapes are still checked).
 */
function multimodalPreprocessor(
  m: Module,
  audio: Value,
  image: Value,
  shape: MultimodalShape,
): { inputs: Value; channels: number } {
  const modalities = m.child('modalities');
  const audioTokens = audioPreprocessor(modalities.child('audio'), audio, shape);
  const videoTokens = videoPreprocessor(modalities.child('image'), image, shape);
  const width = Math.max(audioTokens.channels, videoTokens.channels, shape.labels) + 4;
  for (const modality of ['audio', 'image', 'label'] as const) m.weight(`mask.${modality}`, [1, width]);
  m.weight('padding.label', [1, width - shape.labels]);
  const labelToken = expandToBatch(m, m.param('mask.label', [1, width]), batchOf(m, audio));
  const inputs = m.op(
    'Concat',
    [
      padModality(m, audioTokens.inputs, audioTokens.channels, width, 'audio'),
      padModality(m, videoTokens.inputs, videoTokens.channels, width, 'image'),
      labelToken,
    ],
    { axis: 1 },
    { label: 'Concat_modalities' },
  );
  return { inputs, channels: width };
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders

/** What a PerceiverBasicDecoder is built with. */
interface DecoderSpec {
  readonly numChannels: number;
  readonly qkChannels: number | null;
  readonly vChannels: number | null;
  readonly numHeads: number;
  readonly useQueryResidual: boolean;
  /** final_project's output channels, or undefined for final_project=False (the masked-LM decoder). */
  readonly outputNumChannels?: number;
}

/**
 * PerceiverBasicDecoder.forward: the queries [batch, M, num_channels] cross-attend to the latents, then
 * final_layer. The decoder is handed the inputs' padding mask as `query_mask`, but a cross-attention layer
 * replaces it by `inputs_mask` (None): decoding masks nothing.
 */
function basicDecoder(
  m: Module,
  query: Value,
  latents: Value,
  config: PerceiverConfig,
  spec: DecoderSpec,
): Value {
  const output = perceiverLayer(
    m.child('decoding_cross_attention'),
    query,
    config,
    {
      isCrossAttention: true,
      qDim: spec.numChannels,
      kvDim: config.d_latents,
      qkChannels: spec.qkChannels,
      vChannels: spec.vChannels,
      numHeads: spec.numHeads,
      wideningFactor: 1,
      useQueryResidual: spec.useQueryResidual,
    },
    latents,
  );
  if (spec.outputNumChannels === undefined) return output;
  return linear(m.child('final_layer'), output, {
    inFeatures: spec.numChannels,
    outFeatures: spec.outputNumChannels,
  });
}

/** logits[:, 0, :] of a one-query decoder. */
function firstQuery(m: Module, logits: Value): Value {
  return m.op('Gather', [logits, m.int64('first_query', 0)], { axis: 1 }, { label: 'Gather_first_query' });
}

/**
 * PerceiverClassificationDecoder (trainable position encoding of one query, d_latents channels, query residual):
 * latents -> logits [batch, num_labels].
 */
function classificationDecoder(m: Module, latents: Value, config: PerceiverConfig): Value {
  const decoder = m.child('decoder');
  const query = trainablePositionEncoding(decoder.child('output_position_encodings'), 1, config.d_latents);
  const logits = basicDecoder(decoder, expandToBatch(m, query, batchOf(m, latents)), latents, config, {
    numChannels: config.d_latents,
    qkChannels: null,
    vChannels: null,
    numHeads: 1,
    useQueryResidual: true,
    outputNumChannels: labelCount(config),
  });
  return firstQuery(m, logits);
}

/**
 * PerceiverForMaskedLM's PerceiverBasicDecoder: one trainable query per position (max_position_embeddings of them,
 * whatever the input length), 8 heads of 32 query/key channels (fixed in the class, not from the config).
 */
function maskedLmDecoder(m: Module, latents: Value, config: PerceiverConfig): Value {
  const queries = trainablePositionEncoding(
    m.child('output_position_encodings'),
    config.max_position_embeddings,
    config.d_model,
  );
  return basicDecoder(m, expandToBatch(m, queries, batchOf(m, latents)), latents, config, {
    numChannels: config.d_model,
    qkChannels: 8 * 32,
    vChannels: config.d_model,
    numHeads: 8,
    useQueryResidual: false,
  });
}

/**
 * PerceiverOpticalFlowDecoder: the queries are the preprocessed inputs themselves (patch features and positions),
 * two output channels divided by rescale_factor 100, reshaped to [batch, H, W, 2].
 */
function opticalFlowDecoder(
  m: Module,
  preprocessed: Preprocessed,
  latents: Value,
  config: PerceiverConfig,
): Value {
  const [height, width] = trainSize(config);
  const flow = basicDecoder(m.child('decoder'), preprocessed.inputs, latents, config, {
    numChannels: preprocessed.channels,
    qkChannels: null,
    vChannels: null,
    numHeads: 1,
    useQueryResidual: false,
    outputNumChannels: 2,
  });
  const rescaled = m.op('Div', [flow, m.float32('rescale_factor', 100)], {}, { label: 'Div_rescale' });
  return m.op(
    'Reshape',
    [rescaled, m.int64s('flow_shape', [0, height, width, 2])],
    {},
    { label: 'Reshape_flow' },
  );
}

/**
 * A position-only PerceiverBasicDecoder's queries for subsampled output points (flat indices [N] into a grid of
 * `sizes`): each point's coordinates mapped to `-1 + 2·i/size` (not linspace's spacing: the last index does not
 * reach 1), then Fourier features -> [N, channels].
 */
function subsampledFourierQueries(
  m: Module,
  points: Value,
  sizes: readonly number[],
  spec: FourierSpec,
): Value {
  const coordinates = unravelIndex(m, points, sizeConstants(m, sizes));
  const positions = coordinates.map((coordinate, axis) => {
    const doubled = m.op(
      'Cast',
      [m.op('Mul', [coordinate, m.int64('two', 2)], {}, { label: `Mul_double${axis}` })],
      { to: 1 },
      { label: `Cast_double${axis}` },
    );
    const scaled = m.op(
      'Div',
      [doubled, m.float32(`size${axis}`, sizes[axis]!)],
      {},
      { label: `Div_size${axis}` },
    );
    return m.op('Add', [m.float32('minus_one', -1), scaled], {}, { label: `Add_shift${axis}` });
  });
  return fourierFeatures(m, stackColumns(m, positions), spec);
}

/**
 * PerceiverMultimodalDecoder: per-modality queries (audio and video points as Fourier features of their
 * positions, the label's trainable query), each padded to the widest + min_padding_size 2 with its learned
 * padding, concatenated (audio, image, label), decoded together -> [batch, Na + Ni + 1, output_num_channels].
 */
function multimodalDecoder(
  m: Module,
  latents: Value,
  points: { image: Value; audio: Value },
  shape: MultimodalShape,
  config: PerceiverConfig,
): Value {
  const modalities = m.child('modalities');
  const labelChannels = config._label_trainable_num_channels;
  const queries = {
    audio: subsampledFourierQueries(
      modalities.child('audio'),
      points.audio,
      [shape.audioPatches],
      shape.audioFourier,
    ),
    image: subsampledFourierQueries(
      modalities.child('image', 'decoder'),
      points.image,
      shape.video,
      shape.imageFourier,
    ),
    label: trainablePositionEncoding(
      modalities.child('label', 'decoder', 'output_position_encodings'),
      1,
      labelChannels,
    ),
  };
  const channels = {
    audio: fourierChannels(shape.audioFourier),
    image: fourierChannels(shape.imageFourier),
    label: labelChannels,
  };
  const width = Math.max(channels.audio, channels.image, channels.label) + 2;
  const batch = batchOf(m, latents);
  const query = m.op(
    'Concat',
    (['audio', 'image', 'label'] as const).map((modality) =>
      padModality(m, expandToBatch(m, queries[modality], batch), channels[modality], width, modality),
    ),
    { axis: 1 },
    { label: 'Concat_queries' },
  );
  return basicDecoder(m.child('decoder'), query, latents, config, {
    numChannels: width,
    qkChannels: null,
    vChannels: null,
    numHeads: 1,
    useQueryResidual: false,
    outputNumChannels: config.output_num_channels,
  });
}

/**
 * PerceiverMultimodalPostprocessor: the decoded rows split by modality (audio points, image points, the label
 * query, in that order), each through its classifier: audio samples [batch, Na·samples_per_patch], RGB
 * [batch, Ni, 3], label logits [batch, num_labels].
 */
function multimodalPostprocessor(
  m: Module,
  decoded: Value,
  points: { image: Value; audio: Value },
  shape: MultimodalShape,
  config: PerceiverConfig,
): { audio: Value; image: Value; label: Value } {
  const channels = config.output_num_channels;
  const audioEnd = m.op('Shape', [points.audio], {}, { label: 'Shape_audio_points' });
  const imageEnd = m.op(
    'Add',
    [audioEnd, m.op('Shape', [points.image], {}, { label: 'Shape_image_points' })],
    {},
    { label: 'Add_image_end' },
  );
  const rowsAxis = m.int64s('rows_axis', [1]);
  const rows = (start: Value, end: Value, modality: string) =>
    m.op('Slice', [decoded, start, end, rowsAxis], {}, { label: `Slice_${modality}` });
  const classifier = (modality: string, rowsOf: Value, out: number) =>
    linear(m.child('modalities', modality, 'classifier'), rowsOf, { inFeatures: channels, outFeatures: out });
  const audio = m.op(
    'Reshape',
    [
      classifier('audio', rows(m.int64s('audio_start', [0]), audioEnd, 'audio'), shape.samplesPerPatch),
      m.int64s('audio_shape', [0, -1]),
    ],
    {},
    { label: 'Reshape_audio' },
  );
  const image = classifier('image', rows(audioEnd, imageEnd, 'image'), 3);
  const labelEnd = m.op('Add', [imageEnd, m.int64s('one_row', [1])], {}, { label: 'Add_label_end' });
  const label = firstQuery(m, classifier('label', rows(imageEnd, labelEnd, 'label'), shape.labels));
  return { audio, image, label };
}

// ---------------------------------------------------------------------------------------------------------------
// Graph inputs

function textInputs(root: Module): { inputIds: Value; attentionMask: Value } {
  return {
    inputIds: root.graph.input('input_ids', 'int64', [BATCH, 'sequence_length']),
    attentionMask: root.graph.input('attention_mask', 'int64', [BATCH, 'sequence_length']),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One builder per model class

/**
 * `PerceiverModel` with `PerceiverTextPreprocessor` (fixture perceiver-base's `onnx/model.onnx`): input_ids,
 * attention_mask int64 [batch_size, sequence_length] -> last_hidden_state [batch_size, num_latents, d_latents].
 * Keys without prefix (`input_preprocessor.embeddings.weight`, `embeddings.latents`, `encoder.*`).
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { PerceiverConfig, buildPerceiverModel } from '@ortvision/perceiver';
 * const config = await PerceiverConfig.fromPretrained('./perceiver-base');
 * const { graph } = buildPerceiverModel(config, await openCheckpoint('./perceiver-base'));
 * await writeOnnxModel(graph, './perceiver-base/onnx/model.onnx');
 * ```
 */
export function buildPerceiverModel(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('PerceiverModel', checkpoint, options, (root) => {
    const { inputIds, attentionMask } = textInputs(root);
    const { inputs, channels } = textPreprocessor(root.child('input_preprocessor'), inputIds, config);
    const hidden = perceiverModel(root, inputs, channels, config, attentionMask);
    root.graph.output(hidden, 'last_hidden_state', 'float32', [BATCH, config.num_latents, config.d_latents]);
  });
}

/**
 * `PerceiverModel(config)` as `from_pretrained` builds it, without preprocessor or decoder
 * (`onnx/model_no_preprocessor.onnx`): inputs float32 [batch_size, sequence_length, d_model], attention_mask ->
 * last_hidden_state. A checkpoint's preprocessor and decoder weights are left to the other graphs or ignored.
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverModelNoPreprocessor(config, checkpoint);
 * await writeOnnxModel(graph, './perceiver-base/onnx/model_no_preprocessor.onnx');
 * ```
 */
export function buildPerceiverModelNoPreprocessor(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('PerceiverModel', checkpoint, options, (root) => {
    const inputs = root.graph.input('inputs', 'float32', [BATCH, 'sequence_length', config.d_model]);
    const attentionMask = root.graph.input('attention_mask', 'int64', [BATCH, 'sequence_length']);
    const hidden = perceiverModel(root, inputs, config.d_model, config, attentionMask);
    root.graph.output(hidden, 'last_hidden_state', 'float32', [BATCH, config.num_latents, config.d_latents]);
  });
}

/**
 * `PerceiverForMaskedLM`: input_ids, attention_mask -> logits [batch_size, max_position_embeddings, vocab_size]
 * (one decoder query per position; the embedding decoder multiplies by the input embedding table).
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForMaskedLM(config, await openCheckpoint('./language-perceiver'), { dtype: 'q8' });
 * await writeOnnxModel(graph, './language-perceiver/onnx/model_quantized.onnx');
 * ```
 */
export function buildPerceiverForMaskedLM(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('PerceiverForMaskedLM', checkpoint, options, (root) => {
    const { inputIds, attentionMask } = textInputs(root);
    const perceiver = root.child('perceiver');
    const preprocessor = perceiver.child('input_preprocessor');
    const { inputs, channels } = textPreprocessor(preprocessor, inputIds, config);
    const latents = perceiverModel(perceiver, inputs, channels, config, attentionMask);
    const decoded = maskedLmDecoder(perceiver.child('decoder'), latents, config);
    // PerceiverEmbeddingDecoder: decoded · embeddings.weightᵀ + its own bias.
    const logits = linear(root.child('embedding_decoder'), decoded, {
      inFeatures: config.d_model,
      outFeatures: config.vocab_size,
      weightFrom: preprocessor.child('embeddings'),
    });
    root.graph.output(logits, 'logits', 'float32', [
      BATCH,
      config.max_position_embeddings,
      config.vocab_size,
    ]);
  });
}

/**
 * `PerceiverForSequenceClassification`: input_ids, attention_mask -> logits [batch_size, num_labels].
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForSequenceClassification(config, checkpoint);
 * await writeOnnxModel(graph, './perceiver-seq-cls/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForSequenceClassification(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('PerceiverForSequenceClassification', checkpoint, options, (root) => {
    const { inputIds, attentionMask } = textInputs(root);
    const perceiver = root.child('perceiver');
    const { inputs, channels } = textPreprocessor(perceiver.child('input_preprocessor'), inputIds, config);
    const latents = perceiverModel(perceiver, inputs, channels, config, attentionMask);
    const logits = classificationDecoder(perceiver.child('decoder'), latents, config);
    root.graph.output(logits, 'logits', 'float32', [BATCH, labelCount(config)]);
  });
}

/** The three image classifiers: pixel_values -> preprocessor -> PerceiverModel -> classification decoder. */
function imageClassifier(
  name: string,
  checkpoint: Checkpoint,
  options: GraphBuildOptions | undefined,
  config: PerceiverConfig,
  side: number | undefined,
  preprocess: (m: Module, pixels: Value) => Preprocessed,
): BuiltGraph {
  return buildModelGraph(name, checkpoint, options, (root) => {
    const pixels = root.graph.input('pixel_values', 'float32', [BATCH, 3, side ?? 'height', side ?? 'width']);
    const perceiver = root.child('perceiver');
    const { inputs, channels } = preprocess(perceiver.child('input_preprocessor'), pixels);
    const latents = perceiverModel(perceiver, inputs, channels, config);
    const logits = classificationDecoder(perceiver.child('decoder'), latents, config);
    root.graph.output(logits, 'logits', 'float32', [BATCH, labelCount(config)]);
  });
}

/**
 * `PerceiverForImageClassificationLearned`: pixel_values [batch_size, 3, image_size, image_size] (one learned
 * position per pixel fixes the size) -> logits [batch_size, num_labels].
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForImageClassificationLearned(config, await openCheckpoint('./vision-perceiver-learned'));
 * await writeOnnxModel(graph, './vision-perceiver-learned/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForImageClassificationLearned(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return imageClassifier(
    'PerceiverForImageClassificationLearned',
    checkpoint,
    options,
    config,
    config.image_size,
    (m, pixels) => imagePreprocessorConv1x1(m, pixels, config),
  );
}

/**
 * `PerceiverForImageClassificationFourier`: pixel_values [batch_size, 3, height, width] -> logits. The Fourier
 * positions are computed from the input's size, as in PyTorch: the exported fixture graph fixes 24x24 because the
 * export declared it so, this graph takes the size the image processor gives (224x224 for the Hub checkpoint).
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForImageClassificationFourier(config, await openCheckpoint('./vision-perceiver-fourier'));
 * await writeOnnxModel(graph, './vision-perceiver-fourier/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForImageClassificationFourier(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return imageClassifier(
    'PerceiverForImageClassificationFourier',
    checkpoint,
    options,
    config,
    undefined,
    imagePreprocessorPixels,
  );
}

/**
 * `PerceiverForImageClassificationConvProcessing`: pixel_values [batch_size, 3, height, width] (any size, as for
 * the Fourier classifier) -> logits [batch_size, num_labels].
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForImageClassificationConvProcessing(config, await openCheckpoint('./vision-perceiver-conv'));
 * await writeOnnxModel(graph, './vision-perceiver-conv/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForImageClassificationConvProcessing(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return imageClassifier(
    'PerceiverForImageClassificationConvProcessing',
    checkpoint,
    options,
    config,
    undefined,
    imagePreprocessorConv,
  );
}

/**
 * `PerceiverForOpticalFlow`: inputs float32 [batch_size, 2, 27, H, W] (3x3 patches of two frames, [H, W] =
 * config.train_size) -> logits [batch_size, H, W, 2] (flow / 100).
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForOpticalFlow(config, await openCheckpoint('./optical-flow-perceiver'));
 * await writeOnnxModel(graph, './optical-flow-perceiver/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForOpticalFlow(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const [height, width] = trainSize(config);
  return buildModelGraph('PerceiverForOpticalFlow', checkpoint, options, (root) => {
    const patches = root.graph.input('inputs', 'float32', [BATCH, 2, 27, height, width]);
    const perceiver = root.child('perceiver');
    const preprocessed = imagePreprocessorFlow(perceiver.child('input_preprocessor'), patches, config);
    const latents = perceiverModel(perceiver, preprocessed.inputs, preprocessed.channels, config);
    const flow = opticalFlowDecoder(perceiver.child('decoder'), preprocessed, latents, config);
    root.graph.output(flow, 'logits', 'float32', [BATCH, height, width, 2]);
  });
}

/**
 * `PerceiverForMultimodalAutoencoding` as fixture perceiver-multimodal exports it: image [batch_size, T, 3, H, W],
 * audio [batch_size, samples, 1], label [batch_size, num_labels] (ignored: always masked), image_points
 * [num_image_points] and audio_points [num_audio_points] int64 -> image_logits [batch_size, num_image_points, 3],
 * audio_logits [batch_size, num_audio_points·samples_per_patch], label_logits [batch_size, num_labels]. Points are
 * not range-checked here (the model class does it).
 *
 * @example
 * ```ts
 * const { graph } = buildPerceiverForMultimodalAutoencoding(config, await openCheckpoint('./multimodal-perceiver'));
 * await writeOnnxModel(graph, './multimodal-perceiver/onnx/model.onnx');
 * ```
 */
export function buildPerceiverForMultimodalAutoencoding(
  config: PerceiverConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const shape = multimodalShape(config);
  const [t, h, w] = shape.video;
  return buildModelGraph('PerceiverForMultimodalAutoencoding', checkpoint, options, (root) => {
    const image = root.graph.input('image', 'float32', [BATCH, t, 3, h, w]);
    const audio = root.graph.input('audio', 'float32', [BATCH, shape.samples, 1]);
    root.graph.input('label', 'float32', [BATCH, shape.labels]);
    const points = {
      image: root.graph.input('image_points', 'int64', ['num_image_points']),
      audio: root.graph.input('audio_points', 'int64', ['num_audio_points']),
    };
    const perceiver = root.child('perceiver');
    const { inputs, channels } = multimodalPreprocessor(
      perceiver.child('input_preprocessor'),
      audio,
      image,
      shape,
    );
    const latents = perceiverModel(perceiver, inputs, channels, config);
    const decoded = multimodalDecoder(perceiver.child('decoder'), latents, points, shape, config);
    const logits = multimodalPostprocessor(
      perceiver.child('output_postprocessor'),
      decoded,
      points,
      shape,
      config,
    );
    root.graph.output(logits.image, 'image_logits', 'float32', [BATCH, 'num_image_points', 3]);
    root.graph.output(logits.audio, 'audio_logits', 'float32', [BATCH, 'num_audio_samples']);
    root.graph.output(logits.label, 'label_logits', 'float32', [BATCH, shape.labels]);
  });
}

/**
 * The graph builder of each Perceiver model class, by transformers' class name; `PerceiverModelNoPreprocessor` is
 * PerceiverModel's second graph (`model_no_preprocessor`). The classes' `checkpointGraphs` use the same builders.
 */
export const perceiverGraphBuilders = {
  PerceiverModel: buildPerceiverModel,
  PerceiverModelNoPreprocessor: buildPerceiverModelNoPreprocessor,
  PerceiverForMaskedLM: buildPerceiverForMaskedLM,
  PerceiverForSequenceClassification: buildPerceiverForSequenceClassification,
  PerceiverForImageClassificationLearned: buildPerceiverForImageClassificationLearned,
  PerceiverForImageClassificationFourier: buildPerceiverForImageClassificationFourier,
  PerceiverForImageClassificationConvProcessing: buildPerceiverForImageClassificationConvProcessing,
  PerceiverForOpticalFlow: buildPerceiverForOpticalFlow,
  PerceiverForMultimodalAutoencoding: buildPerceiverForMultimodalAutoencoding,
} as const satisfies Record<string, ModelGraphBuilder<PerceiverConfig>>;

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
  groupNorm,
  layerNorm,
  linear,
  multiheadAttention,
  scaledDotProductAttention,
} from '@ortvision/core';
import type { Mask2FormerConfig, SwinConfig } from './config.js';

// Mask2FormerForUniversalSegmentation as one ONNX graph, read top to bottom like transformers' modeling_swin.py
// (SwinBackbone) and modeling_mask2former.py (4.37): one function per module, named as the module, taking the
// module's place in the state dict. Height and width are dynamic, as in the exported fixture graph: every size
// the Python code reads from a tensor (Swin's padding, the shifted-window mask, the pixel decoder's level sizes,
// reference points and sine position embeddings) is computed in the graph from the input's shape, with a few
// shape nodes per stage or level rather than per block. What differs from a plain reading of the Python says so
// where it happens; the fixture `mask2former` proves it (model cases at 32x48, 27x36 and 23x41).

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const MASK2FORMER_GRAPH_VERSION = 1;

/** The exported graph's symbolic dims (`fixtures/mask2former/onnx/model.onnx`). */
const BATCH = 'batch_size';

/** Pixel decoder levels (the Swin stages at 1/32, 1/16, 1/8) and sampling points per level: fixed by the model. */
const LEVELS = 3;
const POINTS = 4;
/** The GroupNorm of every pixel-decoder convolution: `nn.GroupNorm(32, feature_size)`, torch's default eps. */
const GROUP_NORM = { numGroups: 32, eps: 1e-5 };
/** `nn.LayerNorm`'s default eps: the Mask2Former modules and Swin's patch-merging / output norms use it. */
const TORCH_LAYER_NORM_EPS = 1e-5;
/** Slice's "to the end". */
const END = 2 ** 62;

// ---------------------------------------------------------------------------------------------------------------
// Shape helpers

/** Dims [start, end) of x, int64. */
function dimsOf(m: Module, x: Value, start: number, end: number, label: string): Value {
  return m.op('Shape', [x], { start, end }, { label });
}

function concat(m: Module, values: readonly Value[], label: string): Value {
  return m.op('Concat', values, { axis: 0 }, { label });
}

/** `x[..., start:end, ...]` on one axis (starts/ends given as values or numbers). */
function slice(
  m: Module,
  x: Value,
  axis: number,
  start: Value | number,
  end: Value | number,
  label: string,
): Value {
  const bound = (v: Value | number, name: string) =>
    typeof v === 'number' ? m.int64s(`${label}_${name}`, [v]) : v;
  return m.op(
    'Slice',
    [x, bound(start, 'start'), bound(end, 'end'), m.int64s(`${label}_axis`, [axis])],
    {},
    { label },
  );
}

/** Element `index` of an int64 vector, as a scalar (Range takes scalars). */
function scalarAt(m: Module, vector: Value, index: number, label: string): Value {
  return m.op('Gather', [vector, m.int64(`${label}_index`, index)], { axis: 0 }, { label });
}

/** Bilinear resize of [N, C, h, w] to `size` [H, W] as `interpolate(mode="bilinear", align_corners=False)`. */
function resizeBilinear(m: Module, x: Value, size: Value, label: string): Value {
  const sizes = concat(m, [dimsOf(m, x, 0, 2, `${label}_lead`), size], `${label}_sizes`);
  // half_pixel is torch's formula, clamped at the border as torch clamps it (pytorch_half_pixel would differ
  // only for an output of 1 pixel, where torch keeps half_pixel's source position).
  return m.op(
    'Resize',
    [x, undefined, undefined, sizes],
    { mode: 'linear', coordinate_transformation_mode: 'half_pixel' },
    { label },
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Swin backbone (modeling_swin.py: SwinBackbone with always_partition=True, as Mask2Former calls it)

/**
 * Everything a Swin stage's blocks need of its size, computed once per stage from its input [batch, H, W, C]:
 * the padding to window multiples (SwinLayer.maybe_pad), the padded shape (window_reverse) and, when the stage
 * has shifted blocks, the shifted-window attention mask (SwinLayer.get_attn_mask), all equal for its blocks.
 */
interface StageGeometry {
  /** [H, W] before padding. */
  readonly size: Value;
  /** Pad's pads for [batch, H, W, C]: bottom and right to a multiple of the window. */
  readonly pads: Value;
  /** [batch, Hp, Wp, C]. */
  readonly paddedShape: Value;
  /** [-1, Wp / window, window, window, C]: windows grouped by window row. */
  readonly windowRowsShape: Value;
  /** [batch · windows, 1, window², window²]: 0 within a region, -100 across regions. */
  readonly shiftMask?: Value;
}

function stageGeometry(
  m: Module,
  x: Value,
  swin: SwinConfig,
  channels: number,
  shifted: boolean,
): StageGeometry {
  const ws = swin.window_size;
  const size = dimsOf(m, x, 1, 3, 'Shape_size');
  const window = m.int64s('window', [ws]);
  const pad = m.op('Mod', [
    m.op('Sub', [window, m.op('Mod', [size, window], {}, { label: 'Mod_size' })]),
    window,
  ]);
  const pads = concat(
    m,
    [m.int64s('pads_head', [0, 0, 0, 0, 0]), pad, m.int64s('pads_tail', [0])],
    'Concat_pads',
  );
  const padded = m.op('Add', [size, pad], {}, { label: 'Add_padded' });
  const batch = dimsOf(m, x, 0, 1, 'Shape_batch');
  const paddedShape = concat(m, [batch, padded, m.int64s('channels', [channels])], 'Concat_padded_shape');
  const windowsPerRow = m.op('Div', [slice(m, padded, 0, 1, 2, 'Slice_padded_width'), window]);
  const windowRowsShape = concat(
    m,
    [m.int64s('rows_head', [-1]), windowsPerRow, m.int64s('rows_tail', [ws, ws, channels])],
    'Concat_window_rows_shape',
  );
  const shiftMask = shifted ? shiftedWindowMask(m, padded, batch, swin) : undefined;
  return { size, pads, paddedShape, windowRowsShape, shiftMask };
}

/**
 * SwinLayer.get_attn_mask for the padded size: the slices [0, -ws), [-ws, -shift), [-shift, end) of each axis
 * number 3x3 regions of the shifted map; tokens of one window attend across regions with -100. Python fills the
 * regions by slice assignment; here a token's region is (row >= Hp - ws) + (row >= Hp - shift) per axis, the same
 * ids. Tiled over the batch to line up with the windows of every image ([batch · windows, ...], image-major).
 */
function shiftedWindowMask(m: Module, padded: Value, batch: Value, swin: SwinConfig): Value {
  const ws = swin.window_size;
  const shift = Math.floor(ws / 2);
  const regions = (axis: number, label: string) => {
    const length = slice(m, padded, 0, axis, axis + 1, `Slice_${label}_length`);
    const positions = m.op(
      'Range',
      [m.int64('zero', 0), scalarAt(m, padded, axis, `Gather_${label}_length`), m.int64('one', 1)],
      {},
      { label: `Range_${label}` },
    );
    const from = (offset: number, name: string) =>
      m.op(
        'Cast',
        [
          m.op(
            'GreaterOrEqual',
            [
              positions,
              m.op(
                'Sub',
                [length, m.int64s(`${name}_offset`, [offset])],
                {},
                { label: `Sub_${label}_${name}` },
              ),
            ],
            {},
            { label: `GreaterOrEqual_${label}_${name}` },
          ),
        ],
        { to: 7 },
        { label: `Cast_${label}_${name}` },
      );
    return m.op('Add', [from(ws, 'window'), from(shift, 'shift')], {}, { label: `Add_${label}_regions` });
  };
  const rows = m.op(
    'Unsqueeze',
    [regions(0, 'rows'), m.int64s('row_axis', [1])],
    {},
    { label: 'Unsqueeze_rows' },
  );
  const cols = m.op(
    'Unsqueeze',
    [regions(1, 'cols'), m.int64s('col_axis', [0])],
    {},
    { label: 'Unsqueeze_cols' },
  );
  const ids = m.op(
    'Add',
    [m.op('Mul', [rows, m.int64('three', 3)], {}, { label: 'Mul_row_ids' }), cols],
    {},
    { label: 'Add_ids' },
  );
  // As Python's img_mask [1, Hp, Wp, 1], partitioned like the hidden states.
  const map = m.op('Unsqueeze', [ids, m.int64s('map_axes', [0, 3])], {}, { label: 'Unsqueeze_ids' });
  const windows = m.op(
    'Reshape',
    [windowPartition(m, map, ws, 1, 'ids'), m.int64s('ids_shape', [-1, ws * ws])],
    {},
    { label: 'Reshape_ids' },
  );
  const same = m.op('Equal', [
    m.op('Unsqueeze', [windows, m.int64s('key_axis', [1])], {}, { label: 'Unsqueeze_keys' }),
    m.op('Unsqueeze', [windows, m.int64s('query_axis', [2])], {}, { label: 'Unsqueeze_queries' }),
  ]);
  const mask = m.op('Where', [same, m.float32('same_region', 0), m.float32('other_region', -100)]);
  const perHead = m.op('Unsqueeze', [mask, m.int64s('head_axis', [1])], {}, { label: 'Unsqueeze_heads' });
  return m.op('Tile', [perHead, concat(m, [batch, m.int64s('tile_tail', [1, 1, 1])], 'Concat_tiles')]);
}

/** window_partition: [batch, Hp, Wp, C] -> [batch · windows, window², C]. Reshape's 0 copies a dim, so only window sizes are spelled out. */
function windowPartition(m: Module, x: Value, ws: number, channels: number, label: string): Value {
  const byRows = m.op(
    'Reshape',
    [x, m.int64s('rows_shape', [-1, ws, 0, 0])],
    {},
    { label: `Reshape_${label}_rows` },
  );
  const split = m.op(
    'Reshape',
    [byRows, m.int64s('split_shape', [0, 0, -1, ws, channels])],
    {},
    { label: `Reshape_${label}_split` },
  );
  const grouped = m.op(
    'Transpose',
    [split],
    { perm: [0, 2, 1, 3, 4] },
    { label: `Transpose_${label}_windows` },
  );
  return m.op(
    'Reshape',
    [grouped, m.int64s('windows_shape', [-1, ws * ws, channels])],
    {},
    { label: `Reshape_${label}_windows` },
  );
}

/** window_reverse: [batch · windows, window², C] -> [batch, Hp, Wp, C]. */
function windowReverse(m: Module, windows: Value, geometry: StageGeometry): Value {
  const rows = m.op('Reshape', [windows, geometry.windowRowsShape], {}, { label: 'Reshape_window_rows' });
  const merged = m.op('Transpose', [rows], { perm: [0, 2, 1, 3, 4] }, { label: 'Transpose_window_rows' });
  return m.op('Reshape', [merged, geometry.paddedShape], {}, { label: 'Reshape_padded' });
}

/** torch.roll(x, shifts=(s, s), dims=(1, 2)): Slice and Concat per axis. */
function roll(m: Module, x: Value, shift: number, label: string): Value {
  let rolled = x;
  for (const axis of [1, 2]) {
    // roll by s moves element i to i + s: the last s come first (s > 0), or the first -s go last (s < 0).
    const cut = -shift;
    const head = slice(m, rolled, axis, cut, END, `Slice_${label}_${axis}_head`);
    const tail = slice(m, rolled, axis, 0, cut, `Slice_${label}_${axis}_tail`);
    rolled = m.op('Concat', [head, tail], { axis }, { label: `Concat_${label}_${axis}` });
  }
  return rolled;
}

/**
 * SwinSelfAttention's relative position bias, gathered once when the graph is written:
 * table[relative_position_index].view(N, N, heads).permute(2, 0, 1) -> [heads, N, N] (N = window²). The index is
 * a buffer of the checkpoint that always holds the same function of the window size; it is recomputed here (the
 * bench's random checkpoints hold zeros there) and only its shape is checked, when the checkpoint has it.
 */
function relativePositionBias(m: Module, heads: number, ws: number): Value {
  const side = 2 * ws - 1;
  const tableKey = m.weight('relative_position_bias_table', [side * side, heads]).key;
  if (m.hasWeight('relative_position_index')) m.weight('relative_position_index', [ws * ws, ws * ws]);
  const n = ws * ws;
  const [bias] = m.derived(
    [tableKey],
    [{ suffix: 'gathered', dtype: 'float32', dims: [heads, n, n] }],
    async (read) => {
      const table = await read(tableKey);
      const out = new Float32Array(heads * n * n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
          const dx = (i % ws) - (j % ws) + ws - 1;
          const row = dy * side + dx;
          for (let h = 0; h < heads; h++) out[(h * n + i) * n + j] = table[row * heads + h]!;
        }
      }
      return [out];
    },
  );
  return bias!;
}

/** SwinAttention: SwinSelfAttention (query/key/value, softmax(QKᵀ/√d + bias + mask)V) and SwinSelfOutput's dense. */
function swinAttention(
  m: Module,
  windows: Value,
  dim: number,
  heads: number,
  swin: SwinConfig,
  shiftMask: Value | undefined,
): Value {
  const self = m.child('self');
  const projection = (name: string) =>
    linear(self.child(name), windows, { inFeatures: dim, outFeatures: dim, bias: swin.qkv_bias });
  const positionBias = relativePositionBias(self, heads, swin.window_size);
  // Python adds the position bias, then the mask viewed per image; adding their sum once gives the same scores
  // (mask entries are 0 or -100, whose softmax weight is below float32's smallest normal either way).
  const scoreBias = shiftMask
    ? self.op('Add', [shiftMask, positionBias], {}, { label: 'Add_shift_mask' })
    : positionBias;
  const context = scaledDotProductAttention(
    self,
    projection('query'),
    projection('key'),
    projection('value'),
    {
      numHeads: heads,
      headDim: dim / heads,
      scoreBias,
    },
  );
  return linear(m.child('output', 'dense'), context, { inFeatures: dim, outFeatures: dim });
}

/**
 * SwinLayer on [batch, H, W, C] (Python keeps [batch, H·W, C] and views it as a map; the map layout saves the views):
 * norm, pad to window multiples, cyclic shift, window attention, reverse, crop, residual, then the MLP. The padding
 * and the crop are always there (zero-sized when the size is a multiple of the window), as the export has them.
 */
function swinLayer(
  m: Module,
  x: Value,
  geometry: StageGeometry,
  dim: number,
  heads: number,
  shift: number,
  swin: SwinConfig,
): Value {
  const norm = { size: dim, eps: swin.layer_norm_eps };
  const normed = layerNorm(m.child('layernorm_before'), x, norm);
  const padded = m.op('Pad', [normed, geometry.pads], { mode: 'constant' });
  const shifted = shift > 0 ? roll(m, padded, -shift, 'shift') : padded;
  const windows = windowPartition(m, shifted, swin.window_size, dim, 'hidden');
  const attended = swinAttention(
    m.child('attention'),
    windows,
    dim,
    heads,
    swin,
    shift > 0 ? geometry.shiftMask : undefined,
  );
  const merged = windowReverse(m, attended, geometry);
  const unshifted = shift > 0 ? roll(m, merged, shift, 'unshift') : merged;
  const cropped = m.op(
    'Slice',
    [unshifted, m.int64s('crop_start', [0, 0]), geometry.size, m.int64s('crop_axes', [1, 2])],
    {},
    { label: 'Slice_crop' },
  );
  const hidden = m.op('Add', [x, cropped], {}, { label: 'Add_residual' });
  const inner = Math.floor(swin.mlp_ratio * dim);
  const intermediate = m.child('intermediate');
  const expanded = activation(
    intermediate,
    linear(intermediate.child('dense'), layerNorm(m.child('layernorm_after'), hidden, norm), {
      inFeatures: dim,
      outFeatures: inner,
    }),
    swin.hidden_act,
  );
  const output = linear(m.child('output', 'dense'), expanded, { inFeatures: inner, outFeatures: dim });
  return m.op('Add', [hidden, output], {}, { label: 'Add_residual' });
}

/**
 * SwinPatchMerging: pad to even sizes, concatenate the 2x2 neighbours (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
 * x[1::2, 1::2], in that order), norm, reduction (no bias): [batch, H, W, C] -> [batch, ceil(H/2), ceil(W/2), 2C].
 */
function patchMerging(m: Module, x: Value, dim: number): Value {
  const odd = m.op('Mod', [dimsOf(m, x, 1, 3, 'Shape_size'), m.int64s('two', [2])]);
  const pads = concat(
    m,
    [m.int64s('pads_head', [0, 0, 0, 0, 0]), odd, m.int64s('pads_tail', [0])],
    'Concat_pads',
  );
  const padded = m.op('Pad', [x, pads], { mode: 'constant' });
  const quarters = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ].map(([row, col], i) =>
    m.op(
      'Slice',
      [
        padded,
        m.int64s(`quarter_${i}_start`, [row!, col!]),
        m.int64s('quarter_end', [END, END]),
        m.int64s('quarter_axes', [1, 2]),
        m.int64s('quarter_steps', [2, 2]),
      ],
      {},
      { label: `Slice_quarter_${i}` },
    ),
  );
  const merged = m.op('Concat', quarters, { axis: -1 }, { label: 'Concat_quarters' });
  const normed = layerNorm(m.child('norm'), merged, { size: 4 * dim, eps: TORCH_LAYER_NORM_EPS });
  return linear(m.child('reduction'), normed, { inFeatures: 4 * dim, outFeatures: 2 * dim, bias: false });
}

/**
 * SwinEmbeddings: pad to patch multiples (SwinPatchEmbeddings.maybe_pad), patch projection, norm; returned as a map
 * [batch, H/patch, W/patch, embed_dim].
 */
function swinEmbeddings(m: Module, pixels: Value, swin: SwinConfig): Value {
  const patch = swin.patch_size;
  const projection = m.child('patch_embeddings');
  const size = dimsOf(projection, pixels, 2, 4, 'Shape_size');
  const patchSize = projection.int64s('patch', [patch]);
  const pad = projection.op('Mod', [
    projection.op('Sub', [patchSize, projection.op('Mod', [size, patchSize], {}, { label: 'Mod_size' })]),
    patchSize,
  ]);
  const pads = concat(projection, [projection.int64s('pads_head', [0, 0, 0, 0, 0, 0]), pad], 'Concat_pads');
  const padded = projection.op('Pad', [pixels, pads], { mode: 'constant' });
  const patches = conv(projection.child('projection'), padded, {
    inChannels: swin.num_channels,
    outChannels: swin.embed_dim,
    kernelSize: [patch, patch],
    stride: patch,
  });
  const map = m.op('Transpose', [patches], { perm: [0, 2, 3, 1] });
  return layerNorm(m.child('norm'), map, { size: swin.embed_dim, eps: TORCH_LAYER_NORM_EPS });
}

/**
 * SwinBackbone (`model.pixel_level_module.encoder`): embeddings, the four stages, and each stage's output before
 * its patch merging normed by `hidden_states_norms.stage<i>`: feature maps [batch, C·2^i, H/2^(i+2), W/2^(i+2)].
 */
function swinBackbone(m: Module, pixels: Value, swin: SwinConfig): Value[] {
  let hidden = swinEmbeddings(m.child('embeddings'), pixels, swin);
  const channels = swin.stageChannels;
  const features: Value[] = [];
  for (const [i, depth] of swin.depths.entries()) {
    const stage = m.child('encoder', 'layers', i);
    const dim = channels[i]!;
    const geometry = stageGeometry(stage, hidden, swin, dim, depth > 1);
    for (let b = 0; b < depth; b++) {
      const shift = b % 2 === 0 ? 0 : Math.floor(swin.window_size / 2);
      hidden = swinLayer(stage.child('blocks', b), hidden, geometry, dim, swin.num_heads[i]!, shift, swin);
    }
    const name = `stage${i + 1}`;
    const normed = layerNorm(m.child('hidden_states_norms', name), hidden, {
      size: dim,
      eps: TORCH_LAYER_NORM_EPS,
    });
    features.push(m.op('Transpose', [normed], { perm: [0, 3, 1, 2] }, { label: `Transpose_${name}` }));
    if (i < swin.depths.length - 1) hidden = patchMerging(stage.child('downsample'), hidden, dim);
  }
  return features;
}

// ---------------------------------------------------------------------------------------------------------------
// Pixel decoder (Mask2FormerPixelDecoder with its deformable-attention encoder)

/**
 * Mask2FormerSinePositionEmbedding(normalize=True) of a map of `size` [H, W], flattened as the decoders use it:
 * [1, H·W, 2·numPosFeats] (pos_y channels, then pos_x), the same for every image (no mask: the model ignores
 * pixel_mask). Python's cumsum of ones is 1..H, normalized by (H + 1e-6) and scaled by 2π in float32.
 */
function sinePositionEmbedding(m: Module, size: Value, numPosFeats: number, label: string): Value {
  // dim_t = 10000 ** (2 * (k // 2) / num_pos_feats) in float32; sin and cos share each even/odd pair, so only the
  // even entries are kept.
  const half = numPosFeats / 2;
  const dimT = Float32Array.from({ length: half }, (_, k) =>
    Math.fround(10000 ** Math.fround((2 * k) / numPosFeats)),
  );
  const dimTValue = m.constant('dim_t', { dtype: 'float32', dims: [half], data: dimT });
  const axis = (index: number, name: string) => {
    const length = scalarAt(m, size, index, `Gather_${label}_${name}`);
    const counts = m.op(
      'Cast',
      [
        m.op(
          'Range',
          [
            m.int64('one', 1),
            m.op('Add', [length, m.int64('one', 1)], {}, { label: `Add_${label}_${name}_end` }),
            m.int64('one', 1),
          ],
          {},
          { label: `Range_${label}_${name}` },
        ),
      ],
      { to: 1 },
      { label: `Cast_${label}_${name}` },
    );
    const total = m.op(
      'Add',
      [m.op('Cast', [length], { to: 1 }, { label: `Cast_${label}_${name}_length` }), m.float32('eps', 1e-6)],
      {},
      { label: `Add_${label}_${name}_eps` },
    );
    const normalized = m.op(
      'Mul',
      [
        m.op('Div', [counts, total], {}, { label: `Div_${label}_${name}_normalize` }),
        m.float32('scale', 2 * Math.PI),
      ],
      {},
      { label: `Mul_${label}_${name}_scale` },
    );
    const phases = m.op(
      'Div',
      [
        m.op(
          'Unsqueeze',
          [normalized, m.int64s('phase_axis', [1])],
          {},
          { label: `Unsqueeze_${label}_${name}` },
        ),
        dimTValue,
      ],
      {},
      { label: `Div_${label}_${name}_dim_t` },
    );
    const pairs = [
      m.op('Sin', [phases], {}, { label: `Sin_${label}_${name}` }),
      m.op('Cos', [phases], {}, { label: `Cos_${label}_${name}` }),
    ].map((v, i) =>
      m.op('Unsqueeze', [v, m.int64s('pair_axis', [-1])], {}, { label: `Unsqueeze_${label}_${name}_${i}` }),
    );
    const interleaved = m.op('Concat', pairs, { axis: -1 }, { label: `Concat_${label}_${name}_pairs` });
    return m.op(
      'Reshape',
      [interleaved, m.int64s('interleaved_shape', [0, -1])],
      {},
      { label: `Reshape_${label}_${name}` },
    );
  };
  const mapShape = concat(m, [size, m.int64s('pos_feats', [numPosFeats])], `Concat_${label}_map_shape`);
  const spread = (v: Value, at: number, name: string) =>
    m.op(
      'Expand',
      [
        m.op(
          'Unsqueeze',
          [v, m.int64s(`spread_axis_${at}`, [at])],
          {},
          { label: `Unsqueeze_${label}_${name}_map` },
        ),
        mapShape,
      ],
      {},
      { label: `Expand_${label}_${name}` },
    );
  const map = m.op(
    'Concat',
    [spread(axis(0, 'y'), 1, 'y'), spread(axis(1, 'x'), 0, 'x')],
    { axis: -1 },
    { label: `Concat_${label}` },
  );
  return m.op(
    'Reshape',
    [map, m.int64s('flat_pos_shape', [1, -1, 2 * numPosFeats])],
    {},
    { label: `Reshape_${label}` },
  );
}

/** One pixel-decoder level: its size, its place in the flattened sequence and its sine position embedding. */
interface Level {
  /** [H, W]. */
  readonly size: Value;
  /** Start and end of the level in the [batch, Σ H·W, C] sequence, [1] each. */
  readonly start: Value;
  readonly end: Value;
  /** [1, H·W, feature_size]. */
  readonly position: Value;
}

/**
 * Reference points of get_reference_points for an unmasked input (valid ratios are exactly 1): each token's own
 * centre ((x + 0.5) / W, (y + 0.5) / H), the same at every level, as [tokens, 1, 1, 1, 2] to broadcast against
 * the offsets [batch, tokens, heads, levels, points, 2].
 */
function referencePoints(m: Module, levels: readonly Level[]): Value {
  const perLevel = levels.map(({ size }, l) => {
    const centres = (index: number, name: string) => {
      const length = scalarAt(m, size, index, `Gather_level_${l}_${name}`);
      const positions = m.op(
        'Cast',
        [
          m.op(
            'Range',
            [m.int64('zero', 0), length, m.int64('one', 1)],
            {},
            { label: `Range_level_${l}_${name}` },
          ),
        ],
        { to: 1 },
        { label: `Cast_level_${l}_${name}` },
      );
      const lengthF = m.op('Cast', [length], { to: 1 }, { label: `Cast_level_${l}_${name}_length` });
      return m.op(
        'Div',
        [
          m.op('Add', [positions, m.float32('half', 0.5)], {}, { label: `Add_level_${l}_${name}_half` }),
          lengthF,
        ],
        {},
        { label: `Div_level_${l}_${name}` },
      );
    };
    const gridShape = concat(m, [size, m.int64s('one_coordinate', [1])], `Concat_level_${l}_grid_shape`);
    const spread = (v: Value, axes: number[], name: string) =>
      m.op(
        'Expand',
        [
          m.op(
            'Unsqueeze',
            [v, m.int64s(`centre_axes_${axes.join('_')}`, axes)],
            {},
            { label: `Unsqueeze_level_${l}_${name}` },
          ),
          gridShape,
        ],
        {},
        { label: `Expand_level_${l}_${name}` },
      );
    const xy = m.op(
      'Concat',
      [spread(centres(1, 'x'), [0, 2], 'x'), spread(centres(0, 'y'), [1, 2], 'y')],
      { axis: -1 },
      { label: `Concat_level_${l}_xy` },
    );
    return m.op(
      'Reshape',
      [xy, m.int64s('points_shape', [-1, 2])],
      {},
      { label: `Reshape_level_${l}_points` },
    );
  });
  const points = m.op('Concat', perLevel, { axis: 0 }, { label: 'Concat_reference_points' });
  return m.op(
    'Reshape',
    [points, m.int64s('reference_shape', [-1, 1, 1, 1, 2])],
    {},
    { label: 'Reshape_reference_points' },
  );
}

/** What every deformable-attention layer shares: reference points, per-level offset normalizers and shapes. */
interface DeformableContext {
  readonly levels: readonly Level[];
  /** [tokens, 1, 1, 1, 2]. */
  readonly referencePoints: Value;
  /** [levels, 1, 2]: (W, H) of each level, dividing the offsets. */
  readonly offsetNormalizer: Value;
  /** [-1, tokens, points, 2]: a level's sampling grid for GridSample. */
  readonly gridShape: Value;
}

/**
 * Mask2FormerPixelDecoderEncoderMultiscaleDeformableAttention with multi_scale_deformable_attention: per level,
 * GridSample (bilinear, zeros padding, align_corners=False: torch's grid_sample arguments) of the level's values
 * at reference point + offset / (W, H), weighted by the softmax over levels and points. The value tensor is
 * split by slicing with the levels' sizes (Python splits with sizes from .item()).
 */
function deformableAttention(
  m: Module,
  hidden: Value,
  position: Value,
  context: DeformableContext,
  config: Mask2FormerConfig,
): Value {
  const { feature_size: dim, num_attention_heads: heads } = config;
  const headDim = dim / heads;
  const query = m.op('Add', [hidden, position], {}, { label: 'Add_position' });
  const value = linear(m.child('value_proj'), hidden, { inFeatures: dim, outFeatures: dim });
  const offsets = m.op(
    'Reshape',
    [
      linear(m.child('sampling_offsets'), query, {
        inFeatures: dim,
        outFeatures: heads * LEVELS * POINTS * 2,
      }),
      m.int64s('offsets_shape', [0, 0, heads, LEVELS, POINTS, 2]),
    ],
    {},
    { label: 'Reshape_offsets' },
  );
  const logits = m.op(
    'Reshape',
    [
      linear(m.child('attention_weights'), query, { inFeatures: dim, outFeatures: heads * LEVELS * POINTS }),
      m.int64s('weights_shape', [0, 0, heads, LEVELS * POINTS]),
    ],
    {},
    { label: 'Reshape_weights' },
  );
  const weights = m.op('Softmax', [logits], { axis: -1 });
  const locations = m.op(
    'Add',
    [context.referencePoints, m.op('Div', [offsets, context.offsetNormalizer], {}, { label: 'Div_offsets' })],
    {},
    { label: 'Add_locations' },
  );
  const grids = m.op(
    'Sub',
    [m.op('Mul', [locations, m.float32('two', 2)], {}, { label: 'Mul_grid' }), m.float32('one', 1)],
    {},
    { label: 'Sub_grid' },
  );
  // [batch, tokens, heads, levels, points, 2] -> [levels, batch, heads, tokens, points, 2]: a level's grid is then
  // one Gather and one Reshape to [batch · heads, tokens, points, 2].
  const byLevel = m.op('Transpose', [grids], { perm: [3, 0, 2, 1, 4, 5] }, { label: 'Transpose_grids' });
  const valueHeads = m.op(
    'Reshape',
    [
      m.op('Transpose', [value], { perm: [0, 2, 1] }, { label: 'Transpose_value' }),
      m.int64s('value_heads_shape', [-1, headDim, 0]),
    ],
    {},
    { label: 'Reshape_value_heads' },
  );
  const sampled = context.levels.map((level, l) => {
    const levelValue = m.op(
      'Reshape',
      [
        slice(m, valueHeads, 2, level.start, level.end, `Slice_value_${l}`),
        concat(m, [m.int64s('value_map_head', [0, 0]), level.size], `Concat_value_${l}_shape`),
      ],
      {},
      { label: `Reshape_value_${l}` },
    );
    const grid = m.op(
      'Reshape',
      [
        m.op('Gather', [byLevel, m.int64(`level_${l}`, l)], { axis: 0 }, { label: `Gather_grid_${l}` }),
        context.gridShape,
      ],
      {},
      { label: `Reshape_grid_${l}` },
    );
    return m.op(
      'GridSample',
      [levelValue, grid],
      { mode: 'bilinear', padding_mode: 'zeros', align_corners: 0 },
      { label: `GridSample_${l}` },
    );
  });
  // torch.stack(levels, dim=-2).flatten(-2): [batch · heads, headDim, tokens, levels · points], level-major.
  const stacked = m.op('Concat', sampled, { axis: -1 }, { label: 'Concat_levels' });
  const perHead = m.op(
    'Reshape',
    [
      m.op('Transpose', [weights], { perm: [0, 2, 1, 3] }, { label: 'Transpose_weights' }),
      m.int64s('weights_heads_shape', [-1, 1, 0, 0]),
    ],
    {},
    { label: 'Reshape_weights_heads' },
  );
  const summed = m.op(
    'ReduceSum',
    [m.op('Mul', [stacked, perHead], {}, { label: 'Mul_weights' }), m.int64s('sum_axes', [-1])],
    { keepdims: 0 },
  );
  const merged = m.op(
    'Reshape',
    [summed, m.int64s('merged_shape', [-1, dim, 0])],
    {},
    { label: 'Reshape_merged' },
  );
  const output = m.op('Transpose', [merged], { perm: [0, 2, 1] }, { label: 'Transpose_output' });
  return linear(m.child('output_proj'), output, { inFeatures: dim, outFeatures: dim });
}

/** Mask2FormerPixelDecoderEncoderLayer: deformable self-attention and a ReLU MLP, each with residual and post-norm. */
function pixelDecoderEncoderLayer(
  m: Module,
  hidden: Value,
  position: Value,
  context: DeformableContext,
  config: Mask2FormerConfig,
): Value {
  const dim = config.feature_size;
  const norm = { size: dim, eps: TORCH_LAYER_NORM_EPS };
  const attended = deformableAttention(m.child('self_attn'), hidden, position, context, config);
  const h = layerNorm(
    m.child('self_attn_layer_norm'),
    m.op('Add', [hidden, attended], {}, { label: 'Add_attention' }),
    norm,
  );
  const ff = config.encoder_feedforward_dim;
  const expanded = m.op('Relu', [linear(m.child('fc1'), h, { inFeatures: dim, outFeatures: ff })]);
  const out = linear(m.child('fc2'), expanded, { inFeatures: ff, outFeatures: dim });
  return layerNorm(m.child('final_layer_norm'), m.op('Add', [h, out], {}, { label: 'Add_mlp' }), norm);
}

/** A 1x1 / 3x3 convolution followed by GroupNorm(32): the pixel decoder's nn.Sequential(Conv2d, GroupNorm[, ReLU]). */
function convGroupNorm(
  m: Module,
  x: Value,
  inChannels: number,
  outChannels: number,
  kernel: number,
  bias: boolean,
): Value {
  const convolved = conv(m.child(0), x, {
    inChannels,
    outChannels,
    kernelSize: [kernel, kernel],
    padding: (kernel - 1) / 2,
    bias,
  });
  return groupNorm(m.child(1), convolved, { ...GROUP_NORM, numChannels: outChannels });
}

/** What the pixel decoder hands the transformer module. */
interface PixelDecoderOutput {
  /** The three encoder levels (1/32, 1/16, 1/8) as [batch, H·W, feature_size] sequences, with their levels. */
  readonly multiScale: readonly { readonly sequence: Value; readonly level: Level }[];
  /** mask_features [batch, mask_feature_size, H/4, W/4]. */
  readonly maskFeatures: Value;
}

/**
 * Mask2FormerPixelDecoder: input projections of the three coarsest backbone maps, the deformable-attention
 * encoder over their flattened concatenation (with sine position + level embeddings), the FPN levels up to
 * common_stride, and the mask projection.
 */
function pixelDecoder(
  m: Module,
  features: readonly Value[],
  config: Mask2FormerConfig,
  channels: readonly number[],
): PixelDecoderOutput {
  const dim = config.feature_size;
  // features[::-1][:3]: 1/32, 1/16, 1/8.
  const coarse = features.slice(-LEVELS).reverse();
  const coarseChannels = channels.slice(-LEVELS).reverse();
  const projected = coarse.map((x, l) =>
    convGroupNorm(m.child('input_projections', l), x, coarseChannels[l]!, dim, 1, true),
  );
  const levels: Level[] = [];
  let start: Value = m.int64s('first_level_start', [0]);
  for (const [l, x] of projected.entries()) {
    const size = dimsOf(m, x, 2, 4, `Shape_level_${l}`);
    const end = m.op(
      'Add',
      [start, m.op('ReduceProd', [size], { keepdims: 1 }, { label: `ReduceProd_level_${l}` })],
      {},
      { label: `Add_level_${l}_end` },
    );
    const position = sinePositionEmbedding(m.child('position_embedding'), size, dim / 2, `level_${l}`);
    levels.push({ size, start, end, position });
    start = end;
  }
  const flatten = (x: Value, label: string) =>
    m.op(
      'Transpose',
      [m.op('Reshape', [x, m.int64s('flatten_shape', [0, 0, -1])], {}, { label: `Reshape_${label}` })],
      { perm: [0, 2, 1] },
      { label: `Transpose_${label}` },
    );
  const sequence = m.op(
    'Concat',
    projected.map((x, l) => flatten(x, `flatten_${l}`)),
    { axis: 1 },
    { label: 'Concat_levels' },
  );
  const levelEmbed = m.param('level_embed', [LEVELS, dim]);
  const positions = m.op(
    'Concat',
    levels.map(({ position }, l) =>
      m.op(
        'Add',
        [
          position,
          m.op(
            'Gather',
            [levelEmbed, m.int64(`level_${l}`, l)],
            { axis: 0 },
            { label: `Gather_level_embed_${l}` },
          ),
        ],
        {},
        { label: `Add_level_embed_${l}` },
      ),
    ),
    { axis: 1 },
    { label: 'Concat_positions' },
  );
  const encoder = m.child('encoder');
  const context: DeformableContext = {
    levels,
    referencePoints: referencePoints(encoder, levels),
    offsetNormalizer: encoder.op(
      'Reshape',
      [
        encoder.op(
          'Cast',
          [
            concat(
              encoder,
              levels.map(({ size }, l) =>
                encoder.op(
                  'Gather',
                  [size, encoder.int64s('width_height', [1, 0])],
                  { axis: 0 },
                  { label: `Gather_level_${l}_width_height` },
                ),
              ),
              'Concat_normalizer',
            ),
          ],
          { to: 1 },
          { label: 'Cast_normalizer' },
        ),
        encoder.int64s('normalizer_shape', [LEVELS, 1, 2]),
      ],
      {},
      { label: 'Reshape_normalizer' },
    ),
    gridShape: concat(
      encoder,
      [
        encoder.int64s('grid_head', [-1]),
        dimsOf(encoder, sequence, 1, 2, 'Shape_tokens'),
        encoder.int64s('grid_tail', [POINTS, 2]),
      ],
      'Concat_grid_shape',
    ),
  };
  let hidden = sequence;
  for (let i = 0; i < config.encoder_layers; i++) {
    hidden = pixelDecoderEncoderLayer(encoder.child('layers', i), hidden, positions, context, config);
  }
  const multiScale = levels.map((level, l) => ({
    level,
    sequence: slice(m, hidden, 1, level.start, level.end, `Slice_output_${l}`),
  }));
  const asMap = (x: Value, size: Value, label: string) =>
    m.op(
      'Reshape',
      [
        m.op('Transpose', [x], { perm: [0, 2, 1] }, { label: `Transpose_${label}` }),
        concat(m, [m.int64s('map_head', [0, 0]), size], `Concat_${label}_shape`),
      ],
      {},
      { label: `Reshape_${label}` },
    );
  let outputs = multiScale.map(({ sequence: s, level }, l) => asMap(s, level.size, `output_${l}`));
  // Extra FPN levels, from low to high resolution (features[:num_fpn_levels][::-1]), upsampled bilinearly.
  const strides = config.feature_strides.slice(-LEVELS);
  const fpnLevels = Math.log2(Math.min(...strides)) - Math.log2(config.common_stride);
  for (let idx = fpnLevels - 1; idx >= 0; idx--) {
    const lateral = convGroupNorm(
      m.child(`adapter_${idx + 1}`),
      features[idx]!,
      channels[idx]!,
      dim,
      1,
      false,
    );
    const upsampled = resizeBilinear(
      m,
      outputs.at(-1)!,
      dimsOf(m, lateral, 2, 4, `Shape_fpn_${idx}`),
      `Resize_fpn_${idx}`,
    );
    const sum = m.op('Add', [lateral, upsampled], {}, { label: `Add_fpn_${idx}` });
    const layer = m.child(`layer_${idx + 1}`);
    outputs = [...outputs, layer.op('Relu', [convGroupNorm(layer, sum, dim, dim, 3, false)])];
  }
  const maskFeatures = conv(m.child('mask_projection'), outputs.at(-1)!, {
    inChannels: dim,
    outChannels: config.mask_feature_size,
    kernelSize: [1, 1],
  });
  return { multiScale, maskFeatures };
}

// ---------------------------------------------------------------------------------------------------------------
// Transformer module (Mask2FormerTransformerModule and its masked-attention decoder)

/** The pixel embeddings the mask predictor multiplies with, flattened once: [batch, mask_feature_size, H/4 · W/4]. */
interface PixelEmbeddings {
  readonly flat: Value;
  /** [H/4, W/4]. */
  readonly size: Value;
}

/**
 * Mask2FormerMaskPredictor: mask_embedder (3-layer MLP) of the queries, einsum('bqc,bchw->bqhw') with the pixel
 * embeddings -> mask logits [batch, queries, H/4, W/4]; with a target level, also the next layer's attention mask,
 * resized bilinearly to the level and thresholded (sigmoid < 0.5 is masked), as an additive score bias
 * [batch, 1, queries, H·W] (-inf where masked). The mask is the same for every head, so it broadcasts over heads
 * instead of being repeated. The decoder's fix for queries that would mask every key (they attend everywhere) is
 * applied here: a row is kept whole when no sigmoid reaches 0.5.
 */
function maskPredictor(
  m: Module,
  queries: Value,
  pixels: PixelEmbeddings,
  config: Mask2FormerConfig,
  target?: Level,
): { logits: Value; scoreBias?: Value } {
  const hidden = config.hidden_dim;
  const embedder = m.child('mask_embedder');
  let embedded = queries;
  for (let i = 0; i < 3; i++) {
    const out = i < 2 ? hidden : config.mask_feature_size;
    embedded = linear(embedder.child(i, 0), embedded, { inFeatures: hidden, outFeatures: out });
    if (i < 2) embedded = embedder.child(i).op('Relu', [embedded]);
  }
  const flat = m.op('MatMul', [embedded, pixels.flat], {}, { label: 'MatMul_masks' });
  const logits = m.op(
    'Reshape',
    [flat, concat(m, [m.int64s('mask_head', [0, 0]), pixels.size], 'Concat_mask_shape')],
    {},
    { label: 'Reshape_masks' },
  );
  if (!target) return { logits };
  const resized = resizeBilinear(m, logits, target.size, 'Resize_attention_mask');
  const probabilities = m.op(
    'Reshape',
    [m.op('Sigmoid', [resized]), m.int64s('flat_mask_shape', [0, 0, -1])],
    {},
    { label: 'Reshape_attention_mask' },
  );
  const threshold = m.float32('threshold', 0.5);
  const masked = m.op('Less', [probabilities, threshold]);
  const anyKept = m.op('GreaterOrEqual', [
    m.op('ReduceMax', [probabilities], { axes: [-1], keepdims: 1 }),
    threshold,
  ]);
  const bias = m.op('Where', [
    m.op('And', [masked, anyKept]),
    m.float32('masked', Number.NEGATIVE_INFINITY),
    m.float32('kept', 0),
  ]);
  return {
    logits,
    scoreBias: m.op('Unsqueeze', [bias, m.int64s('heads_axis', [1])], {}, { label: 'Unsqueeze_heads' }),
  };
}

/**
 * Mask2FormerMaskedAttentionDecoderLayer (post-norm, forward_post): masked cross-attention to one level
 * (nn.MultiheadAttention; keys carry the level's sine position, queries their query embedding), self-attention
 * (Mask2FormerAttention: query embeddings added to queries and keys), then the MLP; each with residual and norm.
 */
function maskedAttentionDecoderLayer(
  m: Module,
  hidden: Value,
  queryPosition: Value,
  memory: { readonly values: Value; readonly keys: Value },
  scoreBias: Value,
  config: Mask2FormerConfig,
): Value {
  const { hidden_dim: dim, num_attention_heads: heads } = config;
  const norm = { size: dim, eps: TORCH_LAYER_NORM_EPS };
  const withQueryPosition = (x: Value, label: string) => m.op('Add', [x, queryPosition], {}, { label });
  const crossed = multiheadAttention(
    m.child('cross_attn'),
    withQueryPosition(hidden, 'Add_cross_query_position'),
    memory.keys,
    memory.values,
    {
      embedDim: dim,
      numHeads: heads,
      scoreBias,
    },
  );
  let h = layerNorm(
    m.child('cross_attn_layer_norm'),
    m.op('Add', [hidden, crossed], {}, { label: 'Add_cross_attention' }),
    norm,
  );
  const self = m.child('self_attn');
  const positioned = withQueryPosition(h, 'Add_self_query_position');
  const projection = (name: string, x: Value) =>
    linear(self.child(name), x, { inFeatures: dim, outFeatures: dim });
  const context = scaledDotProductAttention(
    self,
    projection('q_proj', positioned),
    projection('k_proj', positioned),
    projection('v_proj', h),
    {
      numHeads: heads,
      headDim: dim / heads,
    },
  );
  const attended = linear(self.child('out_proj'), context, { inFeatures: dim, outFeatures: dim });
  h = layerNorm(
    m.child('self_attn_layer_norm'),
    m.op('Add', [h, attended], {}, { label: 'Add_self_attention' }),
    norm,
  );
  const ff = config.dim_feedforward;
  const expanded = activation(
    m,
    linear(m.child('fc1'), h, { inFeatures: dim, outFeatures: ff }),
    config.activation_function,
  );
  const out = linear(m.child('fc2'), expanded, { inFeatures: ff, outFeatures: dim });
  return layerNorm(m.child('final_layer_norm'), m.op('Add', [h, out], {}, { label: 'Add_mlp' }), norm);
}

/**
 * Mask2FormerTransformerModule with its decoder, keeping only what the outputs need: the last layer's normed
 * queries (for the class head) and its mask logits. The intermediate predictions feed the next layer's attention
 * mask only, and the last layer's attention mask is never used, so it is not built.
 */
function transformerModule(
  m: Module,
  pixels: PixelDecoderOutput,
  batch: Value,
  config: Mask2FormerConfig,
): { queries: Value; masks: Value } {
  const { hidden_dim: dim, num_queries: numQueries } = config;
  const levelEmbed = m.child('level_embed').param('weight', [LEVELS, dim]);
  // The input projections are identities (feature_size == hidden_dim, checked), and the position embedder computes
  // the pixel decoder's sine embedding of the same sizes: its per-level values are reused.
  const memories = pixels.multiScale.map(({ sequence, level }, l) => {
    const values = m.op(
      'Add',
      [
        sequence,
        m.op(
          'Gather',
          [levelEmbed, m.int64(`level_${l}`, l)],
          { axis: 0 },
          { label: `Gather_level_embed_${l}` },
        ),
      ],
      {},
      { label: `Add_level_embed_${l}` },
    );
    return { level, values, keys: m.op('Add', [values, level.position], {}, { label: `Add_position_${l}` }) };
  });
  const queryFeatures = m.op(
    'Unsqueeze',
    [m.child('queries_features').param('weight', [numQueries, dim]), m.int64s('batch_axis', [0])],
    {},
    { label: 'Unsqueeze_query_features' },
  );
  const queryPosition = m.child('queries_embedder').param('weight', [numQueries, dim]);
  const decoder = m.child('decoder');
  const maskSize = dimsOf(decoder, pixels.maskFeatures, 2, 4, 'Shape_mask_size');
  const pixelEmbeddings: PixelEmbeddings = {
    size: maskSize,
    flat: decoder.op(
      'Reshape',
      [pixels.maskFeatures, decoder.int64s('pixel_flat_shape', [0, 0, -1])],
      {},
      { label: 'Reshape_pixel_embeddings' },
    ),
  };
  // queries_features.weight.unsqueeze(1).repeat(1, batch_size, 1), batch first.
  let hidden = decoder.op(
    'Expand',
    [
      queryFeatures,
      concat(decoder, [batch, decoder.int64s('queries_shape', [numQueries, dim])], 'Concat_queries_shape'),
    ],
    {},
    { label: 'Expand_queries' },
  );
  const layerCount = config.decoder_layers - 1;
  const layernorm = (x: Value) =>
    layerNorm(decoder.child('layernorm'), x, { size: dim, eps: TORCH_LAYER_NORM_EPS });
  const predictor = decoder.child('mask_predictor');
  let normed = layernorm(hidden);
  let prediction = maskPredictor(
    predictor,
    normed,
    pixelEmbeddings,
    config,
    layerCount > 0 ? memories[0]!.level : undefined,
  );
  for (let idx = 0; idx < layerCount; idx++) {
    const memory = memories[idx % LEVELS]!;
    hidden = maskedAttentionDecoderLayer(
      decoder.child('layers', idx),
      hidden,
      queryPosition,
      memory,
      prediction.scoreBias!,
      config,
    );
    normed = layernorm(hidden);
    const last = idx === layerCount - 1;
    prediction = maskPredictor(
      predictor,
      normed,
      pixelEmbeddings,
      config,
      last ? undefined : memories[(idx + 1) % LEVELS]!.level,
    );
  }
  return { queries: normed, masks: prediction.logits };
}

// ---------------------------------------------------------------------------------------------------------------
// Model

/** The configs the graph supports, checked before anything is described. */
function checkConfig(config: Mask2FormerConfig): SwinConfig {
  const swin = config.swinConfig;
  const { feature_size: features, hidden_dim: hidden, num_attention_heads: heads } = config;
  if (features !== hidden || config.enforce_input_projection) {
    // transformers keeps those projections in a plain list: never saved nor loaded, random at every load.
    throw new ConfigError(
      `Mask2Former graphs need feature_size (${features}) equal to hidden_dim (${hidden}) and enforce_input_projection false: otherwise transformers' transformer-module input projections are not part of the checkpoint`,
    );
  }
  if (features % GROUP_NORM.numGroups !== 0) {
    throw new ConfigError(
      `feature_size ${features} must be a multiple of 32 (the pixel decoder's GroupNorm(32, feature_size))`,
    );
  }
  if (features % heads !== 0) {
    throw new ConfigError(`feature_size ${features} is not a multiple of num_attention_heads ${heads}`);
  }
  if (config.pre_norm) {
    throw new ConfigError(
      'pre_norm true cannot be built: no Hub checkpoint uses it and no fixture proves it (transformers 4.37 default: false)',
    );
  }
  if (config.decoder_layers < 1) {
    throw new ConfigError(`decoder_layers must be at least 1, got ${config.decoder_layers}`);
  }
  if (swin.use_absolute_embeddings) {
    throw new ConfigError(
      'backbone_config.use_absolute_embeddings true cannot be built: its position table has a fixed size, and Mask2Former takes any input size',
    );
  }
  for (const [i, dim] of swin.stageChannels.entries()) {
    if (dim % swin.num_heads[i]! !== 0) {
      throw new ConfigError(
        `backbone_config: stage ${i + 1} has ${dim} channels, not a multiple of its ${swin.num_heads[i]} heads`,
      );
    }
  }
  return swin;
}

/** pixel_values float32 [batch_size, channels, height, width], every dim dynamic but the channels. */
function pixelInput(root: Module, swin: SwinConfig): Value {
  return root.graph.input('pixel_values', 'float32', [BATCH, swin.num_channels, 'height', 'width']);
}

/**
 * `Mask2FormerPixelLevelModule` alone (Swin backbone and pixel decoder, keys `model.pixel_level_module.*`):
 * pixel_values -> mask_features [batch_size, mask_feature_size, ceil(height / 4), ceil(width / 4)] and the
 * encoder's three levels `multi_scale_features_<l>` [batch_size, tokens, feature_size] (1/32, 1/16, 1/8). Everything
 * before the first thresholded decision (the masked attention), so a q8 build can be compared with fp32 here
 * value for value.
 *
 * @example
 * ```ts
 * const { graph } = buildMask2FormerPixelLevelModule(config, checkpoint, { dtype: 'q8' });
 * ```
 */
export function buildMask2FormerPixelLevelModule(
  config: Mask2FormerConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const swin = checkConfig(config);
  return buildModelGraph('Mask2FormerPixelLevelModule', checkpoint, options, (root) => {
    const pixelLevel = root.child('model', 'pixel_level_module');
    const features = swinBackbone(pixelLevel.child('encoder'), pixelInput(root, swin), swin);
    const { multiScale, maskFeatures } = pixelDecoder(
      pixelLevel.child('decoder'),
      features,
      config,
      swin.stageChannels,
    );
    root.graph.output(maskFeatures, 'mask_features', 'float32', [
      BATCH,
      config.mask_feature_size,
      'mask_height',
      'mask_width',
    ]);
    for (const [l, { sequence }] of multiScale.entries()) {
      root.graph.output(sequence, `multi_scale_features_${l}`, 'float32', [
        BATCH,
        `tokens_${l}`,
        config.feature_size,
      ]);
    }
  });
}

/**
 * `Mask2FormerForUniversalSegmentation`: pixel_values float32 [batch_size, 3, height, width] (any size) ->
 * class_queries_logits [batch_size, queries, labels + 1] and masks_queries_logits [batch_size, queries,
 * ceil(height / 4), ceil(width / 4)], the exported graph's inputs and outputs. Keys `model.*` and
 * `class_predictor.*`.
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { Mask2FormerConfig, buildMask2FormerForUniversalSegmentation } from '@ortvision/mask2former';
 * const config = await Mask2FormerConfig.fromPretrained('./mask2former-swin-tiny-coco-instance');
 * const checkpoint = await openCheckpoint('./mask2former-swin-tiny-coco-instance');
 * const { graph } = buildMask2FormerForUniversalSegmentation(config, checkpoint, { dtype: 'q8' });
 * await writeOnnxModel(graph, './mask2former-swin-tiny-coco-instance/onnx/model_quantized.onnx');
 * ```
 */
export function buildMask2FormerForUniversalSegmentation(
  config: Mask2FormerConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const swin = checkConfig(config);
  return buildModelGraph('Mask2FormerForUniversalSegmentation', checkpoint, options, (root) => {
    const pixels = pixelInput(root, swin);
    const model = root.child('model');
    const pixelLevel = model.child('pixel_level_module');
    const features = swinBackbone(pixelLevel.child('encoder'), pixels, swin);
    const decoded = pixelDecoder(pixelLevel.child('decoder'), features, config, swin.stageChannels);
    const batch = dimsOf(root, pixels, 0, 1, 'Shape_batch');
    const { queries, masks } = transformerModule(model.child('transformer_module'), decoded, batch, config);
    const labels = config.numLabels + 1;
    const logits = linear(root.child('class_predictor'), queries, {
      inFeatures: config.hidden_dim,
      outFeatures: labels,
    });
    root.graph.output(logits, 'class_queries_logits', 'float32', [BATCH, config.num_queries, labels]);
    root.graph.output(masks, 'masks_queries_logits', 'float32', [
      BATCH,
      config.num_queries,
      'mask_height',
      'mask_width',
    ]);
  });
}

/**
 * The graph builder of each Mask2Former model class, by transformers' class name: what the load path calls to build
 * a class's `onnx/model.onnx` from a checkpoint.
 */
export const mask2formerGraphBuilders = {
  Mask2FormerForUniversalSegmentation: buildMask2FormerForUniversalSegmentation,
} as const satisfies Record<string, ModelGraphBuilder<Mask2FormerConfig>>;

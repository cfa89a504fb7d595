import {
  type Attributes,
  type BuiltGraph,
  type Checkpoint,
  ConfigError,
  type GraphBuildOptions,
  type ModelGraphBuilder,
  type Module,
  Value,
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
// where it happens; the fixture `mask2former` proves it (model cases at 32x48, 27x36 and 23x41, batches 1 and 2).

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
/** ONNX's FLOAT element type, for Cast. */
const FLOAT = 1;
const INT64 = 7;

// ---------------------------------------------------------------------------------------------------------------
// Node helpers: one node of module m, named `${m.path}/${label}`

function node(
  m: Module,
  opType: string,
  inputs: readonly (Value | undefined)[],
  label: string,
  attributes: Attributes = {},
): Value {
  return m.op(opType, inputs, attributes, { label });
}

function reshape(m: Module, x: Value, shape: Value | readonly number[], label: string): Value {
  return node(m, 'Reshape', [x, shape instanceof Value ? shape : m.int64s(`${label}_shape`, shape)], label);
}

function transpose(m: Module, x: Value, perm: readonly number[], label: string): Value {
  return node(m, 'Transpose', [x], label, { perm });
}

function unsqueeze(m: Module, x: Value, axes: readonly number[], label: string): Value {
  return node(m, 'Unsqueeze', [x, m.int64s(`${label}_axes`, axes)], label);
}

function concat(m: Module, values: readonly Value[], label: string, axis = 0): Value {
  return node(m, 'Concat', values, label, { axis });
}

/** Dims [start, end) of x, int64. */
function dimsOf(m: Module, x: Value, start: number, end: number, label: string): Value {
  return node(m, 'Shape', [x], label, { start, end });
}

/** Element `index` of an int64 vector, as a scalar (Range takes scalars). */
function scalarAt(m: Module, vector: Value, index: number, label: string): Value {
  return node(m, 'Gather', [vector, m.int64(`${label}_index`, index)], label, { axis: 0 });
}

/** `x[..., start:end, ...]` on one axis (bounds given as [1] values or numbers). */
function slice(m: Module, x: Value, axis: number, start: Value | number, end: Value | number, label: string) {
  const bound = (v: Value | number, name: string) =>
    typeof v === 'number' ? m.int64s(`${label}_${name}`, [v]) : v;
  return node(
    m,
    'Slice',
    [x, bound(start, 'start'), bound(end, 'end'), m.int64s(`${label}_axis`, [axis])],
    label,
  );
}

/** Pad's pads that pad the axes `axes` of a rank-`rank` tensor at their end by `amounts` ([axes.length] int64). */
function padEnds(m: Module, amounts: Value, rank: number, axes: readonly [number, number], label: string) {
  // pads = [begin of each axis..., end of each axis...]; the padded axes are consecutive.
  const zeros = (count: number, name: string) =>
    count > 0 ? [m.int64s(`${label}_${name}`, Array(count).fill(0))] : [];
  return concat(
    m,
    [...zeros(rank + axes[0], 'before'), amounts, ...zeros(rank - 1 - axes[1], 'after')],
    label,
  );
}

/** (multiple - size % multiple) % multiple: what pads `size` to a multiple. */
function padToMultiple(m: Module, size: Value, multiple: number, label: string): Value {
  const k = m.int64s(`${label}_multiple`, [multiple]);
  return node(
    m,
    'Mod',
    [node(m, 'Sub', [k, node(m, 'Mod', [size, k], `${label}_rest`)], `${label}_missing`), k],
    label,
  );
}

/** Bilinear resize of [N, C, h, w] to `size` [H, W], as `interpolate(mode="bilinear", align_corners=False)`. */
function resizeBilinear(m: Module, x: Value, size: Value, label: string): Value {
  const sizes = concat(m, [dimsOf(m, x, 0, 2, `${label}_lead`), size], `${label}_sizes`);
  // half_pixel is torch's formula, clamped at the border as torch clamps it (pytorch_half_pixel would differ only
  // for an output of 1 pixel, where torch keeps half_pixel's source position).
  return node(m, 'Resize', [x, undefined, undefined, sizes], label, {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Swin backbone (modeling_swin.py: SwinBackbone, always_partition=True as Mask2Former calls it, so windows and
// shifts never shrink to the map: maps are padded to window multiples instead)

/**
 * What a Swin stage's blocks need of its size, computed once per stage from its input [batch, H, W, C]: the
 * padding to window multiples (SwinLayer.maybe_pad), the padded shape (window_reverse) and, when the stage has
 * shifted blocks, the shifted-window attention mask (SwinLayer.get_attn_mask), all the same for its blocks.
 */
interface StageGeometry {
  /** [H, W] before padding. */
  readonly size: Value;
  /** Pad's pads for [batch, H, W, C]: bottom and right to a multiple of the window. */
  readonly pads: Value;
  /** [batch, Hp, Wp, C]. */
  readonly paddedShape: Value;
  /** [-1, Wp / window, window, window, C]: the windows grouped by window row. */
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
  const pad = padToMultiple(m, size, ws, 'Mod_pad');
  const padded = node(m, 'Add', [size, pad], 'Add_padded');
  const batch = dimsOf(m, x, 0, 1, 'Shape_batch');
  const windowsPerRow = node(
    m,
    'Div',
    [slice(m, padded, 0, 1, 2, 'Slice_width'), m.int64s('window', [ws])],
    'Div_windows',
  );
  return {
    size,
    pads: padEnds(m, pad, 4, [1, 2], 'Concat_pads'),
    paddedShape: concat(m, [batch, padded, m.int64s('channels', [channels])], 'Concat_padded_shape'),
    windowRowsShape: concat(
      m,
      [m.int64s('rows_head', [-1]), windowsPerRow, m.int64s('rows_tail', [ws, ws, channels])],
      'Concat_window_rows_shape',
    ),
    shiftMask: shifted ? shiftedWindowMask(m, padded, batch, swin) : undefined,
  };
}

/**
 * SwinLayer.get_attn_mask for the padded size: the slices [0, -ws), [-ws, -shift), [-shift, end) of each axis number
 * 3x3 regions of the shifted map, and tokens of one window attend across regions with -100. Python fills the
 * regions by slice assignment; here a position's region is (p >= Hp - ws) + (p >= Hp - shift) per axis, the same
 * ids. Tiled over the batch to line up with the windows of every image ([batch · windows, ...], image-major).
 */
function shiftedWindowMask(m: Module, padded: Value, batch: Value, swin: SwinConfig): Value {
  const ws = swin.window_size;
  const shift = Math.floor(ws / 2);
  const regions = (axis: number, name: string) => {
    const length = slice(m, padded, 0, axis, axis + 1, `Slice_${name}_length`);
    const range = [m.int64('zero', 0), scalarAt(m, padded, axis, `Gather_${name}_length`), m.int64('one', 1)];
    const positions = node(m, 'Range', range, `Range_${name}`);
    const from = (offset: number, edge: string) => {
      const start = node(m, 'Sub', [length, m.int64s(`${edge}_offset`, [offset])], `Sub_${name}_${edge}`);
      const inside = node(m, 'GreaterOrEqual', [positions, start], `GreaterOrEqual_${name}_${edge}`);
      return node(m, 'Cast', [inside], `Cast_${name}_${edge}`, { to: INT64 });
    };
    return node(m, 'Add', [from(ws, 'window'), from(shift, 'shift')], `Add_${name}_regions`);
  };
  const rows = unsqueeze(m, regions(0, 'rows'), [1], 'Unsqueeze_rows');
  const ids = node(
    m,
    'Add',
    [node(m, 'Mul', [rows, m.int64('three', 3)], 'Mul_rows'), regions(1, 'cols')],
    'Add_ids',
  );
  // As Python's img_mask [1, Hp, Wp, 1], partitioned like the hidden states.
  const map = unsqueeze(m, ids, [0, 3], 'Unsqueeze_ids');
  const windows = reshape(m, windowPartition(m, map, ws, 1, 'ids'), [-1, ws * ws], 'Reshape_ids');
  const same = node(
    m,
    'Equal',
    [unsqueeze(m, windows, [1], 'Unsqueeze_keys'), unsqueeze(m, windows, [2], 'Unsqueeze_queries')],
    'Equal',
  );
  const mask = node(
    m,
    'Where',
    [same, m.float32('same_region', 0), m.float32('other_region', -100)],
    'Where',
  );
  const tiles = concat(m, [batch, m.int64s('tile_tail', [1, 1, 1])], 'Concat_tiles');
  return node(m, 'Tile', [unsqueeze(m, mask, [1], 'Unsqueeze_heads'), tiles], 'Tile');
}

/** window_partition: [batch, Hp, Wp, C] -> [batch · windows, window², C]. Reshape's 0 copies a dim. */
function windowPartition(m: Module, x: Value, ws: number, channels: number, label: string): Value {
  const byRows = reshape(m, x, [-1, ws, 0, 0], `Reshape_${label}_rows`);
  const split = reshape(m, byRows, [0, 0, -1, ws, channels], `Reshape_${label}_split`);
  const grouped = transpose(m, split, [0, 2, 1, 3, 4], `Transpose_${label}_windows`);
  return reshape(m, grouped, [-1, ws * ws, channels], `Reshape_${label}_windows`);
}

/** window_reverse: [batch · windows, window², C] -> [batch, Hp, Wp, C]. */
function windowReverse(m: Module, windows: Value, geometry: StageGeometry): Value {
  const rows = reshape(m, windows, geometry.windowRowsShape, 'Reshape_window_rows');
  return reshape(
    m,
    transpose(m, rows, [0, 2, 1, 3, 4], 'Transpose_window_rows'),
    geometry.paddedShape,
    'Reshape_padded',
  );
}

/** torch.roll(x, shifts=(s, s), dims=(1, 2)): a Slice pair and a Concat per axis. */
function roll(m: Module, x: Value, shift: number, label: string): Value {
  let rolled = x;
  for (const axis of [1, 2]) {
    // Rolling by s moves element i to i + s: the last s come first (s > 0), or the first -s go last (s < 0).
    const head = slice(m, rolled, axis, -shift, END, `Slice_${label}_${axis}_head`);
    const tail = slice(m, rolled, axis, 0, -shift, `Slice_${label}_${axis}_tail`);
    rolled = concat(m, [head, tail], `Concat_${label}_${axis}`, axis);
  }
  return rolled;
}

/**
 * SwinSelfAttention's relative position bias, gathered once when the graph is written:
 * table[relative_position_index].view(N, N, heads).permute(2, 0, 1) -> [heads, N, N] (N = window²). The index is a
 * buffer that always holds the same function of the window size; it is recomputed here (the bench's random
 * checkpoints hold zeros there) and only its shape is checked, when the checkpoint has it.
 */
function relativePositionBias(m: Module, heads: number, ws: number): Value {
  const side = 2 * ws - 1;
  const n = ws * ws;
  const tableKey = m.weight('relative_position_bias_table', [side * side, heads]).key;
  if (m.hasWeight('relative_position_index')) m.weight('relative_position_index', [n, n]);
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
          for (let h = 0; h < heads; h++) out[(h * n + i) * n + j] = table[(dy * side + dx) * heads + h]!;
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
  mask?: Value,
) {
  const self = m.child('self');
  const projection = (name: string) =>
    linear(self.child(name), windows, { inFeatures: dim, outFeatures: dim, bias: swin.qkv_bias });
  const positionBias = relativePositionBias(self, heads, swin.window_size);
  // Python adds the position bias, then the mask viewed per image; adding their sum gives the same scores (mask
  // entries are 0, or -100 whose softmax weight is below float32's smallest normal either way).
  const scoreBias = mask ? node(self, 'Add', [mask, positionBias], 'Add_shift_mask') : positionBias;
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
 * and the crop are always there (of size 0 when the size is a multiple of the window), as in the export.
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
  const padded = node(m, 'Pad', [layerNorm(m.child('layernorm_before'), x, norm), geometry.pads], 'Pad', {
    mode: 'constant',
  });
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
  const crop = [unshifted, m.int64s('crop_start', [0, 0]), geometry.size, m.int64s('crop_axes', [1, 2])];
  const hidden = node(m, 'Add', [x, node(m, 'Slice', crop, 'Slice_crop')], 'Add_residual');
  const inner = Math.floor(swin.mlp_ratio * dim);
  const intermediate = m.child('intermediate');
  const normed = layerNorm(m.child('layernorm_after'), hidden, norm);
  const dense = linear(intermediate.child('dense'), normed, { inFeatures: dim, outFeatures: inner });
  const output = linear(m.child('output', 'dense'), activation(intermediate, dense, swin.hidden_act), {
    inFeatures: inner,
    outFeatures: dim,
  });
  return node(m, 'Add', [hidden, output], 'Add_output');
}

/**
 * SwinPatchMerging: pad to even sizes, concatenate the 2x2 neighbours (x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
 * x[1::2, 1::2], in that order), norm, reduction (no bias): [batch, H, W, C] -> [batch, ceil(H/2), ceil(W/2), 2C].
 */
function patchMerging(m: Module, x: Value, dim: number): Value {
  const odd = node(m, 'Mod', [dimsOf(m, x, 1, 3, 'Shape_size'), m.int64s('two', [2])], 'Mod_odd');
  const padded = node(m, 'Pad', [x, padEnds(m, odd, 4, [1, 2], 'Concat_pads')], 'Pad', { mode: 'constant' });
  const neighbours = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ].map(([row, col], i) => {
    const bounds = [
      m.int64s(`start_${i}`, [row!, col!]),
      m.int64s('end', [END, END]),
      m.int64s('axes', [1, 2]),
    ];
    return node(m, 'Slice', [padded, ...bounds, m.int64s('steps', [2, 2])], `Slice_${i}`);
  });
  const normed = layerNorm(m.child('norm'), concat(m, neighbours, 'Concat_neighbours', -1), {
    size: 4 * dim,
    eps: TORCH_LAYER_NORM_EPS,
  });
  return linear(m.child('reduction'), normed, { inFeatures: 4 * dim, outFeatures: 2 * dim, bias: false });
}

/**
 * SwinEmbeddings: pad to patch multiples (SwinPatchEmbeddings.maybe_pad), patch projection, norm, returned as a map
 * [batch, H/patch, W/patch, embed_dim] (no mask token, no absolute position embeddings: checked).
 */
function swinEmbeddings(m: Module, pixels: Value, swin: SwinConfig): Value {
  const patch = swin.patch_size;
  const patchEmbeddings = m.child('patch_embeddings');
  const pad = padToMultiple(
    patchEmbeddings,
    dimsOf(patchEmbeddings, pixels, 2, 4, 'Shape_size'),
    patch,
    'Mod_pad',
  );
  const pads = padEnds(patchEmbeddings, pad, 4, [2, 3], 'Concat_pads');
  const padded = node(patchEmbeddings, 'Pad', [pixels, pads], 'Pad', { mode: 'constant' });
  const patches = conv(patchEmbeddings.child('projection'), padded, {
    inChannels: swin.num_channels,
    outChannels: swin.embed_dim,
    kernelSize: [patch, patch],
    stride: patch,
  });
  const map = transpose(m, patches, [0, 2, 3, 1], 'Transpose');
  return layerNorm(m.child('norm'), map, { size: swin.embed_dim, eps: TORCH_LAYER_NORM_EPS });
}

/**
 * SwinBackbone (`model.pixel_level_module.encoder`): embeddings, the four stages, and each stage's output before its
 * patch merging, normed by `hidden_states_norms.stage<i>`: feature maps [batch, C·2^i, H/2^(i+2), W/2^(i+2)].
 */
function swinBackbone(m: Module, pixels: Value, swin: SwinConfig): Value[] {
  let hidden = swinEmbeddings(m.child('embeddings'), pixels, swin);
  const features: Value[] = [];
  for (const [i, depth] of swin.depths.entries()) {
    const stage = m.child('encoder', 'layers', i);
    const dim = swin.stageChannels[i]!;
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
    features.push(transpose(m, normed, [0, 3, 1, 2], `Transpose_${name}`));
    if (i < swin.depths.length - 1) hidden = patchMerging(stage.child('downsample'), hidden, dim);
  }
  return features;
}

// ---------------------------------------------------------------------------------------------------------------
// Pixel decoder (Mask2FormerPixelDecoder with its deformable-attention encoder)

/**
 * Mask2FormerSinePositionEmbedding(normalize=True) of a map of `size` [H, W], flattened as the decoders use it:
 * [1, H·W, 2·numPosFeats] (pos_y channels, then pos_x), the same for every image (no mask: the model ignores
 * pixel_mask). Python's cumsum of ones is 1..H, divided by (H + 1e-6) and scaled by 2π, in float32.
 */
function sinePositionEmbedding(m: Module, size: Value, numPosFeats: number, label: string): Value {
  // dim_t = 10000 ** (2 * (k // 2) / num_pos_feats) in float32; sin and cos share each even/odd pair of it, so
  // only the even entries are kept.
  const half = numPosFeats / 2;
  const dimT = Float32Array.from({ length: half }, (_, k) =>
    Math.fround(10000 ** Math.fround((2 * k) / numPosFeats)),
  );
  const dimTValue = m.constant('dim_t', { dtype: 'float32', dims: [half], data: dimT });
  const embed = (index: number, axis: string) => {
    const name = `${label}_${axis}`;
    const length = scalarAt(m, size, index, `Gather_${name}`);
    const end = node(m, 'Add', [length, m.int64('one', 1)], `Add_${name}_end`);
    const counts = node(
      m,
      'Cast',
      [node(m, 'Range', [m.int64('one', 1), end, m.int64('one', 1)], `Range_${name}`)],
      `Cast_${name}`,
      { to: FLOAT },
    );
    const total = node(
      m,
      'Add',
      [node(m, 'Cast', [length], `Cast_${name}_length`, { to: FLOAT }), m.float32('eps', 1e-6)],
      `Add_${name}_eps`,
    );
    const normalized = node(
      m,
      'Mul',
      [node(m, 'Div', [counts, total], `Div_${name}`), m.float32('scale', 2 * Math.PI)],
      `Mul_${name}`,
    );
    const phases = node(
      m,
      'Div',
      [unsqueeze(m, normalized, [1], `Unsqueeze_${name}`), dimTValue],
      `Div_${name}_dim_t`,
    );
    const sin = unsqueeze(m, node(m, 'Sin', [phases], `Sin_${name}`), [-1], `Unsqueeze_${name}_sin`);
    const cos = unsqueeze(m, node(m, 'Cos', [phases], `Cos_${name}`), [-1], `Unsqueeze_${name}_cos`);
    // stack((sin, cos), dim=-1).flatten(): sin and cos interleaved channel by channel.
    return reshape(m, concat(m, [sin, cos], `Concat_${name}_pairs`, -1), [0, -1], `Reshape_${name}`);
  };
  const mapShape = concat(m, [size, m.int64s('pos_feats', [numPosFeats])], `Concat_${label}_map_shape`);
  const spread = (v: Value, axis: number, name: string) =>
    node(
      m,
      'Expand',
      [unsqueeze(m, v, [axis], `Unsqueeze_${label}_${name}_map`), mapShape],
      `Expand_${label}_${name}`,
    );
  const map = concat(
    m,
    [spread(embed(0, 'y'), 1, 'y'), spread(embed(1, 'x'), 0, 'x')],
    `Concat_${label}`,
    -1,
  );
  return reshape(m, map, [1, -1, 2 * numPosFeats], `Reshape_${label}`);
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
 * get_reference_points for an unmasked input (the valid ratios are exactly 1): each token's own centre
 * ((x + 0.5) / W, (y + 0.5) / H), the same at every level, as [tokens, 1, 1, 1, 2] to broadcast against the offsets
 * [batch, tokens, heads, levels, points, 2].
 */
function referencePoints(m: Module, levels: readonly Level[]): Value {
  const perLevel = levels.map(({ size }, l) => {
    const centres = (index: number, axis: string) => {
      const name = `level_${l}_${axis}`;
      const length = scalarAt(m, size, index, `Gather_${name}`);
      const positions = node(
        m,
        'Cast',
        [node(m, 'Range', [m.int64('zero', 0), length, m.int64('one', 1)], `Range_${name}`)],
        `Cast_${name}`,
        { to: FLOAT },
      );
      const shifted = node(m, 'Add', [positions, m.float32('half', 0.5)], `Add_${name}_half`);
      return node(
        m,
        'Div',
        [shifted, node(m, 'Cast', [length], `Cast_${name}_length`, { to: FLOAT })],
        `Div_${name}`,
      );
    };
    const gridShape = concat(m, [size, m.int64s('one_coordinate', [1])], `Concat_level_${l}_grid_shape`);
    const spread = (v: Value, axes: number[], axis: string) =>
      node(
        m,
        'Expand',
        [unsqueeze(m, v, axes, `Unsqueeze_level_${l}_${axis}`), gridShape],
        `Expand_level_${l}_${axis}`,
      );
    const xy = concat(
      m,
      [spread(centres(1, 'x'), [0, 2], 'x'), spread(centres(0, 'y'), [1, 2], 'y')],
      `Concat_level_${l}_xy`,
      -1,
    );
    return reshape(m, xy, [-1, 2], `Reshape_level_${l}_points`);
  });
  return reshape(
    m,
    concat(m, perLevel, 'Concat_reference_points'),
    [-1, 1, 1, 1, 2],
    'Reshape_reference_points',
  );
}

/** What every deformable-attention layer shares: the levels, reference points, offset normalizers, grid shape. */
interface DeformableContext {
  readonly levels: readonly Level[];
  /** [tokens, 1, 1, 1, 2]. */
  readonly referencePoints: Value;
  /** [levels, 1, 2]: (W, H) of each level, dividing the offsets. */
  readonly offsetNormalizer: Value;
  /** [-1, tokens, points, 2]: a level's sampling grid for GridSample. */
  readonly gridShape: Value;
}

function deformableContext(m: Module, levels: readonly Level[], sequence: Value): DeformableContext {
  const widthHeight = levels.map(({ size }, l) =>
    node(m, 'Gather', [size, m.int64s('width_height', [1, 0])], `Gather_level_${l}_width_height`, {
      axis: 0,
    }),
  );
  const normalizer = node(m, 'Cast', [concat(m, widthHeight, 'Concat_normalizer')], 'Cast_normalizer', {
    to: FLOAT,
  });
  const tokens = dimsOf(m, sequence, 1, 2, 'Shape_tokens');
  return {
    levels,
    referencePoints: referencePoints(m, levels),
    offsetNormalizer: reshape(m, normalizer, [LEVELS, 1, 2], 'Reshape_normalizer'),
    gridShape: concat(
      m,
      [m.int64s('grid_head', [-1]), tokens, m.int64s('grid_tail', [POINTS, 2])],
      'Concat_grid_shape',
    ),
  };
}

/**
 * Mask2FormerPixelDecoderEncoderMultiscaleDeformableAttention with multi_scale_deformable_attention: per level,
 * GridSample (bilinear, zeros padding, align_corners=False: torch's grid_sample arguments) of the level's values at
 * reference point + offset / (W, H), weighted by the softmax over levels and points. The values are split by
 * slicing with the levels' sizes (Python splits with sizes from .item()).
 */
function deformableAttention(
  m: Module,
  hidden: Value,
  position: Value,
  context: DeformableContext,
  config: Mask2FormerConfig,
) {
  const { feature_size: dim, num_attention_heads: heads } = config;
  const query = node(m, 'Add', [hidden, position], 'Add_position');
  const value = linear(m.child('value_proj'), hidden, { inFeatures: dim, outFeatures: dim });
  const offsets = reshape(
    m,
    linear(m.child('sampling_offsets'), query, { inFeatures: dim, outFeatures: heads * LEVELS * POINTS * 2 }),
    [0, 0, heads, LEVELS, POINTS, 2],
    'Reshape_offsets',
  );
  const logits = reshape(
    m,
    linear(m.child('attention_weights'), query, { inFeatures: dim, outFeatures: heads * LEVELS * POINTS }),
    [0, 0, heads, LEVELS * POINTS],
    'Reshape_weights',
  );
  const weights = node(m, 'Softmax', [logits], 'Softmax', { axis: -1 });
  const normalized = node(m, 'Div', [offsets, context.offsetNormalizer], 'Div_offsets');
  const locations = node(m, 'Add', [context.referencePoints, normalized], 'Add_locations');
  const grids = node(
    m,
    'Sub',
    [node(m, 'Mul', [locations, m.float32('two', 2)], 'Mul_grid'), m.float32('one', 1)],
    'Sub_grid',
  );
  // [batch, tokens, heads, levels, points, 2] -> [levels, batch, heads, tokens, points, 2]: a level's grid is then a
  // Gather and a Reshape to [batch · heads, tokens, points, 2].
  const byLevel = transpose(m, grids, [3, 0, 2, 1, 4, 5], 'Transpose_grids');
  // value.view(batch, tokens, heads, d) as [batch · heads, d, tokens], each level then viewed as its map.
  const valueHeads = reshape(
    m,
    transpose(m, value, [0, 2, 1], 'Transpose_value'),
    [-1, dim / heads, 0],
    'Reshape_value_heads',
  );
  const sampled = context.levels.map((level, l) => {
    const mapShape = concat(m, [m.int64s('value_map_head', [0, 0]), level.size], `Concat_value_${l}_shape`);
    const levelValue = reshape(
      m,
      slice(m, valueHeads, 2, level.start, level.end, `Slice_value_${l}`),
      mapShape,
      `Reshape_value_${l}`,
    );
    const levelGrid = node(m, 'Gather', [byLevel, m.int64(`level_${l}`, l)], `Gather_grid_${l}`, { axis: 0 });
    const grid = reshape(m, levelGrid, context.gridShape, `Reshape_grid_${l}`);
    return node(m, 'GridSample', [levelValue, grid], `GridSample_${l}`, {
      mode: 'bilinear',
      padding_mode: 'zeros',
      align_corners: 0,
    });
  });
  // torch.stack(levels, dim=-2).flatten(-2): [batch · heads, d, tokens, levels · points], level-major.
  const stacked = concat(m, sampled, 'Concat_levels', -1);
  const perHead = reshape(
    m,
    transpose(m, weights, [0, 2, 1, 3], 'Transpose_weights'),
    [-1, 1, 0, 0],
    'Reshape_weights_heads',
  );
  const weighted = node(m, 'Mul', [stacked, perHead], 'Mul_weights');
  const summed = node(m, 'ReduceSum', [weighted, m.int64s('sum_axes', [-1])], 'ReduceSum', { keepdims: 0 });
  const output = transpose(
    m,
    reshape(m, summed, [-1, dim, 0], 'Reshape_merged'),
    [0, 2, 1],
    'Transpose_output',
  );
  return linear(m.child('output_proj'), output, { inFeatures: dim, outFeatures: dim });
}

/** Mask2FormerPixelDecoderEncoderLayer: deformable self-attention and a ReLU MLP, each with residual and post-norm. */
function pixelDecoderEncoderLayer(
  m: Module,
  hidden: Value,
  position: Value,
  context: DeformableContext,
  config: Mask2FormerConfig,
) {
  const dim = config.feature_size;
  const ff = config.encoder_feedforward_dim;
  const norm = { size: dim, eps: TORCH_LAYER_NORM_EPS };
  const attended = deformableAttention(m.child('self_attn'), hidden, position, context, config);
  const h = layerNorm(
    m.child('self_attn_layer_norm'),
    node(m, 'Add', [hidden, attended], 'Add_attention'),
    norm,
  );
  const expanded = node(m, 'Relu', [linear(m.child('fc1'), h, { inFeatures: dim, outFeatures: ff })], 'Relu');
  const out = linear(m.child('fc2'), expanded, { inFeatures: ff, outFeatures: dim });
  return layerNorm(m.child('final_layer_norm'), node(m, 'Add', [h, out], 'Add_mlp'), norm);
}

/** nn.Sequential(Conv2d, GroupNorm(32)): the pixel decoder's input projections, adapters and output convolutions. */
function convGroupNorm(
  m: Module,
  x: Value,
  inChannels: number,
  outChannels: number,
  kernel: number,
  bias: boolean,
) {
  const convolved = conv(m.child(0), x, {
    inChannels,
    outChannels,
    kernelSize: [kernel, kernel],
    padding: (kernel - 1) / 2,
    bias,
  });
  return groupNorm(m.child(1), convolved, { ...GROUP_NORM, numChannels: outChannels });
}

/** x + table[l]: a level embedding (`level_embed` rows) added to a level's sequence. */
function addLevelEmbedding(m: Module, x: Value, table: Value, l: number): Value {
  const row = node(m, 'Gather', [table, m.int64(`level_${l}`, l)], `Gather_level_embed_${l}`, { axis: 0 });
  return node(m, 'Add', [x, row], `Add_level_embed_${l}`);
}

/** What the pixel decoder hands the transformer module. */
interface PixelDecoderOutput {
  /** The encoder's three levels (1/32, 1/16, 1/8) as [batch, H·W, feature_size] sequences, with their levels. */
  readonly multiScale: readonly { readonly sequence: Value; readonly level: Level }[];
  /** mask_features [batch, mask_feature_size, H/4, W/4]. */
  readonly maskFeatures: Value;
}

/**
 * Mask2FormerPixelDecoder: input projections of the three coarsest backbone maps, the deformable-attention encoder
 * over their flattened concatenation (with sine position and level embeddings), the FPN levels up to common_stride,
 * and the mask projection.
 */
function pixelDecoder(
  m: Module,
  features: readonly Value[],
  channels: readonly number[],
  config: Mask2FormerConfig,
) {
  const dim = config.feature_size;
  // features[::-1][:3]: 1/32, 1/16, 1/8.
  const coarse = features.slice(-LEVELS).reverse();
  const coarseChannels = channels.slice(-LEVELS).reverse();
  const projected = coarse.map((x, l) =>
    convGroupNorm(m.child('input_projections', l), x, coarseChannels[l]!, dim, 1, true),
  );
  const levels: Level[] = [];
  let start = m.int64s('first_level_start', [0]);
  for (const [l, x] of projected.entries()) {
    const size = dimsOf(m, x, 2, 4, `Shape_level_${l}`);
    const count = node(m, 'ReduceProd', [size], `ReduceProd_level_${l}`, { keepdims: 1 });
    const end = node(m, 'Add', [start, count], `Add_level_${l}_end`);
    levels.push({
      size,
      start,
      end,
      position: sinePositionEmbedding(m.child('position_embedding'), size, dim / 2, `level_${l}`),
    });
    start = end;
  }
  const flat = projected.map((x, l) =>
    transpose(m, reshape(m, x, [0, 0, -1], `Reshape_flatten_${l}`), [0, 2, 1], `Transpose_flatten_${l}`),
  );
  const sequence = concat(m, flat, 'Concat_levels', 1);
  const levelEmbed = m.param('level_embed', [LEVELS, dim]);
  const positions = concat(
    m,
    levels.map(({ position }, l) => addLevelEmbedding(m, position, levelEmbed, l)),
    'Concat_positions',
    1,
  );
  const encoder = m.child('encoder');
  const context = deformableContext(encoder, levels, sequence);
  let hidden = sequence;
  for (let i = 0; i < config.encoder_layers; i++) {
    hidden = pixelDecoderEncoderLayer(encoder.child('layers', i), hidden, positions, context, config);
  }
  const multiScale = levels.map((level, l) => ({
    level,
    sequence: slice(m, hidden, 1, level.start, level.end, `Slice_output_${l}`),
  }));
  // x.transpose(1, 2).view(batch, -1, H, W) per level.
  let outputs = multiScale.map(({ sequence: s, level }, l) => {
    const shape = concat(m, [m.int64s('map_head', [0, 0]), level.size], `Concat_output_${l}_shape`);
    return reshape(m, transpose(m, s, [0, 2, 1], `Transpose_output_${l}`), shape, `Reshape_output_${l}`);
  });
  // The FPN levels, from low to high resolution (features[:num_fpn_levels][::-1]), upsampled bilinearly.
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
    const layer = m.child(`layer_${idx + 1}`);
    const sum = node(m, 'Add', [lateral, upsampled], `Add_fpn_${idx}`);
    outputs = [...outputs, node(layer, 'Relu', [convGroupNorm(layer, sum, dim, dim, 3, false)], 'Relu')];
  }
  const maskFeatures = conv(m.child('mask_projection'), outputs.at(-1)!, {
    inChannels: dim,
    outChannels: config.mask_feature_size,
    kernelSize: [1, 1],
  });
  return { multiScale, maskFeatures } satisfies PixelDecoderOutput;
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
 * Mask2FormerMaskPredictor: mask_embedder (a 3-layer MLP) of the queries, einsum('bqc,bchw->bqhw') with the pixel
 * embeddings -> mask logits [batch, queries, H/4, W/4]; with a target level, also the next layer's attention mask,
 * resized bilinearly to the level and thresholded (sigmoid < 0.5 is masked), as an additive score bias
 * [batch, 1, queries, H·W] (-inf where masked). The mask is the same for every head, so it broadcasts over heads
 * instead of being repeated. The decoder's fix for a query that would mask every key (it then attends everywhere;
 * an index assignment in Python) is a Where here: a row stays whole when no sigmoid reaches 0.5.
 */
function maskPredictor(
  m: Module,
  queries: Value,
  pixels: PixelEmbeddings,
  config: Mask2FormerConfig,
  target?: Level,
) {
  const hidden = config.hidden_dim;
  const embedder = m.child('mask_embedder');
  let embedded = queries;
  for (let i = 0; i < 3; i++) {
    const out = i < 2 ? hidden : config.mask_feature_size;
    embedded = linear(embedder.child(i, 0), embedded, { inFeatures: hidden, outFeatures: out });
    if (i < 2) embedded = node(embedder.child(i), 'Relu', [embedded], 'Relu');
  }
  const maskShape = concat(m, [m.int64s('mask_head', [0, 0]), pixels.size], 'Concat_mask_shape');
  const logits = reshape(
    m,
    node(m, 'MatMul', [embedded, pixels.flat], 'MatMul_masks'),
    maskShape,
    'Reshape_masks',
  );
  if (!target) return { logits, scoreBias: undefined };
  const resized = resizeBilinear(m, logits, target.size, 'Resize_attention_mask');
  const probabilities = reshape(
    m,
    node(m, 'Sigmoid', [resized], 'Sigmoid'),
    [0, 0, -1],
    'Reshape_attention_mask',
  );
  const threshold = m.float32('threshold', 0.5);
  const masked = node(m, 'Less', [probabilities, threshold], 'Less');
  const best = node(m, 'ReduceMax', [probabilities], 'ReduceMax', { axes: [-1], keepdims: 1 });
  const rowKept = node(m, 'GreaterOrEqual', [best, threshold], 'GreaterOrEqual');
  const inf = m.float32('masked', Number.NEGATIVE_INFINITY);
  const bias = node(
    m,
    'Where',
    [node(m, 'And', [masked, rowKept], 'And'), inf, m.float32('kept', 0)],
    'Where',
  );
  return { logits, scoreBias: unsqueeze(m, bias, [1], 'Unsqueeze_heads') };
}

/** A level's memory for the cross-attention: values with their level embedding, keys with the sine position too. */
interface LevelMemory {
  readonly level: Level;
  readonly values: Value;
  readonly keys: Value;
}

/**
 * Mask2FormerMaskedAttentionDecoderLayer (post-norm, forward_post): masked cross-attention to one level
 * (nn.MultiheadAttention; the queries carry their query embedding), self-attention (Mask2FormerAttention: the query
 * embedding added to queries and keys), then the MLP; each with residual and norm.
 */
function maskedAttentionDecoderLayer(
  m: Module,
  hidden: Value,
  queryPosition: Value,
  memory: LevelMemory,
  scoreBias: Value,
  config: Mask2FormerConfig,
): Value {
  const { hidden_dim: dim, num_attention_heads: heads } = config;
  const norm = { size: dim, eps: TORCH_LAYER_NORM_EPS };
  const positioned = (x: Value, label: string) => node(m, 'Add', [x, queryPosition], label);
  const crossed = multiheadAttention(
    m.child('cross_attn'),
    positioned(hidden, 'Add_cross_query'),
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
    node(m, 'Add', [hidden, crossed], 'Add_cross_attention'),
    norm,
  );
  const self = m.child('self_attn');
  const queriesKeys = positioned(h, 'Add_self_query');
  const projection = (name: string, x: Value) =>
    linear(self.child(name), x, { inFeatures: dim, outFeatures: dim });
  const context = scaledDotProductAttention(
    self,
    projection('q_proj', queriesKeys),
    projection('k_proj', queriesKeys),
    projection('v_proj', h),
    {
      numHeads: heads,
      headDim: dim / heads,
    },
  );
  const attended = linear(self.child('out_proj'), context, { inFeatures: dim, outFeatures: dim });
  h = layerNorm(m.child('self_attn_layer_norm'), node(m, 'Add', [h, attended], 'Add_self_attention'), norm);
  const ff = config.dim_feedforward;
  const expanded = activation(
    m,
    linear(m.child('fc1'), h, { inFeatures: dim, outFeatures: ff }),
    config.activation_function,
  );
  const out = linear(m.child('fc2'), expanded, { inFeatures: ff, outFeatures: dim });
  return layerNorm(m.child('final_layer_norm'), node(m, 'Add', [h, out], 'Add_mlp'), norm);
}

/**
 * Mask2FormerTransformerModule with its decoder, keeping only what the outputs need: the last layer's normed queries
 * (for the class head) and its mask logits. Earlier predictions feed the next layer's attention mask only, and the
 * last layer's attention mask is never used, so it is not built.
 */
function transformerModule(m: Module, pixels: PixelDecoderOutput, batch: Value, config: Mask2FormerConfig) {
  const { hidden_dim: dim, num_queries: numQueries } = config;
  const levelEmbed = m.child('level_embed').param('weight', [LEVELS, dim]);
  // The input projections are identities (feature_size == hidden_dim, checked) and the position embedder computes the
  // pixel decoder's sine embedding of the same sizes: its per-level values are reused.
  const memories = pixels.multiScale.map(({ sequence, level }, l): LevelMemory => {
    const values = addLevelEmbedding(m, sequence, levelEmbed, l);
    return { level, values, keys: node(m, 'Add', [values, level.position], `Add_position_${l}`) };
  });
  const queryFeatures = m.child('queries_features').param('weight', [numQueries, dim]);
  const queryPosition = m.child('queries_embedder').param('weight', [numQueries, dim]);
  const decoder = m.child('decoder');
  const pixelEmbeddings: PixelEmbeddings = {
    size: dimsOf(decoder, pixels.maskFeatures, 2, 4, 'Shape_mask_size'),
    flat: reshape(decoder, pixels.maskFeatures, [0, 0, -1], 'Reshape_pixel_embeddings'),
  };
  // queries_features.weight.unsqueeze(1).repeat(1, batch_size, 1), batch first.
  const queriesShape = concat(
    decoder,
    [batch, decoder.int64s('queries_shape', [numQueries, dim])],
    'Concat_queries_shape',
  );
  let hidden = node(
    decoder,
    'Expand',
    [unsqueeze(decoder, queryFeatures, [0], 'Unsqueeze_queries'), queriesShape],
    'Expand_queries',
  );
  const layers = config.decoder_layers - 1;
  const layernorm = (x: Value) =>
    layerNorm(decoder.child('layernorm'), x, { size: dim, eps: TORCH_LAYER_NORM_EPS });
  const predictor = decoder.child('mask_predictor');
  let normed = layernorm(hidden);
  let prediction = maskPredictor(
    predictor,
    normed,
    pixelEmbeddings,
    config,
    layers > 0 ? memories[0]!.level : undefined,
  );
  for (let idx = 0; idx < layers; idx++) {
    const layer = decoder.child('layers', idx);
    hidden = maskedAttentionDecoderLayer(
      layer,
      hidden,
      queryPosition,
      memories[idx % LEVELS]!,
      prediction.scoreBias!,
      config,
    );
    normed = layernorm(hidden);
    const next = idx < layers - 1 ? memories[(idx + 1) % LEVELS]!.level : undefined;
    prediction = maskPredictor(predictor, normed, pixelEmbeddings, config, next);
  }
  return { queries: normed, masks: prediction.logits };
}

// ---------------------------------------------------------------------------------------------------------------
// Models

/** Checks the configs the graph supports before anything is described; returns the backbone's config. */
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
 * pixel_values -> mask_features [batch_size, mask_feature_size, ceil(height / 4), ceil(width / 4)] and the encoder's
 * three levels `multi_scale_features_<l>` [batch_size, tokens, feature_size] (1/32, 1/16, 1/8). Everything before
 * the first thresholded decision (the masked attention), so a q8 build can be compared with fp32 value for value.
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
    const decoded = pixelDecoder(pixelLevel.child('decoder'), features, swin.stageChannels, config);
    const maskDims = [BATCH, config.mask_feature_size, 'mask_height', 'mask_width'];
    root.graph.output(decoded.maskFeatures, 'mask_features', 'float32', maskDims);
    for (const [l, { sequence }] of decoded.multiScale.entries()) {
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
    const decoded = pixelDecoder(pixelLevel.child('decoder'), features, swin.stageChannels, config);
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
 * The graph builder of each Mask2Former model class, by transformers' class name: what the load path calls to build a
 * class's `onnx/model.onnx` from a checkpoint.
 */
export const mask2formerGraphBuilders = {
  Mask2FormerForUniversalSegmentation: buildMask2FormerForUniversalSegmentation,
} as const satisfies Record<string, ModelGraphBuilder<Mask2FormerConfig>>;

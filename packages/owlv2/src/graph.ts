import {
  type BuiltGraph,
  type Checkpoint,
  type GraphBuildOptions,
  type ModelGraphBuilder,
  type Module,
  type Value,
  activation,
  buildModelGraph,
  clipTextFeatures,
  clipVisionTransformer,
  l2NormalizeLastAxis,
  layerNorm,
  linear,
} from '@ortvision/core';
import type { Owlv2Config } from './config.js';

// OWLv2 as ONNX graphs, read top to bottom like transformers' modeling_owlv2.py (4.37): the CLIP towers come from
// core's layer library (OWLv2 copies them from CLIP, with `pre_layernorm` spelled right), the detection heads are
// written here, one function per module. The four graphs are the ones the package runs, as fixtures/README.md's
// owlv2 section defines them: model (text-queried detection in one run), text_model (query embeddings),
// vision_model (image features, boxes, objectness, class embeddings) and class_head (the class predictor). Every
// class reads Owlv2ForObjectDetection's keys: the towers under `owlv2.`, the heads at the top.

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const OWLV2_GRAPH_VERSION = 1;

/** The symbolic dimensions of the exported graphs (`fixtures/owlv2/onnx/*.onnx`). */
const BATCH = 'batch_size';
const TEXTS = 'num_texts';
const QUERIES = 'num_queries';

/** The patch grid's side, P (image_size / patch_size): P x P boxes per image. */
function gridSide(config: Owlv2Config): number {
  return Math.floor(config.vision_config.image_size / config.vision_config.patch_size);
}

/** Owlv2Model's text side at `root`: text_projection(pooled) / ‖.‖₂, [num_texts, projection_dim]. */
function textEmbeds(root: Module, ids: Value, mask: Value, config: Owlv2Config): Value {
  const owlv2 = root.child('owlv2');
  // OWLv2's text tower pools the position of the largest id (the first <|endoftext|>) whatever eos_token_id says.
  const features = clipTextFeatures(
    owlv2,
    ids,
    mask,
    config.text_config,
    config.projection_dim,
    'largest-id',
  );
  return l2NormalizeLastAxis(owlv2, features);
}

/**
 * Owlv2ForObjectDetection.image_embedder: the vision tower's last hidden state through post_layernorm (all
 * tokens, not the pooled one), each patch token multiplied by the class token, then layer_norm: [batch, patches,
 * hidden], patches row-major.
 */
function imageEmbedder(root: Module, pixels: Value, config: Owlv2Config): Value {
  const vision = config.vision_config;
  const norm = { size: vision.hidden_size, eps: vision.layer_norm_eps };
  const tower = root.child('owlv2', 'vision_model');
  const { lastHiddenState } = clipVisionTransformer(tower, pixels, vision, { preLayerNorm: 'pre_layernorm' });
  const embeds = layerNorm(tower.child('post_layernorm'), lastHiddenState, norm);
  const tokens = (label: string, start: number, end: number) =>
    root.op(
      'Slice',
      [
        embeds,
        root.int64s(`${label}_start`, [start]),
        root.int64s(`${label}_end`, [end]),
        root.int64s('token_axis', [1]),
      ],
      {},
      { label: `Slice_${label}` },
    );
  // image_embeds[:, 1:] * broadcast_to(image_embeds[:, :1], ...): the broadcast is Mul's own.
  const merged = root.op(
    'Mul',
    [tokens('patches', 1, 2 ** 62), tokens('class_token', 0, 1)],
    {},
    { label: 'Mul_class_token' },
  );
  return layerNorm(root.child('layer_norm'), merged, norm);
}

/** Owlv2BoxPredictionHead at `m`: dense0, GELU, dense1, GELU, dense2 (to 4 box numbers, or 1 objectness logit). */
function boxPredictionHead(m: Module, x: Value, width: number, outDim: number): Value {
  const dense0 = linear(m.child('dense0'), x, { inFeatures: width, outFeatures: width });
  const dense1 = linear(m.child('dense1'), activation(m, dense0, 'gelu'), {
    inFeatures: width,
    outFeatures: width,
  });
  return linear(m.child('dense2'), activation(m, dense1, 'gelu'), { inFeatures: width, outFeatures: outDim });
}

/**
 * compute_box_bias (4.37) for a P x P grid, [P², 4]: each box's centre biased to its patch's far corner
 * ((col + 1) / P, (row + 1) / P) and its size to 1 / P, as logits: log(c + 1e-4) - log1p(-c + 1e-4). transformers
 * computes it from the grid with numpy at every forward; it depends on P only, so it is a constant here, computed
 * in float32 as torch does (fixture owlv2, model case nested-batch2's pred_boxes).
 */
export function owlv2BoxBias(side: number): Float32Array {
  const f = Math.fround;
  const eps = f(1e-4);
  const logit = (c: number) => f(f(Math.log(f(c + eps))) - f(Math.log1p(f(-c + eps))));
  const size = logit(f(1 / side));
  const bias = new Float32Array(side * side * 4);
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      const n = (row * side + col) * 4;
      bias.set([logit(f((col + 1) / side)), logit(f((row + 1) / side)), size, size], n);
    }
  }
  return bias;
}

/** Owlv2ForObjectDetection.box_predictor: sigmoid(box_head(features) + box_bias), (cx, cy, w, h) in 0..1. */
function boxPredictor(root: Module, features: Value, config: Owlv2Config): Value {
  const side = gridSide(config);
  const boxes = boxPredictionHead(root.child('box_head'), features, config.vision_config.hidden_size, 4);
  const bias = root.constant('box_bias', {
    dtype: 'float32',
    dims: [side * side, 4],
    data: owlv2BoxBias(side),
  });
  return root.op(
    'Sigmoid',
    [root.op('Add', [boxes, bias], {}, { label: 'Add_box_bias' })],
    {},
    { label: 'Sigmoid_boxes' },
  );
}

/** Owlv2ForObjectDetection.objectness_predictor: objectness_head(features)[..., 0], [batch, patches]. */
function objectnessPredictor(root: Module, features: Value, config: Owlv2Config): Value {
  const logits = boxPredictionHead(
    root.child('objectness_head'),
    features,
    config.vision_config.hidden_size,
    1,
  );
  return root.op('Squeeze', [logits, root.int64s('last_axis', [-1])], {}, { label: 'Squeeze_objectness' });
}

/** Owlv2ClassPredictionHead.dense0: the per-patch class embeddings, [batch, patches, text hidden], not normalized. */
function classEmbeds(m: Module, features: Value, config: Owlv2Config): Value {
  return linear(m.child('dense0'), features, {
    inFeatures: config.vision_config.hidden_size,
    outFeatures: config.text_config.hidden_size,
  });
}

/**
 * Owlv2ClassPredictionHead with queries at `m` (`class_head`): cosine similarity of each patch's class embedding
 * with each query (both normalized with + 1e-6 in the norm), shifted by logit_shift and scaled by
 * elu(logit_scale) + 1, both per patch; exactly -1e6 where query_mask is false. Returns the logits [batch,
 * patches, queries] and the normalized class embeddings.
 */
function classHead(
  m: Module,
  features: Value,
  queryEmbeds: Value,
  queryMask: Value,
  config: Owlv2Config,
): { logits: Value; classEmbeds: Value } {
  const width = config.vision_config.hidden_size;
  const image = l2NormalizeLastAxis(m.child('image_class_embeds'), classEmbeds(m, features, config), {
    eps: 1e-6,
  });
  const queries = l2NormalizeLastAxis(m.child('query_embeds'), queryEmbeds, { eps: 1e-6 });
  // einsum('...pd,...qd->...pq')
  const similarity = m.op(
    'MatMul',
    [image, m.op('Transpose', [queries], { perm: [0, 2, 1] }, { label: 'Transpose_queries' })],
    {},
    { label: 'MatMul_similarity' },
  );
  const shift = linear(m.child('logit_shift'), features, { inFeatures: width, outFeatures: 1 });
  const scale = m.op(
    'Add',
    [
      m.op('Elu', [linear(m.child('logit_scale'), features, { inFeatures: width, outFeatures: 1 })], {
        alpha: 1.0,
      }),
      m.float32('one', 1),
    ],
    {},
    { label: 'Add_scale_one' },
  );
  const logits = m.op(
    'Mul',
    [m.op('Add', [similarity, shift], {}, { label: 'Add_shift' }), scale],
    {},
    { label: 'Mul_scale' },
  );
  const mask = m.op('Unsqueeze', [queryMask, m.int64s('patch_axis', [1])], {}, { label: 'Unsqueeze_mask' });
  const masked = m.op('Where', [mask, logits, m.float32('masked_logit', -1e6)], {}, { label: 'Where_mask' });
  return { logits: masked, classEmbeds: image };
}

/** pixel_values float32 [batch_size, num_channels, image_size, image_size]: the position embeddings' size. */
function pixelInput(root: Module, config: Owlv2Config): Value {
  const { num_channels, image_size } = config.vision_config;
  return root.graph.input('pixel_values', 'float32', [BATCH, num_channels, image_size, image_size]);
}

/** input_ids and attention_mask, int64 [num_texts, sequence_length]. */
function textInputs(root: Module): [ids: Value, mask: Value] {
  return [
    root.graph.input('input_ids', 'int64', [TEXTS, 'sequence_length']),
    root.graph.input('attention_mask', 'int64', [TEXTS, 'sequence_length']),
  ];
}

/**
 * `Owlv2ForObjectDetection.forward` (`onnx/model.onnx`): input_ids [batch_size * num_queries, seq] (image-major),
 * attention_mask, pixel_values -> logits [batch_size, patches, num_queries], objectness_logits, pred_boxes,
 * text_embeds [batch_size, num_queries, projection_dim] (normalized), image_embeds [batch_size, P, P, hidden]
 * (the feature map) and class_embeds (normalized). A query whose first id is 0 is masked (logits -1e6).
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { Owlv2Config, buildOwlv2ForObjectDetection } from '@ortvision/owlv2';
 * const config = await Owlv2Config.fromPretrained('./owlv2-base-patch16-ensemble');
 * const checkpoint = await openCheckpoint('./owlv2-base-patch16-ensemble');
 * await writeOnnxModel(buildOwlv2ForObjectDetection(config, checkpoint).graph, './out/model.onnx');
 * ```
 */
export function buildOwlv2ForObjectDetection(
  config: Owlv2Config,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('Owlv2ForObjectDetection', checkpoint, options, (root) => {
    const [ids, mask] = textInputs(root);
    const pixels = pixelInput(root, config);
    const side = gridSide(config);
    const patches = side * side;
    const { hidden_size: hidden } = config.vision_config;
    const projection = config.projection_dim;
    const features = imageEmbedder(root, pixels, config);
    // query_embeds.reshape(batch_size, max_text_queries, -1) and input_ids[..., 0] > 0 as [batch_size, queries]:
    // the batch size is pixel_values'.
    const batch = root.op('Shape', [pixels], { start: 0, end: 1 }, { label: 'Shape_batch' });
    const perImage = (label: string, tail: number[]) =>
      root.op(
        'Concat',
        [batch, root.int64s(`${label}_tail`, tail)],
        { axis: 0 },
        { label: `Concat_${label}_shape` },
      );
    const queryEmbeds = root.op(
      'Reshape',
      [textEmbeds(root, ids, mask, config), perImage('query_embeds', [-1, projection])],
      {},
      { label: 'Reshape_query_embeds' },
    );
    const firstIds = root.op(
      'Gather',
      [ids, root.int64('first_token', 0)],
      { axis: 1 },
      { label: 'Gather_first_ids' },
    );
    const queryMask = root.op(
      'Greater',
      [
        root.op('Reshape', [firstIds, perImage('query_mask', [-1])], {}, { label: 'Reshape_query_mask' }),
        root.int64('padding_id', 0),
      ],
      {},
      { label: 'Greater_query_mask' },
    );
    const { logits, classEmbeds: normalized } = classHead(
      root.child('class_head'),
      features,
      queryEmbeds,
      queryMask,
      config,
    );
    const featureMap = root.op(
      'Reshape',
      [features, root.int64s('feature_map_shape', [0, side, side, hidden])],
      {},
      { label: 'Reshape_feature_map' },
    );
    const out = root.graph;
    out.output(logits, 'logits', 'float32', [BATCH, patches, QUERIES]);
    out.output(objectnessPredictor(root, features, config), 'objectness_logits', 'float32', [BATCH, patches]);
    out.output(boxPredictor(root, features, config), 'pred_boxes', 'float32', [BATCH, patches, 4]);
    out.output(queryEmbeds, 'text_embeds', 'float32', [BATCH, QUERIES, projection]);
    out.output(featureMap, 'image_embeds', 'float32', [BATCH, side, side, hidden]);
    out.output(normalized, 'class_embeds', 'float32', [BATCH, patches, config.text_config.hidden_size]);
  });
}

/**
 * Owlv2Model's text side (`onnx/text_model.onnx`): input_ids, attention_mask [num_texts, seq] -> text_embeds
 * [num_texts, projection_dim], L2-normalized (reshape to [batch_size, num_queries, d] for class_head). Keys
 * `owlv2.text_model.*`, `owlv2.text_projection.weight`.
 *
 * @example
 * ```ts
 * const { graph } = buildOwlv2TextEmbeds(config, checkpoint, { dtype: 'q8' });
 * ```
 */
export function buildOwlv2TextEmbeds(
  config: Owlv2Config,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('Owlv2ForObjectDetection.text_embeds', checkpoint, options, (root) => {
    const [ids, mask] = textInputs(root);
    root.graph.output(textEmbeds(root, ids, mask, config), 'text_embeds', 'float32', [
      TEXTS,
      config.projection_dim,
    ]);
  });
}

/**
 * Owlv2ForObjectDetection's image side (`onnx/vision_model.onnx`): pixel_values -> image_embeds [batch_size,
 * patches, hidden] (the feature map flattened row-major), pred_boxes [batch_size, patches, 4], objectness_logits
 * [batch_size, patches] and class_embeds = class_head.dense0(image_embeds), NOT normalized (what
 * embed_image_query compares).
 *
 * @example
 * ```ts
 * const { graph } = buildOwlv2ImageEmbeds(config, checkpoint);
 * ```
 */
export function buildOwlv2ImageEmbeds(
  config: Owlv2Config,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('Owlv2ForObjectDetection.image_embeds', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config);
    const patches = gridSide(config) ** 2;
    const features = imageEmbedder(root, pixels, config);
    const out = root.graph;
    out.output(features, 'image_embeds', 'float32', [BATCH, patches, config.vision_config.hidden_size]);
    out.output(boxPredictor(root, features, config), 'pred_boxes', 'float32', [BATCH, patches, 4]);
    out.output(objectnessPredictor(root, features, config), 'objectness_logits', 'float32', [BATCH, patches]);
    out.output(classEmbeds(root.child('class_head'), features, config), 'class_embeds', 'float32', [
      BATCH,
      patches,
      config.text_config.hidden_size,
    ]);
  });
}

/**
 * `Owlv2ForObjectDetection.class_predictor` (`onnx/class_head.onnx`): image_embeds [batch_size, num_patches,
 * hidden], query_embeds [batch_size, num_queries, projection_dim], query_mask bool [batch_size, num_queries] ->
 * logits [batch_size, num_patches, num_queries] (-1e6 where the mask is false) and the normalized class_embeds.
 * Keys `class_head.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildOwlv2ClassHead(config, checkpoint);
 * ```
 */
export function buildOwlv2ClassHead(
  config: Owlv2Config,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('Owlv2ForObjectDetection.class_predictor', checkpoint, options, (root) => {
    const features = root.graph.input('image_embeds', 'float32', [
      BATCH,
      'num_patches',
      config.vision_config.hidden_size,
    ]);
    const queryEmbeds = root.graph.input('query_embeds', 'float32', [BATCH, QUERIES, config.projection_dim]);
    const queryMask = root.graph.input('query_mask', 'bool', [BATCH, QUERIES]);
    const { logits, classEmbeds: normalized } = classHead(
      root.child('class_head'),
      features,
      queryEmbeds,
      queryMask,
      config,
    );
    root.graph.output(logits, 'logits', 'float32', [BATCH, 'num_patches', QUERIES]);
    root.graph.output(normalized, 'class_embeds', 'float32', [
      BATCH,
      'num_patches',
      config.text_config.hidden_size,
    ]);
  });
}

/**
 * The graph builders of each OWLv2 model class, by transformers' class name and graph key (`onnx/<key>.onnx`):
 * what `static checkpointGraphs` declares. The tower classes run the detection model's split graphs, so they read
 * the same keys.
 */
export const owlv2GraphBuilders = {
  Owlv2TextModel: { text_model: buildOwlv2TextEmbeds },
  Owlv2VisionModel: { vision_model: buildOwlv2ImageEmbeds },
  Owlv2Model: { text_model: buildOwlv2TextEmbeds, vision_model: buildOwlv2ImageEmbeds },
  Owlv2ForObjectDetection: {
    model: buildOwlv2ForObjectDetection,
    text_model: buildOwlv2TextEmbeds,
    vision_model: buildOwlv2ImageEmbeds,
    class_head: buildOwlv2ClassHead,
  },
} as const satisfies Record<string, Record<string, ModelGraphBuilder<Owlv2Config>>>;

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
  clipContrastiveLogits,
  clipImageFeatures,
  embedding,
  invertAttentionMask,
  layerNorm,
  linear,
  selfAttention,
} from '@ortvision/core';
import type { AltCLIPConfig, AltCLIPTextConfig } from './config.js';

// AltCLIP as ONNX graphs, read top to bottom like transformers' modeling_altclip.py (4.37): an XLM-RoBERTa text
// tower (AltRobertaModel, written here, one function per module) with its `transformation` and projection, and
// CLIP's vision tower from core's layer library. The three graphs are the ones the package runs (fixture altclip's
// manifest): model (AltCLIPModel.forward), text_model (get_text_features), vision_model (get_image_features).

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const ALTCLIP_GRAPH_VERSION = 1;

/** The symbolic dimensions of the exported graphs (`fixtures/altclip/onnx/*.onnx`). */
const BATCH = 'batch_size';
const SEQUENCE = 'sequence_length';

/** The padding id RoBERTa's position ids count from; transformers needs one. */
function paddingIdx(config: AltCLIPTextConfig): number {
  if (config.pad_token_id === null) {
    throw new ConfigError(
      'text_config.pad_token_id is null: the text tower numbers positions after the padding id (RoBERTa), so it needs one',
    );
  }
  return config.pad_token_id;
}

/**
 * `create_position_ids_from_input_ids`: non-padding tokens get padding_idx + 1, + 2, ... in order, padding tokens
 * padding_idx itself (fixture altclip, model case text-batch-padded-truncated: positions reach 65). Computed from
 * input_ids inside the graph, so any padding works.
 */
function positionIds(m: Module, ids: Value, padding: number): Value {
  const isPadding = m.op('Equal', [ids, m.int64('padding_idx', padding)], {}, { label: 'Equal_padding' });
  const mask = m.op('Cast', [m.op('Not', [isPadding])], { to: 7 }, { label: 'Cast_mask' });
  const counts = m.op('CumSum', [mask, m.int64('sequence_axis', 1)]);
  const numbered = m.op('Mul', [counts, mask], {}, { label: 'Mul_mask' });
  return m.op('Add', [numbered, m.int64('padding_idx', padding)], {}, { label: 'Add_padding_idx' });
}

/**
 * AltRobertaEmbeddings at `m` (`text_model.roberta.embeddings`): word + token type 0 (the default
 * token_type_ids) + position embeddings, then LayerNorm.
 */
function embeddings(m: Module, ids: Value, config: AltCLIPTextConfig): Value {
  const hidden = config.hidden_size;
  const padding = paddingIdx(config);
  if (config.position_embedding_type !== 'absolute') {
    throw new ConfigError(
      `text_config.position_embedding_type ${JSON.stringify(config.position_embedding_type)} cannot be built (expected "absolute", as AltCLIP's checkpoints have)`,
    );
  }
  const words = embedding(m.child('word_embeddings'), ids, {
    numEmbeddings: config.vocab_size,
    embeddingDim: hidden,
  });
  const tokenTypes = m.child('token_type_embeddings');
  const tokenType = tokenTypes.op(
    'Gather',
    [tokenTypes.param('weight', [config.type_vocab_size, hidden]), tokenTypes.int64('token_type', 0)],
    { axis: 0 },
  );
  const positions = embedding(m.child('position_embeddings'), positionIds(m, ids, padding), {
    numEmbeddings: config.max_position_embeddings,
    embeddingDim: hidden,
  });
  const summed = m.op(
    'Add',
    [m.op('Add', [words, tokenType], {}, { label: 'Add_token_type' }), positions],
    {},
    { label: 'Add_positions' },
  );
  return layerNorm(m.child('LayerNorm'), summed, { size: hidden, eps: config.layer_norm_eps });
}

/** A dense layer whose output is added to `residual` and normalized (AltRobertaSelfOutput, AltRobertaOutput). */
function denseAddNorm(
  m: Module,
  x: Value,
  residual: Value,
  inFeatures: number,
  config: AltCLIPTextConfig,
): Value {
  const dense = linear(m.child('dense'), x, { inFeatures, outFeatures: config.hidden_size });
  const summed = m.op('Add', [dense, residual], {}, { label: 'Add_residual' });
  return layerNorm(m.child('LayerNorm'), summed, { size: config.hidden_size, eps: config.layer_norm_eps });
}

/** AltRobertaAttention at `m`: self-attention (query/key/value, scores / √d + padding mask), then its output. */
function attention(m: Module, x: Value, scoreBias: Value, config: AltCLIPTextConfig): Value {
  const { hidden_size: hidden, num_attention_heads: heads } = config;
  if (!Number.isInteger(hidden / heads)) {
    throw new ConfigError(
      `text_config.hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`,
    );
  }
  const context = selfAttention(m.child('self'), x, {
    hiddenSize: hidden,
    numHeads: heads,
    headDim: hidden / heads,
    scoreBias,
  });
  return denseAddNorm(m.child('output'), context, x, hidden, config);
}

/** AltRobertaLayer at `m` (`encoder.layer.<i>`): post-LN attention, then intermediate (dense + act) and output. */
function layer(m: Module, x: Value, scoreBias: Value, config: AltCLIPTextConfig): Value {
  const attended = attention(m.child('attention'), x, scoreBias, config);
  const intermediate = m.child('intermediate');
  const expanded = activation(
    intermediate,
    linear(intermediate.child('dense'), attended, {
      inFeatures: config.hidden_size,
      outFeatures: config.intermediate_size,
    }),
    config.hidden_act,
  );
  return denseAddNorm(m.child('output'), expanded, attended, config.intermediate_size, config);
}

/**
 * AltCLIPTextModel at `m` (`text_model`) up to its pooled output [batch, project_dim]: AltRobertaModel (no pooler),
 * pre_LN, transformation, the first token (`<s>`). pre_LN and transformation act on each token alone, so they are
 * applied to the first token only: the same values for a sequence's worth less work.
 */
function textModel(m: Module, ids: Value, attentionMask: Value, config: AltCLIPTextConfig): Value {
  const roberta = m.child('roberta');
  const scoreBias = invertAttentionMask(roberta, attentionMask);
  let hidden = embeddings(roberta.child('embeddings'), ids, config);
  const encoder = roberta.child('encoder');
  for (let i = 0; i < config.num_hidden_layers; i++) {
    hidden = layer(encoder.child('layer', i), hidden, scoreBias, config);
  }
  const first = m.op(
    'Gather',
    [hidden, m.int64('first_token', 0)],
    { axis: 1 },
    { label: 'Gather_first_token' },
  );
  const normed = layerNorm(m.child('pre_LN'), first, {
    size: config.hidden_size,
    eps: config.layer_norm_eps,
  });
  return linear(m.child('transformation'), normed, {
    inFeatures: config.hidden_size,
    outFeatures: config.project_dim,
  });
}

/** AltCLIPModel.get_text_features at the root: text_projection(pooled), [batch, projection_dim]. */
function textFeatures(root: Module, ids: Value, mask: Value, config: AltCLIPConfig): Value {
  const text = config.text_config;
  return linear(root.child('text_projection'), textModel(root.child('text_model'), ids, mask, text), {
    inFeatures: text.project_dim,
    outFeatures: config.projection_dim,
    bias: false,
  });
}

/** AltCLIPModel.get_image_features at the root: CLIP's vision tower and visual_projection. */
function imageFeatures(root: Module, pixels: Value, config: AltCLIPConfig): Value {
  return clipImageFeatures(root, pixels, config.vision_config, config.projection_dim);
}

/** pixel_values float32 [batch, num_channels, image_size, image_size]. */
function pixelInput(root: Module, config: AltCLIPConfig, batch: string): Value {
  const { num_channels, image_size } = config.vision_config;
  return root.graph.input('pixel_values', 'float32', [batch, num_channels, image_size, image_size]);
}

/** input_ids and attention_mask, int64 [batch, sequence_length]. */
function textInputs(root: Module, batch: string): [ids: Value, mask: Value] {
  return [
    root.graph.input('input_ids', 'int64', [batch, SEQUENCE]),
    root.graph.input('attention_mask', 'int64', [batch, SEQUENCE]),
  ];
}

/**
 * `AltCLIPModel.forward` (`onnx/model.onnx`): input_ids, attention_mask [text_batch_size, seq] and pixel_values
 * [image_batch_size, ...] -> logits_per_image [image_batch_size, text_batch_size], logits_per_text, and the
 * L2-normalized text_embeds / image_embeds. Keys `text_model.*`, `vision_model.*`, both projections, logit_scale.
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { AltCLIPConfig, buildAltCLIPModel } from '@ortvision/altclip';
 * const config = await AltCLIPConfig.fromPretrained('./AltCLIP');
 * const checkpoint = await openCheckpoint('./AltCLIP');
 * await writeOnnxModel(buildAltCLIPModel(config, checkpoint).graph, './out/model.onnx'); // 3.5 GB: external data
 * ```
 */
export function buildAltCLIPModel(
  config: AltCLIPConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('AltCLIPModel', checkpoint, options, (root) => {
    const [ids, mask] = textInputs(root, 'text_batch_size');
    const pixels = pixelInput(root, config, 'image_batch_size');
    const { logitsPerImage, logitsPerText, textEmbeds, imageEmbeds } = clipContrastiveLogits(
      root,
      textFeatures(root, ids, mask, config),
      imageFeatures(root, pixels, config),
    );
    const projection = config.projection_dim;
    const out = root.graph;
    out.output(logitsPerImage, 'logits_per_image', 'float32', ['image_batch_size', 'text_batch_size']);
    out.output(logitsPerText, 'logits_per_text', 'float32', ['text_batch_size', 'image_batch_size']);
    out.output(textEmbeds, 'text_embeds', 'float32', ['text_batch_size', projection]);
    out.output(imageEmbeds, 'image_embeds', 'float32', ['image_batch_size', projection]);
  });
}

/**
 * `AltCLIPModel.get_text_features` (`onnx/text_model.onnx`): input_ids, attention_mask -> text_embeds [batch_size,
 * projection_dim], not normalized. Keys `text_model.*`, `text_projection.weight`.
 *
 * @example
 * ```ts
 * const { graph } = buildAltCLIPTextFeatures(config, checkpoint, { dtype: 'q8' });
 * ```
 */
export function buildAltCLIPTextFeatures(
  config: AltCLIPConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('AltCLIPModel.get_text_features', checkpoint, options, (root) => {
    const [ids, mask] = textInputs(root, BATCH);
    root.graph.output(textFeatures(root, ids, mask, config), 'text_embeds', 'float32', [
      BATCH,
      config.projection_dim,
    ]);
  });
}

/**
 * `AltCLIPModel.get_image_features` (`onnx/vision_model.onnx`): pixel_values -> image_embeds [batch_size,
 * projection_dim], not normalized. Keys `vision_model.*`, `visual_projection.weight`.
 *
 * @example
 * ```ts
 * const { graph } = buildAltCLIPImageFeatures(config, checkpoint);
 * ```
 */
export function buildAltCLIPImageFeatures(
  config: AltCLIPConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('AltCLIPModel.get_image_features', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config, BATCH);
    root.graph.output(imageFeatures(root, pixels, config), 'image_embeds', 'float32', [
      BATCH,
      config.projection_dim,
    ]);
  });
}

/**
 * The graph builders of each AltCLIP model class, by transformers' class name and graph key (`onnx/<key>.onnx`):
 * what `static checkpointGraphs` declares. Every class reads AltCLIPModel's keys.
 */
export const altclipGraphBuilders = {
  AltCLIPTextModel: { text_model: buildAltCLIPTextFeatures },
  AltCLIPVisionModel: { vision_model: buildAltCLIPImageFeatures },
  AltCLIPModel: {
    model: buildAltCLIPModel,
    text_model: buildAltCLIPTextFeatures,
    vision_model: buildAltCLIPImageFeatures,
  },
} as const satisfies Record<string, Record<string, ModelGraphBuilder<AltCLIPConfig>>>;

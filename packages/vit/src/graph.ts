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
  layerNorm,
  linear,
  selfAttention,
} from '@ortvision/core';
import type { ViTConfig } from './config.js';

// The ViT architecture as ONNX graphs, read top to bottom like transformers' modeling_vit.py (4.37): one function
// per module, named as the module, taking the module's place in the state dict. What differs from a plain reading
// of the Python says so where it happens.

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const VIT_GRAPH_VERSION = 1;

/** The batch dimension's symbolic name, as in the exported graphs (`fixtures/vit-*\/onnx/model.onnx`). */
const BATCH = 'batch_size';

/** ViTPatchEmbeddings: projection(pixel_values).flatten(2).transpose(1, 2) -> [batch, patches, hidden]. */
function patchEmbeddings(m: Module, pixels: Value, config: ViTConfig): Value {
  const projected = conv(m.child('projection'), pixels, {
    inChannels: config.num_channels,
    outChannels: config.hidden_size,
    kernelSize: [config.patch_size, config.patch_size],
    stride: config.patch_size,
  });
  const flat = m.op('Reshape', [projected, m.int64s('flatten_shape', [0, 0, -1])]);
  return m.op('Transpose', [flat], { perm: [0, 2, 1] });
}

/**
 * ViTEmbeddings: patch embeddings, masked patches replaced by mask_token (masked-image modeling), the CLS token
 * in front, position embeddings added. Only config.image_size is supported (no interpolate_pos_encoding), as in
 * the exported graphs whose input is fixed at that size.
 */
function embeddings(m: Module, pixels: Value, config: ViTConfig, boolMaskedPos?: Value): Value {
  const hidden = config.hidden_size;
  let patches = patchEmbeddings(m.child('patch_embeddings'), pixels, config);
  if (boolMaskedPos) {
    // transformers computes embeddings * (1 - mask) + mask_token * mask; with a 0/1 mask that is a select, and
    // Where gives the same values without two multiplications per element (fixture vit-mim, model case batch2).
    const mask = m.op(
      'Unsqueeze',
      [boolMaskedPos, m.int64s('mask_axes', [-1])],
      {},
      { label: 'Unsqueeze_mask' },
    );
    patches = m.op('Where', [mask, m.param('mask_token', [1, 1, hidden]), patches]);
  }
  // cls_token.expand(batch_size, -1, -1): the batch size comes from the input's shape.
  const batch = m.op('Shape', [pixels], { start: 0, end: 1 });
  const clsShape = m.op(
    'Concat',
    [batch, m.int64s('cls_shape_tail', [1, hidden])],
    { axis: 0 },
    { label: 'Concat_cls_shape' },
  );
  const cls = m.op('Expand', [m.param('cls_token', [1, 1, hidden]), clsShape]);
  const tokens = m.op('Concat', [cls, patches], { axis: 1 }, { label: 'Concat_tokens' });
  return m.op('Add', [tokens, m.param('position_embeddings', [1, config.numPatches + 1, hidden])]);
}

/** ViTAttention: ViTSelfAttention (query/key/value, softmax(QKᵀ/√d)V) then ViTSelfOutput's dense. */
function attention(m: Module, x: Value, config: ViTConfig): Value {
  const { hidden_size: hidden, num_attention_heads: heads } = config;
  if (hidden % heads !== 0) {
    throw new ConfigError(`hidden_size ${hidden} is not a multiple of num_attention_heads ${heads}`);
  }
  const context = selfAttention(m.child('attention'), x, {
    hiddenSize: hidden,
    numHeads: heads,
    headDim: hidden / heads,
    bias: config.qkv_bias,
  });
  return linear(m.child('output', 'dense'), context, { inFeatures: hidden, outFeatures: hidden });
}

/** ViTIntermediate: dense then hidden_act. */
function intermediate(m: Module, x: Value, config: ViTConfig): Value {
  const dense = linear(m.child('dense'), x, {
    inFeatures: config.hidden_size,
    outFeatures: config.intermediate_size,
  });
  return activation(m, dense, config.hidden_act);
}

/** ViTOutput: dense, plus the residual it receives. */
function output(m: Module, x: Value, residual: Value, config: ViTConfig): Value {
  const dense = linear(m.child('dense'), x, {
    inFeatures: config.intermediate_size,
    outFeatures: config.hidden_size,
  });
  return m.op('Add', [dense, residual], {}, { label: 'Add_residual' });
}

/** ViTLayer: pre-norm attention and MLP, each with a residual. */
function layer(m: Module, x: Value, config: ViTConfig): Value {
  const norm = { size: config.hidden_size, eps: config.layer_norm_eps };
  const attended = attention(m.child('attention'), layerNorm(m.child('layernorm_before'), x, norm), config);
  const hidden = m.op('Add', [attended, x], {}, { label: 'Add_residual' });
  const mlp = intermediate(
    m.child('intermediate'),
    layerNorm(m.child('layernorm_after'), hidden, norm),
    config,
  );
  return output(m.child('output'), mlp, hidden, config);
}

/** ViTEncoder: the layers in order. */
function encoder(m: Module, x: Value, config: ViTConfig): Value {
  let hidden = x;
  for (let i = 0; i < config.num_hidden_layers; i++) hidden = layer(m.child('layer', i), hidden, config);
  return hidden;
}

/** hidden_states[:, 0]: the CLS token's state, [batch, hidden]. */
function firstToken(m: Module, x: Value): Value {
  return m.op('Gather', [x, m.int64('first_token', 0)], { axis: 1 }, { label: 'Gather_first_token' });
}

/** ViTPooler: dense + tanh on the CLS token. */
function pooler(m: Module, sequence: Value, config: ViTConfig): Value {
  const dense = linear(m.child('dense'), firstToken(m, sequence), {
    inFeatures: config.hidden_size,
    outFeatures: config.hidden_size,
  });
  return m.op('Tanh', [dense]);
}

/** ViTModel's forward up to the final layernorm: last_hidden_state [batch, 1 + patches, hidden]. */
function vitModel(m: Module, pixels: Value, config: ViTConfig, boolMaskedPos?: Value): Value {
  const embedded = embeddings(m.child('embeddings'), pixels, config, boolMaskedPos);
  const encoded = encoder(m.child('encoder'), embedded, config);
  return layerNorm(m.child('layernorm'), encoded, { size: config.hidden_size, eps: config.layer_norm_eps });
}

/** pixel_values float32 [batch_size, num_channels, image_size, image_size]: the exported graphs' input. */
function pixelInput(root: Module, config: ViTConfig): Value {
  return root.graph.input('pixel_values', 'float32', [
    BATCH,
    config.num_channels,
    config.image_size,
    config.image_size,
  ]);
}

export interface ViTModelGraphOptions extends GraphBuildOptions {
  /** Whether to build the pooler (`pooler_output`); default: when the checkpoint has `pooler.dense.weight`. */
  readonly addPoolingLayer?: boolean;
}

/**
 * `ViTModel`: pixel_values -> last_hidden_state [batch_size, 1 + patches, hidden] and, with a pooler,
 * pooler_output [batch_size, hidden]. Keys without prefix (`embeddings.cls_token`, `pooler.dense.weight`).
 *
 * @example
 * ```ts
 * import { openSafetensors, writeOnnxModel } from '@ortvision/core';
 * import { ViTConfig, buildViTModel } from '@ortvision/vit';
 * const config = await ViTConfig.fromPretrained('./vit-base');
 * const checkpoint = await openSafetensors('./vit-base/model.safetensors');
 * await writeOnnxModel(buildViTModel(config, checkpoint).graph, './vit-base/onnx/model.onnx');
 * ```
 */
export function buildViTModel(
  config: ViTConfig,
  checkpoint: Checkpoint,
  options?: ViTModelGraphOptions,
): BuiltGraph {
  return buildModelGraph('ViTModel', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config);
    const sequence = vitModel(root, pixels, config);
    const hidden = config.hidden_size;
    root.graph.output(sequence, 'last_hidden_state', 'float32', [BATCH, config.numPatches + 1, hidden]);
    if (options?.addPoolingLayer ?? root.hasWeight('pooler.dense.weight')) {
      root.graph.output(pooler(root.child('pooler'), sequence, config), 'pooler_output', 'float32', [
        BATCH,
        hidden,
      ]);
    }
  });
}

/**
 * `ViTForImageClassification`: pixel_values -> logits [batch_size, num_labels] from the CLS token of ViTModel
 * (built without pooler, as transformers does for this head). Keys `vit.*` and `classifier.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildViTForImageClassification(config, checkpoint, { dtype: 'q8' });
 * await writeOnnxModel(graph, './vit/onnx/model_quantized.onnx');
 * ```
 */
export function buildViTForImageClassification(
  config: ViTConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('ViTForImageClassification', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config);
    const cls = firstToken(root, vitModel(root.child('vit'), pixels, config));
    const labels = config.numLabels;
    // transformers replaces the classifier by nn.Identity when num_labels is 0: the logits are then the CLS state.
    const logits =
      labels > 0
        ? linear(root.child('classifier'), cls, { inFeatures: config.hidden_size, outFeatures: labels })
        : cls;
    root.graph.output(logits, 'logits', 'float32', [BATCH, labels > 0 ? labels : config.hidden_size]);
  });
}

/**
 * `ViTForMaskedImageModeling` (SimMIM): pixel_values and bool_masked_pos bool [batch_size, patches] ->
 * reconstruction [batch_size, num_channels, image_size, image_size], decoded from the patch tokens by a 1x1 conv
 * and PixelShuffle(encoder_stride). Keys `vit.*` (with `vit.embeddings.mask_token`) and `decoder.0.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildViTForMaskedImageModeling(config, checkpoint);
 * await writeOnnxModel(graph, './vit-mim/onnx/model.onnx');
 * ```
 */
export function buildViTForMaskedImageModeling(
  config: ViTConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const {
    hidden_size: hidden,
    encoder_stride: stride,
    num_channels: channels,
    image_size,
    patch_size,
  } = config;
  if (patch_size !== stride) {
    // transformers raises the same for a forward with bool_masked_pos.
    throw new ConfigError(
      `ViTForMaskedImageModeling needs patch_size (${patch_size}) equal to encoder_stride (${stride}) to reconstruct the image`,
    );
  }
  return buildModelGraph('ViTForMaskedImageModeling', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config);
    const mask = root.graph.input('bool_masked_pos', 'bool', [BATCH, config.numPatches]);
    const sequence = vitModel(root.child('vit'), pixels, config, mask);
    // sequence_output[:, 1:].permute(0, 2, 1).reshape(batch, hidden, side, side)
    const side = Math.floor(image_size / patch_size);
    const patches = root.op('Slice', [
      sequence,
      root.int64s('patch_start', [1]),
      root.int64s('patch_end', [2 ** 62]),
      root.int64s('patch_axis', [1]),
    ]);
    const grid = root.op('Reshape', [
      root.op('Transpose', [patches], { perm: [0, 2, 1] }),
      root.int64s('grid_shape', [0, hidden, side, side]),
    ]);
    const decoder = root.child('decoder');
    const projected = conv(decoder.child(0), grid, {
      inChannels: hidden,
      outChannels: stride * stride * channels,
      kernelSize: [1, 1],
    });
    // PixelShuffle(r) is DepthToSpace in CRD order: channel c·r² + i·r + j goes to pixel (i, j) of channel c.
    const reconstruction = decoder.op('DepthToSpace', [projected], { blocksize: stride, mode: 'CRD' });
    root.graph.output(reconstruction, 'reconstruction', 'float32', [
      BATCH,
      channels,
      side * stride,
      side * stride,
    ]);
  });
}

/**
 * The graph builder of each ViT model class, by transformers' class name: what the load path calls to build a
 * class's `onnx/model.onnx` from a checkpoint.
 */
export const vitGraphBuilders = {
  ViTModel: buildViTModel,
  ViTForImageClassification: buildViTForImageClassification,
  ViTForMaskedImageModeling: buildViTForMaskedImageModeling,
} as const satisfies Record<string, ModelGraphBuilder<ViTConfig>>;

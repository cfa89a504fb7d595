import {
  type BuiltGraph,
  type CLIPEncoderConfig,
  type Checkpoint,
  ConfigError,
  type GraphBuildOptions,
  type ModelGraphBuilder,
  type Module,
  type Value,
  buildModelGraph,
  clipAttention,
  clipImageFeatures,
  clipMlp,
  clipTextFeatures,
  clipTextPooling,
  clipVisionTransformer,
  conv,
  convTranspose,
  layerNorm,
  linear,
} from '@ortvision/core';
import type { CLIPSegConfig } from './config.js';

// CLIPSeg as ONNX graphs, read top to bottom like transformers' modeling_clipseg.py (4.37): the CLIP towers come
// from core's layer library (CLIPSeg copies them from CLIP), the decoder is written here, one function per module.
// The four graphs are the ones the package runs (fixture clipseg's manifest): model (text prompts in one run),
// text_model / vision_model (CLIPSegModel.get_text_features / get_image_features: the prompt embeddings) and
// conditional_model (the segmentation from given embeddings).

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const CLIPSEG_GRAPH_VERSION = 2;

/** The batch dimension's symbolic name, as in the exported graphs (`fixtures/clipseg/onnx/*.onnx`). */
const BATCH = 'batch_size';

/**
 * pixel_values float32 [batch_size, num_channels, height, width]. The exported graphs fix height and width at the
 * processor's size, which config.json does not hold; the towers interpolate their position embeddings to any
 * input (CIDAS's processors resize to 352 for a tower trained at 224), so the built graphs leave both symbolic.
 */
function pixelInput(root: Module, config: CLIPSegConfig): Value {
  return root.graph.input('pixel_values', 'float32', [
    BATCH,
    config.vision_config.num_channels,
    'height',
    'width',
  ]);
}

/** input_ids and attention_mask, int64 [batch_size, sequence_length]. */
function textInputs(root: Module): [ids: Value, mask: Value] {
  return [
    root.graph.input('input_ids', 'int64', [BATCH, 'sequence_length']),
    root.graph.input('attention_mask', 'int64', [BATCH, 'sequence_length']),
  ];
}

/** CLIPSegModel.get_text_features at `clip` (`clip` of CLIPSegForImageSegmentation, or the model root). */
function textFeatures(clip: Module, ids: Value, mask: Value, config: CLIPSegConfig): Value {
  const text = config.text_config;
  return clipTextFeatures(clip, ids, mask, text, config.projection_dim, clipTextPooling(text.eos_token_id));
}

/**
 * The decoder's layer config: the vision tower's, resized to reduce_dim, with the decoder's heads and
 * intermediate size. transformers 4.37 sets its hidden_act to "relu" whatever config.decoder_hidden_act says.
 */
function decoderConfig(config: CLIPSegConfig): CLIPEncoderConfig {
  return {
    hidden_size: config.reduce_dim,
    num_attention_heads: config.decoder_num_attention_heads,
    intermediate_size: config.decoder_intermediate_size,
    num_hidden_layers: config.extract_layers.length,
    hidden_act: 'relu',
    layer_norm_eps: config.vision_config.layer_norm_eps,
  };
}

/** CLIPSegDecoderLayer: post-LN, layer_norm1(x + attention(x)), then layer_norm2(h + mlp(h)). */
function decoderLayer(m: Module, x: Value, config: CLIPEncoderConfig): Value {
  const norm = { size: config.hidden_size, eps: config.layer_norm_eps };
  const attended = clipAttention(m.child('self_attn'), x, config);
  const hidden = layerNorm(
    m.child('layer_norm1'),
    m.op('Add', [x, attended], {}, { label: 'Add_attention_residual' }),
    norm,
  );
  const mlp = clipMlp(m.child('mlp'), hidden, config);
  return layerNorm(
    m.child('layer_norm2'),
    m.op('Add', [hidden, mlp], {}, { label: 'Add_mlp_residual' }),
    norm,
  );
}

/**
 * The decoder's FiLM step: film_mul(c) * x + film_add(c) per prompt. transformers permutes x to [tokens, batch,
 * reduce] so that [prompts, reduce] broadcasts; unsqueezing the prompts' axis instead gives the same products and
 * lets ONE image broadcast over N prompts (fixture clipseg, model case text-batch3-image1).
 */
function film(m: Module, x: Value, conditional: Value, config: CLIPSegConfig): Value {
  const sizes = { inFeatures: config.projection_dim, outFeatures: config.reduce_dim };
  const perPrompt = (name: string) =>
    m.op(
      'Unsqueeze',
      [linear(m.child(name), conditional, sizes), m.int64s('token_axis', [1])],
      {},
      { label: `Unsqueeze_${name}` },
    );
  const scaled = m.op('Mul', [perPrompt('film_mul'), x], {}, { label: 'Mul_film' });
  return m.op('Add', [scaled, perPrompt('film_add')], {}, { label: 'Add_film' });
}

/**
 * CLIPSegDecoder's transposed_convolution: one ConvTranspose2d(reduce_dim, 1, patch, stride patch), or, with
 * use_complex_transposed_convolution (the "refined" checkpoints), Conv3x3 + ReLU + two ConvTranspose2d of kernel
 * and stride patch/4 with a ReLU between (Sequential indices 0, 2, 4).
 */
function transposedConvolution(m: Module, x: Value, config: CLIPSegConfig): Value {
  const reduce = config.reduce_dim;
  const patch = config.vision_config.patch_size;
  if (!config.use_complex_transposed_convolution) {
    return convTranspose(m, x, {
      inChannels: reduce,
      outChannels: 1,
      kernelSize: [patch, patch],
      stride: patch,
    });
  }
  const step = Math.floor(patch / 4);
  const convolved = conv(m.child(0), x, {
    inChannels: reduce,
    outChannels: reduce,
    kernelSize: [3, 3],
    padding: 1,
  });
  const up = convTranspose(m.child(2), m.child(1).op('Relu', [convolved]), {
    inChannels: reduce,
    outChannels: Math.floor(reduce / 2),
    kernelSize: [step, step],
    stride: step,
  });
  return convTranspose(m.child(4), m.child(3).op('Relu', [up]), {
    inChannels: Math.floor(reduce / 2),
    outChannels: 1,
    kernelSize: [step, step],
    stride: step,
  });
}

/**
 * CLIPSegDecoder at `m` (`decoder`): the activations of extract_layers, deepest first, each reduced to reduce_dim
 * and added to the running output, FiLM-conditioned at conditional_layer, through one decoder layer each; then the
 * patch tokens as a [batch, reduce_dim, rows, cols] map through the transposed convolutions, squeezed.
 */
function decoder(
  m: Module,
  activations: readonly Value[],
  conditional: Value,
  pixels: Value,
  config: CLIPSegConfig,
): Value {
  const layers = decoderConfig(config);
  const hidden = config.vision_config.hidden_size;
  let output: Value | undefined;
  for (const [i, activation] of [...activations].reverse().entries()) {
    const reduced = linear(m.child('reduces', i), activation, {
      inFeatures: hidden,
      outFeatures: config.reduce_dim,
    });
    output = output ? m.op('Add', [reduced, output], {}, { label: 'Add_reduced' }) : reduced;
    if (i === config.conditional_layer) output = film(m, output, conditional, config);
    output = decoderLayer(m.child('layers', i), output, layers);
  }
  // output[:, 1:].permute(0, 2, 1).view(batch, reduce_dim, size, size): transformers takes the batch from the
  // conditional embeddings and size from sqrt(patches); the output's own batch and the input's patch grid are the
  // same there, and also serve one prompt over N images and non-square inputs.
  const patches = m.op(
    'Slice',
    [output!, m.int64s('patch_start', [1]), m.int64s('patch_end', [2 ** 62]), m.int64s('token_axis', [1])],
    {},
    { label: 'Slice_patches' },
  );
  const patch = config.vision_config.patch_size;
  const grid = m.op(
    'Div',
    [
      m.op('Shape', [pixels], { start: 2 }, { label: 'Shape_pixels' }),
      m.int64s('patch_size', [patch, patch]),
    ],
    {},
    { label: 'Div_grid' },
  );
  const mapShape = m.op(
    'Concat',
    [m.int64s('map_shape_head', [0, config.reduce_dim]), grid],
    { axis: 0 },
    { label: 'Concat_map_shape' },
  );
  const map = m.op(
    'Reshape',
    [m.op('Transpose', [patches], { perm: [0, 2, 1] }, { label: 'Transpose_patches' }), mapShape],
    {},
    { label: 'Reshape_map' },
  );
  const logits = transposedConvolution(m.child('transposed_convolution'), map, config);
  // HF's `.squeeze()` without a dim: [batch, 1, H, W] -> [batch, H, W], and [H, W] for batch 1 (fixture clipseg,
  // model case text-batch1); the package unsqueezes.
  return m.op('Squeeze', [logits], {}, { label: 'Squeeze_logits' });
}

/**
 * The vision tower's activations the decoder reads, `hidden_states[i + 1]` for i in extract_layers. Only the layers
 * up to the deepest of them are built: the layers after it, post_layernorm and visual_projection never reach the
 * logits (torch's export leaves them out too).
 */
function visionActivations(clip: Module, pixels: Value, config: CLIPSegConfig): Value[] {
  const vision = config.vision_config;
  const layers = config.extract_layers;
  const bad = layers.find((i) => !Number.isInteger(i) || i < 0 || i >= vision.num_hidden_layers);
  if (bad !== undefined) {
    throw new ConfigError(
      `extract_layers [${layers.join(', ')}] holds ${bad}, which is not a layer of the ${vision.num_hidden_layers}-layer vision tower (expected 0 to ${vision.num_hidden_layers - 1})`,
    );
  }
  const { layerOutputs } = clipVisionTransformer(
    clip.child('vision_model'),
    pixels,
    { ...vision, num_hidden_layers: Math.max(...layers) + 1 },
    { interpolatePositions: true },
  );
  return layers.map((i) => layerOutputs[i]!);
}

/** logits [batch_size, height, width] (squeezed: [height, width] for batch 1). */
function logitsOutput(root: Module, logits: Value): void {
  root.graph.output(logits, 'logits', 'float32', [BATCH, 'height', 'width']);
}

/**
 * `CLIPSegForImageSegmentation` with text prompts (`onnx/model.onnx`): input_ids, attention_mask, pixel_values ->
 * logits [batch_size, height, width]. Keys `clip.*` and `decoder.*`.
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { CLIPSegConfig, buildCLIPSegForImageSegmentation } from '@ortvision/clipseg';
 * const config = await CLIPSegConfig.fromPretrained('./clipseg-rd64-refined');
 * const checkpoint = await openCheckpoint('./clipseg-rd64-refined');
 * await writeOnnxModel(buildCLIPSegForImageSegmentation(config, checkpoint).graph, './out/model.onnx');
 * ```
 */
export function buildCLIPSegForImageSegmentation(
  config: CLIPSegConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('CLIPSegForImageSegmentation', checkpoint, options, (root) => {
    const [ids, mask] = textInputs(root);
    const pixels = pixelInput(root, config);
    const clip = root.child('clip');
    const activations = visionActivations(clip, pixels, config);
    const conditional = textFeatures(clip, ids, mask, config);
    logitsOutput(root, decoder(root.child('decoder'), activations, conditional, pixels, config));
  });
}

/**
 * `CLIPSegForImageSegmentation` with given prompt embeddings (`onnx/conditional_model.onnx`): pixel_values and
 * conditional_embeddings [batch_size, projection_dim] (from text_model or vision_model) -> logits. Keys `clip.*`
 * (the vision tower) and `decoder.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildCLIPSegConditionalModel(config, checkpoint, { dtype: 'q8' });
 * await writeOnnxModel(graph, './out/conditional_model_quantized.onnx');
 * ```
 */
export function buildCLIPSegConditionalModel(
  config: CLIPSegConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  return buildModelGraph('CLIPSegForImageSegmentation.conditional', checkpoint, options, (root) => {
    const pixels = pixelInput(root, config);
    const conditional = root.graph.input('conditional_embeddings', 'float32', [BATCH, config.projection_dim]);
    const activations = visionActivations(root.child('clip'), pixels, config);
    logitsOutput(root, decoder(root.child('decoder'), activations, conditional, pixels, config));
  });
}

/** `CLIPSegModel.get_text_features` at the `clip` module (`clip.` prefixed) or at the root. */
function textModelBuilder(name: string, prefixed: boolean): ModelGraphBuilder<CLIPSegConfig> {
  return (config, checkpoint, options) =>
    buildModelGraph(name, checkpoint, options, (root) => {
      const [ids, mask] = textInputs(root);
      const clip = prefixed ? root.child('clip') : root;
      root.graph.output(textFeatures(clip, ids, mask, config), 'text_embeds', 'float32', [
        BATCH,
        config.projection_dim,
      ]);
    });
}

/** `CLIPSegModel.get_image_features` at the `clip` module (`clip.` prefixed) or at the root. */
function visionModelBuilder(name: string, prefixed: boolean): ModelGraphBuilder<CLIPSegConfig> {
  return (config, checkpoint, options) =>
    buildModelGraph(name, checkpoint, options, (root) => {
      const pixels = pixelInput(root, config);
      const clip = prefixed ? root.child('clip') : root;
      const features = clipImageFeatures(clip, pixels, config.vision_config, config.projection_dim, {
        interpolatePositions: true,
      });
      root.graph.output(features, 'image_embeds', 'float32', [BATCH, config.projection_dim]);
    });
}

/**
 * `CLIPSegModel.get_text_features` (`onnx/text_model.onnx`): input_ids, attention_mask -> text_embeds
 * [batch_size, projection_dim], not normalized. Keys `text_model.*`, `text_projection.weight`.
 *
 * @example
 * ```ts
 * const { graph } = buildCLIPSegTextFeatures(config, checkpoint);
 * ```
 */
export const buildCLIPSegTextFeatures = textModelBuilder('CLIPSegModel.get_text_features', false);

/**
 * `CLIPSegModel.get_image_features` (`onnx/vision_model.onnx`): pixel_values -> image_embeds [batch_size,
 * projection_dim], not normalized. Keys `vision_model.*`, `visual_projection.weight`.
 *
 * @example
 * ```ts
 * const { graph } = buildCLIPSegImageFeatures(config, checkpoint);
 * ```
 */
export const buildCLIPSegImageFeatures = visionModelBuilder('CLIPSegModel.get_image_features', false);

/**
 * The graph builders of each CLIPSeg model class, by transformers' class name and graph key (`onnx/<key>.onnx`):
 * what `static checkpointGraphs` declares. CLIPSegForImageSegmentation reads the towers under `clip.`.
 */
export const clipsegGraphBuilders = {
  CLIPSegTextModel: { text_model: buildCLIPSegTextFeatures },
  CLIPSegVisionModel: { vision_model: buildCLIPSegImageFeatures },
  CLIPSegModel: { text_model: buildCLIPSegTextFeatures, vision_model: buildCLIPSegImageFeatures },
  CLIPSegForImageSegmentation: {
    model: buildCLIPSegForImageSegmentation,
    text_model: textModelBuilder('CLIPSegForImageSegmentation.clip.get_text_features', true),
    vision_model: visionModelBuilder('CLIPSegForImageSegmentation.clip.get_image_features', true),
    conditional_model: buildCLIPSegConditionalModel,
  },
} as const satisfies Record<string, Record<string, ModelGraphBuilder<CLIPSegConfig>>>;

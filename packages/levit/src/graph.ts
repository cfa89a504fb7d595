import {
  type BuiltGraph,
  type Checkpoint,
  ConfigError,
  type FoldedBatchNorm,
  type GraphBuildOptions,
  type ModelGraphBuilder,
  type Module,
  type Value,
  activation,
  attendHeads,
  buildModelGraph,
  conv,
  linear,
} from '@ortvision/core';
import type { LevitConfig } from './config.js';

// The LeViT architecture as ONNX graphs, read top to bottom like transformers' modeling_levit.py (4.37): one
// function per module, named as the module, taking the module's place in the state dict. What differs from a plain
// reading of the Python says so where it happens. Two things hold throughout:
// - Every BatchNorm is folded into the Conv or Linear beside it (eval mode): Conv+BN in the patch embeddings,
//   Linear+BN in every MLPLayerWithBN, BN+Linear in the classification heads. The same function, rounded once.
// - The input size is fixed at config.image_size: the attention biases are gathered at build time for the token
//   grid of that size, as transformers caches them in eval mode and as the exported graphs have them.

/**
 * Bumped whenever the graphs built here change (nodes, names, numerics), so graphs cached from an older build are
 * rebuilt.
 */
export const LEVIT_GRAPH_VERSION = 1;

/** The batch dimension's symbolic name, as in the exported graphs (`fixtures/levit-*\/onnx/model.onnx`). */
const BATCH = 'batch_size';

/** LeViT's BatchNorms are built with torch's default eps; the config has no field for it. */
const BATCH_NORM_EPS = 1e-5;

/** One residual or subsampling layer of a stage, with the sizes its module is built with. */
type LevitLayer =
  | {
      readonly kind: 'attention';
      readonly hidden: number;
      readonly keyDim: number;
      readonly heads: number;
      readonly attentionRatio: number;
      readonly resolution: number;
    }
  | { readonly kind: 'mlp'; readonly hidden: number; readonly hiddenDim: number }
  | {
      readonly kind: 'subsample';
      readonly inputDim: number;
      readonly outputDim: number;
      readonly keyDim: number;
      readonly heads: number;
      readonly attentionRatio: number;
      readonly stride: number;
      readonly resolutionIn: number;
      readonly resolutionOut: number;
    };

/** The encoder as LevitEncoder / LevitStage build it from the config: layers per stage, in state-dict order. */
export interface LevitPlan {
  /** Tokens per side after the patch embeddings (image_size // patch_size). */
  readonly resolution: number;
  readonly stages: readonly (readonly LevitLayer[])[];
  /** Tokens per side at the end of the encoder. */
  readonly finalResolution: number;
  readonly hiddenSize: number;
}

function whole(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`LeViT config: ${name} = ${value} is not a positive whole size`);
  }
  return value;
}

/** The side of the patch embeddings' output: four Conv2d(kernel_size, stride, padding) in a row. */
function convolvedSide(config: LevitConfig): number {
  let side = config.image_size;
  for (let i = 0; i < 4; i++) {
    side = Math.floor((side + 2 * config.padding - config.kernel_size) / config.stride) + 1;
  }
  return side;
}

/**
 * A down_ops entry ['Subsample', key_dim, num_heads, attention_ratio, mlp_ratio, stride] as its five numbers, or
 * undefined for any other entry.
 */
function subsampleOp(
  config: LevitConfig,
  stage: number,
): [keyDim: number, heads: number, attentionRatio: number, mlpRatio: number, stride: number] | undefined {
  const op = config.down_ops[stage];
  // transformers appends [''] for the last stage when it builds the encoder (and checkpoints saved after that
  // carry it in config.json): anything but 'Subsample' means no downsampling, as in LevitStage.
  if (!op || op[0] !== 'Subsample') return undefined;
  const [, keyDim, heads, attentionRatio, mlpRatio, stride] = op;
  const numbers = [keyDim, heads, attentionRatio, mlpRatio, stride];
  if (!numbers.every((v) => typeof v === 'number')) {
    throw new ConfigError(
      `LeViT config: down_ops[${stage}] = ${JSON.stringify(op)} is not ['Subsample', key_dim, num_heads, attention_ratio, mlp_ratio, stride]`,
    );
  }
  return numbers as [number, number, number, number, number];
}

/**
 * The layers LevitEncoder builds for a config: per stage, `depths[i]` attention layers each followed by an MLP
 * (when mlp_ratio > 0), then, where down_ops says 'Subsample', a LevitAttentionSubsample to the next stage's width
 * and its MLP. A config transformers could not run (sizes that do not divide, a patch grid other than
 * image_size // patch_size) is a `ConfigError`.
 *
 * @example
 * ```ts
 * const plan = levitPlan(await LevitConfig.fromPretrained('facebook/levit-256'));
 * plan.resolution; // 14 (224 / 16)
 * plan.finalResolution; // 4
 * ```
 */
export function levitPlan(config: LevitConfig): LevitPlan {
  const stageCount = config.depths.length;
  const perStage = {
    hidden_sizes: config.hidden_sizes,
    num_attention_heads: config.num_attention_heads,
    key_dim: config.key_dim,
    attention_ratio: config.attention_ratio,
    mlp_ratio: config.mlp_ratio,
  };
  for (const [name, values] of Object.entries(perStage)) {
    if (values.length !== stageCount) {
      throw new ConfigError(
        `LeViT config: ${name} has ${values.length} entries, but depths has ${stageCount} stages (one entry per stage)`,
      );
    }
  }
  const resolution = Math.floor(config.image_size / config.patch_size);
  const side = convolvedSide(config);
  if (side !== resolution) {
    // transformers sizes the attention biases for image_size // patch_size tokens per side and fails at the first
    // attention when the convolutions give another grid.
    throw new ConfigError(
      `LeViT config: image_size ${config.image_size} gives ${side}x${side} tokens after the patch embeddings, but the attention biases are sized for image_size // patch_size = ${resolution}`,
    );
  }
  let resolutionIn = resolution;
  const stages: LevitLayer[][] = [];
  for (let i = 0; i < stageCount; i++) {
    const hidden = config.hidden_sizes[i]!;
    const keyDim = config.key_dim[i]!;
    const heads = config.num_attention_heads[i]!;
    const layers: LevitLayer[] = [];
    whole(`attention_ratio[${i}] * key_dim[${i}]`, config.attention_ratio[i]! * keyDim);
    for (let d = 0; d < config.depths[i]!; d++) {
      layers.push({
        kind: 'attention',
        hidden,
        keyDim,
        heads,
        attentionRatio: config.attention_ratio[i]!,
        resolution: resolutionIn,
      });
      const mlpRatio = config.mlp_ratio[i]!;
      if (mlpRatio > 0) {
        layers.push({
          kind: 'mlp',
          hidden,
          hiddenDim: whole(`hidden_sizes[${i}] * mlp_ratio[${i}]`, hidden * mlpRatio),
        });
      }
    }
    const down = subsampleOp(config, i);
    if (down) {
      const [keyDim, heads, attentionRatio, mlpRatio, stride] = down;
      const outputDim = config.hidden_sizes[i + 1];
      if (outputDim === undefined) {
        throw new ConfigError(
          `LeViT config: down_ops[${i}] subsamples after the last stage, which has no next hidden size to go to`,
        );
      }
      whole(`down_ops[${i}] attention_ratio * key_dim`, attentionRatio * keyDim);
      const resolutionOut = Math.floor((resolutionIn - 1) / whole(`down_ops[${i}] stride`, stride)) + 1;
      layers.push({
        kind: 'subsample',
        inputDim: hidden,
        outputDim,
        keyDim,
        heads,
        attentionRatio,
        stride,
        resolutionIn,
        resolutionOut,
      });
      resolutionIn = resolutionOut;
      if (mlpRatio > 0) {
        layers.push({
          kind: 'mlp',
          hidden: outputDim,
          hiddenDim: whole(`hidden_sizes[${i + 1}] * down_ops[${i}] mlp_ratio`, outputDim * mlpRatio),
        });
      }
    }
    stages.push(layers);
  }
  return { resolution, stages, finalResolution: resolutionIn, hiddenSize: config.hidden_sizes.at(-1)! };
}

/**
 * transformers' attention_bias_idxs: for every (query point, key point) of the token grids, the index of their
 * offset (|Δrow|, |Δcol|) among the distinct offsets in order of first appearance. A query point (i, j) of the
 * output grid sits at (i·stride, j·stride) of the input grid (stride 1 and equal grids for LevitAttention).
 *
 * @example
 * ```ts
 * const { indices, offsets } = attentionBiasIndices(14, 7, 2); // LeViT-256's first subsample
 * offsets; // 196: attention_biases is [heads, 196]; indices has 49 × 196 entries
 * ```
 */
export function attentionBiasIndices(
  resolutionIn: number,
  resolutionOut: number,
  stride: number,
): { indices: Int32Array; offsets: number } {
  const known = new Map<number, number>();
  const indices = new Int32Array(resolutionOut ** 2 * resolutionIn ** 2);
  let n = 0;
  for (let qi = 0; qi < resolutionOut; qi++) {
    for (let qj = 0; qj < resolutionOut; qj++) {
      for (let ki = 0; ki < resolutionIn; ki++) {
        for (let kj = 0; kj < resolutionIn; kj++) {
          // Each axis's offset is below resolutionIn · stride: one number names the pair.
          const offset = Math.abs(qi * stride - ki) * resolutionIn * stride + Math.abs(qj * stride - kj);
          let index = known.get(offset);
          if (index === undefined) {
            index = known.size;
            known.set(offset, index);
          }
          indices[n++] = index;
        }
      }
    }
  }
  return { indices, offsets: known.size };
}

/**
 * attention_biases[:, attention_bias_idxs] as one initializer [heads, queries, keys] (`.../attention_biases/gathered`),
 * computed when the graph is written: the table transformers caches in eval mode, added to every batch's scores.
 * It stays float32 in every dtype: it is an addend of the softmax's input, not a matrix (at most 2.5 MB at 224 px).
 */
function attentionBiases(
  m: Module,
  heads: number,
  resolutionIn: number,
  resolutionOut: number,
  stride: number,
): Value {
  const { indices, offsets } = attentionBiasIndices(resolutionIn, resolutionOut, stride);
  const key = m.weight('attention_biases', [heads, offsets]).key;
  const queries = resolutionOut ** 2;
  const keys = resolutionIn ** 2;
  const [gathered] = m.derived(
    [key],
    [{ suffix: 'gathered', dtype: 'float32', dims: [heads, queries, keys] }],
    async (read) => {
      const biases = await read(key);
      const table = new Float32Array(heads * indices.length);
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < indices.length; i++)
          table[h * indices.length + i] = biases[h * offsets + indices[i]!]!;
      }
      return [table];
    },
  );
  return gathered!;
}

/** nn.Hardswish at module `m` (`activation`, `activation_layer_1`, ...). */
function hardswish(m: Module, x: Value): Value {
  return activation(m, x, 'hardswish');
}

/** An eval-mode BatchNorm at `m.batch_norm`, to be folded into the layer beside it. */
function batchNormOf(m: Module): FoldedBatchNorm {
  return { module: m.child('batch_norm'), eps: BATCH_NORM_EPS };
}

/** LevitConvEmbeddings: Conv2d (no bias) then BatchNorm2d, folded into one Conv. */
function convEmbeddings(
  m: Module,
  x: Value,
  inChannels: number,
  outChannels: number,
  config: LevitConfig,
): Value {
  return conv(m.child('convolution'), x, {
    inChannels,
    outChannels,
    kernelSize: [config.kernel_size, config.kernel_size],
    stride: config.stride,
    padding: config.padding,
    bias: false,
    batchNorm: batchNormOf(m),
  });
}

/** LevitPatchEmbeddings: four conv embeddings (hardswish between them), flatten(2).transpose(1, 2). */
function patchEmbeddings(m: Module, pixels: Value, config: LevitConfig): Value {
  const hidden = config.hidden_sizes[0]!;
  const channels = [config.num_channels, ...[8, 4, 2, 1].map((d) => Math.floor(hidden / d))];
  let x = pixels;
  for (let i = 1; i <= 4; i++) {
    x = convEmbeddings(m.child(`embedding_layer_${i}`), x, channels[i - 1]!, channels[i]!, config);
    if (i < 4) x = hardswish(m.child(`activation_layer_${i}`), x);
  }
  const flat = m.op('Reshape', [x, m.int64s('flatten_shape', [0, 0, -1])]);
  return m.op('Transpose', [flat], { perm: [0, 2, 1] });
}

/**
 * MLPLayerWithBN: Linear (no bias) then BatchNorm1d over the flattened tokens, folded into one Linear. (The Python
 * flattens batch and tokens for BatchNorm1d; eval-mode BatchNorm is per channel, so the folded layer needs no reshape.)
 */
function mlpLayerWithBN(m: Module, x: Value, inputDim: number, outputDim: number): Value {
  return linear(m.child('linear'), x, {
    inFeatures: inputDim,
    outFeatures: outputDim,
    bias: false,
    batchNorm: batchNormOf(m),
  });
}

/** [batch, tokens, heads·(parts)] -> one [batch, heads, tokens, part] per part (keys as [batch, heads, part, tokens]). */
function splitHeads(
  m: Module,
  x: Value,
  heads: number,
  parts: readonly { size: number; keys?: boolean }[],
): Value[] {
  // .view(batch, tokens, heads, -1).split(sizes, dim=3): each head holds its own query|key|value block.
  const perHead = m.op('Reshape', [x, m.int64s('heads_shape', [0, 0, heads, -1])]);
  const split = m.ops(
    'Split',
    [
      perHead,
      m.int64s(
        'split_sizes',
        parts.map((p) => p.size),
      ),
    ],
    parts.length,
    { axis: 3 },
  );
  return split.map((part, i) =>
    m.op('Transpose', [part], { perm: parts[i]!.keys ? [0, 2, 3, 1] : [0, 2, 1, 3] }),
  );
}

/**
 * LevitAttention: queries_keys_values, per-head split, softmax(Q·Kᵀ·key_dim^-0.5 + attention biases)·V, hardswish,
 * projection.
 */
function levitAttention(m: Module, x: Value, layer: Extract<LevitLayer, { kind: 'attention' }>): Value {
  const { hidden, keyDim, heads, attentionRatio, resolution } = layer;
  const valueDim = attentionRatio * keyDim;
  const qkv = mlpLayerWithBN(m.child('queries_keys_values'), x, hidden, heads * (2 * keyDim + valueDim));
  const [queries, keysT, values] = splitHeads(m, qkv, heads, [
    { size: keyDim },
    { size: keyDim, keys: true },
    { size: valueDim },
  ]);
  const context = attendHeads(m, queries!, keysT!, values!, {
    numHeads: heads,
    valueHeadDim: valueDim,
    scale: keyDim ** -0.5,
    scoreBias: attentionBiases(m, heads, resolution, resolution, 1),
  });
  return mlpLayerWithBN(
    m.child('projection'),
    hardswish(m.child('activation'), context),
    heads * valueDim,
    hidden,
  );
}

/** LevitSubsample: the tokens as a [resolution, resolution] grid, every stride-th row and column kept. */
function levitSubsample(m: Module, x: Value, stride: number, resolution: number, channels: number): Value {
  const grid = m.op('Reshape', [x, m.int64s('grid_shape', [0, resolution, resolution, channels])]);
  const kept = m.op('Slice', [
    grid,
    m.int64s('starts', [0, 0]),
    m.int64s('ends', [resolution, resolution]),
    m.int64s('axes', [1, 2]),
    m.int64s('steps', [stride, stride]),
  ]);
  return m.op('Reshape', [kept, m.int64s('tokens_shape', [0, -1, channels])]);
}

/**
 * LevitAttentionSubsample: keys and values from every token, queries from the subsampled grid, so the output has
 * resolution_out² tokens of output_dim (no residual around it).
 */
function levitAttentionSubsample(
  m: Module,
  x: Value,
  layer: Extract<LevitLayer, { kind: 'subsample' }>,
): Value {
  const { inputDim, outputDim, keyDim, heads, attentionRatio, stride, resolutionIn, resolutionOut } = layer;
  const valueDim = attentionRatio * keyDim;
  const kv = mlpLayerWithBN(m.child('keys_values'), x, inputDim, heads * (keyDim + valueDim));
  const [keysT, values] = splitHeads(m, kv, heads, [{ size: keyDim, keys: true }, { size: valueDim }]);
  const subsampled = levitSubsample(m.child('queries_subsample'), x, stride, resolutionIn, inputDim);
  const q = mlpLayerWithBN(m.child('queries'), subsampled, inputDim, heads * keyDim);
  const queryHeads = m.op('Reshape', [
    q,
    m.int64s('query_heads_shape', [0, resolutionOut ** 2, heads, keyDim]),
  ]);
  const queries = m.op('Transpose', [queryHeads], { perm: [0, 2, 1, 3] }, { label: 'Transpose_query' });
  const context = attendHeads(m, queries, keysT!, values!, {
    numHeads: heads,
    valueHeadDim: valueDim,
    scale: keyDim ** -0.5,
    scoreBias: attentionBiases(m, heads, resolutionIn, resolutionOut, stride),
  });
  return mlpLayerWithBN(
    m.child('projection'),
    hardswish(m.child('activation'), context),
    heads * valueDim,
    outputDim,
  );
}

/** LevitMLPLayer: linear_up, hardswish, linear_down. */
function levitMLPLayer(m: Module, x: Value, hidden: number, hiddenDim: number): Value {
  const up = mlpLayerWithBN(m.child('linear_up'), x, hidden, hiddenDim);
  return mlpLayerWithBN(m.child('linear_down'), hardswish(m.child('activation'), up), hiddenDim, hidden);
}

/** LevitResidualLayer: x + module(x) (drop path is training-only). */
function residualLayer(m: Module, x: Value, module: (inner: Module, x: Value) => Value): Value {
  return m.op('Add', [x, module(m.child('module'), x)], {}, { label: 'Add_residual' });
}

/** LevitStage: its layers in order. */
function levitStage(m: Module, x: Value, layers: readonly LevitLayer[]): Value {
  let hidden = x;
  for (const [j, layer] of layers.entries()) {
    const at = m.child('layers', j);
    if (layer.kind === 'attention')
      hidden = residualLayer(at, hidden, (inner, h) => levitAttention(inner, h, layer));
    else if (layer.kind === 'mlp') {
      hidden = residualLayer(at, hidden, (inner, h) =>
        levitMLPLayer(inner, h, layer.hidden, layer.hiddenDim),
      );
    } else hidden = levitAttentionSubsample(at, hidden, layer);
  }
  return hidden;
}

/** LevitModel's forward: last_hidden_state [batch, final_resolution², hidden_sizes[-1]]. */
function levitModel(m: Module, pixels: Value, config: LevitConfig, plan: LevitPlan): Value {
  let hidden = patchEmbeddings(m.child('patch_embeddings'), pixels, config);
  const encoder = m.child('encoder');
  for (const [i, layers] of plan.stages.entries())
    hidden = levitStage(encoder.child('stages', i), hidden, layers);
  return hidden;
}

/** last_hidden_state.mean(dim=1): global average pooling over the tokens. */
function meanOverTokens(m: Module, x: Value): Value {
  // ai.onnx 17's ReduceMean takes its axes as an attribute.
  return m.op('ReduceMean', [x], { axes: [1], keepdims: 0 }, { label: 'ReduceMean_tokens' });
}

/**
 * LevitClassificationLayer: BatchNorm1d then Linear, folded into one Linear; transformers' nn.Identity when
 * num_labels is 0 (the logits are then the pooled features).
 */
function classificationLayer(m: Module, pooled: Value, config: LevitConfig, plan: LevitPlan): Value {
  if (config.numLabels === 0) return pooled;
  return linear(m.child('linear'), pooled, {
    inFeatures: plan.hiddenSize,
    outFeatures: config.numLabels,
    inputBatchNorm: batchNormOf(m),
  });
}

/** pixel_values float32 [batch_size, num_channels, image_size, image_size]: the exported graphs' input. */
function pixelInput(root: Module, config: LevitConfig): Value {
  return root.graph.input('pixel_values', 'float32', [
    BATCH,
    config.num_channels,
    config.image_size,
    config.image_size,
  ]);
}

/** What both classification models feed their heads: `levit` on pixel_values, then the mean over tokens. */
function pooledFeatures(root: Module, config: LevitConfig, plan: LevitPlan): Value {
  return meanOverTokens(root, levitModel(root.child('levit'), pixelInput(root, config), config, plan));
}

/** The logits' dims: [batch_size, num_labels], or the pooled width when there is no classifier. */
function logitsDims(config: LevitConfig, plan: LevitPlan): (number | string)[] {
  return [BATCH, config.numLabels > 0 ? config.numLabels : plan.hiddenSize];
}

/**
 * `LevitModel`: pixel_values -> last_hidden_state [batch_size, tokens, hidden_sizes[-1]] and pooler_output
 * [batch_size, hidden_sizes[-1]] (the mean over tokens, in the graph). Keys without prefix
 * (`patch_embeddings.embedding_layer_1.convolution.weight`).
 *
 * @example
 * ```ts
 * import { openCheckpoint, writeOnnxModel } from '@ortvision/core';
 * import { LevitConfig, buildLevitModel } from '@ortvision/levit';
 * const config = await LevitConfig.fromPretrained('./levit-base');
 * const checkpoint = await openCheckpoint('./levit-base');
 * await writeOnnxModel(buildLevitModel(config, checkpoint).graph, './levit-base/onnx/model.onnx');
 * await checkpoint.close();
 * ```
 */
export function buildLevitModel(
  config: LevitConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const plan = levitPlan(config);
  return buildModelGraph('LevitModel', checkpoint, options, (root) => {
    const sequence = levitModel(root, pixelInput(root, config), config, plan);
    const tokens = plan.finalResolution ** 2;
    root.graph.output(sequence, 'last_hidden_state', 'float32', [BATCH, tokens, plan.hiddenSize]);
    root.graph.output(meanOverTokens(root, sequence), 'pooler_output', 'float32', [BATCH, plan.hiddenSize]);
  });
}

/**
 * `LevitForImageClassification`: pixel_values -> logits [batch_size, num_labels] from the mean over tokens. Keys
 * `levit.*` and `classifier.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildLevitForImageClassification(config, checkpoint, { dtype: 'q8' });
 * await writeOnnxModel(graph, './levit/onnx/model_quantized.onnx');
 * ```
 */
export function buildLevitForImageClassification(
  config: LevitConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const plan = levitPlan(config);
  return buildModelGraph('LevitForImageClassification', checkpoint, options, (root) => {
    const pooled = pooledFeatures(root, config, plan);
    const logits = classificationLayer(root.child('classifier'), pooled, config, plan);
    root.graph.output(logits, 'logits', 'float32', logitsDims(config, plan));
  });
}

/**
 * `LevitForImageClassificationWithTeacher` (facebook/levit-*): pixel_values -> logits = (cls_logits +
 * distillation_logits) / 2, cls_logits and distillation_logits, each [batch_size, num_labels]. Keys `levit.*`,
 * `classifier.*` and `classifier_distill.*`.
 *
 * @example
 * ```ts
 * const { graph } = buildLevitForImageClassificationWithTeacher(config, checkpoint);
 * await writeOnnxModel(graph, './levit-256/onnx/model.onnx');
 * ```
 */
export function buildLevitForImageClassificationWithTeacher(
  config: LevitConfig,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
): BuiltGraph {
  const plan = levitPlan(config);
  return buildModelGraph('LevitForImageClassificationWithTeacher', checkpoint, options, (root) => {
    const pooled = pooledFeatures(root, config, plan);
    const cls = classificationLayer(root.child('classifier'), pooled, config, plan);
    const distill = classificationLayer(root.child('classifier_distill'), pooled, config, plan);
    const sum = root.op('Add', [cls, distill], {}, { label: 'Add_heads' });
    const logits = root.op('Div', [sum, root.float32('two', 2)], {}, { label: 'Div_heads' });
    const dims = logitsDims(config, plan);
    root.graph.output(logits, 'logits', 'float32', dims);
    root.graph.output(cls, 'cls_logits', 'float32', dims);
    root.graph.output(distill, 'distillation_logits', 'float32', dims);
  });
}

/**
 * The graph builder of each LeViT model class, by transformers' class name: what the load path calls to build a
 * class's `onnx/model.onnx` from a checkpoint.
 */
export const levitGraphBuilders = {
  LevitModel: buildLevitModel,
  LevitForImageClassification: buildLevitForImageClassification,
  LevitForImageClassificationWithTeacher: buildLevitForImageClassificationWithTeacher,
} as const satisfies Record<string, ModelGraphBuilder<LevitConfig>>;

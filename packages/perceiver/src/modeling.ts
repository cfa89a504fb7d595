import {
  type CheckpointGraphs,
  InputShapeError,
  InvalidArgumentError,
  type ModelClassRegistry,
  type ModelGraphBuilder,
  PreTrainedModel,
  type RunOptions,
  Tensor,
} from '@ortvision/core';
import { PerceiverConfig } from './config.js';
import {
  PERCEIVER_GRAPH_VERSION,
  buildPerceiverForImageClassificationConvProcessing,
  buildPerceiverForImageClassificationFourier,
  buildPerceiverForImageClassificationLearned,
  buildPerceiverForMaskedLM,
  buildPerceiverForMultimodalAutoencoding,
  buildPerceiverForOpticalFlow,
  buildPerceiverForSequenceClassification,
  buildPerceiverModel,
  buildPerceiverModelNoPreprocessor,
} from './graph.js';

/** The CheckpointGraphs of a head model: keys under `perceiver.` plus the head's own, one graph `model`. */
function headGraphs(build: ModelGraphBuilder<PerceiverConfig>): CheckpointGraphs<PerceiverConfig> {
  return {
    version: PERCEIVER_GRAPH_VERSION,
    baseModelPrefix: 'perceiver',
    expectsPrefix: true,
    graphs: { model: build },
  };
}

// Inputs are type aliases, not interfaces: aliases are assignable to the base class's `NamedTensors` record.

/** Tokenized text (PerceiverTokenizer): int64 [batch, seq], seq <= max_position_embeddings. */
export type PerceiverTextInputs = {
  input_ids: Tensor<'int64'>;
  /** Default: all ones (no padding). */
  attention_mask?: Tensor<'int64'>;
};

/** Already embedded inputs of the bare PerceiverModel: float32 [batch, seq, d_model]. */
export type PerceiverEmbeddingInputs = {
  inputs: Tensor<'float32'>;
  /** Default: all ones. */
  attention_mask?: Tensor<'int64'>;
};

/** pixel_values float32 [batch, 3, S, S] (S fixed by the exported graph). */
export type PerceiverImageInputs = { pixel_values: Tensor<'float32'> };

const dimsOf = (tensor: Tensor) => `[${tensor.dims.join(', ')}]`;

function ones(dims: readonly number[]): Tensor<'int64'> {
  return new Tensor('int64', new BigInt64Array(dims[0]! * dims[1]!).fill(1n), dims);
}

/** Checks token ids and mask before ONNX Runtime sees them; fills a missing mask with ones. */
function textFeeds(
  inputs: PerceiverTextInputs,
  config: PerceiverConfig,
): { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> } {
  const { input_ids } = inputs;
  if (!(input_ids instanceof Tensor) || input_ids.dtype !== 'int64' || input_ids.rank !== 2) {
    throw new InputShapeError(
      `input_ids must be an int64 tensor [batch, seq] (from PerceiverTokenizer.encode), got ${input_ids instanceof Tensor ? `${input_ids.dtype} ${dimsOf(input_ids)}` : typeof input_ids}`,
    );
  }
  const seq = input_ids.dims[1]!;
  if (seq > config.max_position_embeddings) {
    throw new InputShapeError(
      `input_ids has ${seq} tokens, more than max_position_embeddings ${config.max_position_embeddings}: encode with truncation: true`,
    );
  }
  for (const id of input_ids.data) {
    if (id < 0n || id >= BigInt(config.vocab_size)) {
      throw new InputShapeError(`input_ids holds ${id}, outside the vocabulary 0-${config.vocab_size - 1}`);
    }
  }
  return { input_ids, attention_mask: maskFor(inputs.attention_mask, input_ids.dims) };
}

function maskFor(mask: Tensor<'int64'> | undefined, dims: readonly number[]): Tensor<'int64'> {
  const shape = dims.slice(0, 2);
  if (mask === undefined) return ones(shape);
  if (mask.dtype !== 'int64' || mask.rank !== 2 || mask.dims[0] !== shape[0] || mask.dims[1] !== shape[1]) {
    throw new InputShapeError(
      `attention_mask must be int64 [${shape.join(', ')}] like the inputs, got ${mask.dtype} ${dimsOf(mask)}`,
    );
  }
  return mask;
}

function checkPixels(pixel_values: Tensor<'float32'>, side?: number): void {
  const [, channels, height, width] = pixel_values.dims;
  if (
    pixel_values.dtype !== 'float32' ||
    pixel_values.rank !== 4 ||
    channels !== 3 ||
    (side !== undefined && (height !== side || width !== side))
  ) {
    throw new InputShapeError(
      `pixel_values must be float32 [batch, 3, ${side ?? 'S'}, ${side ?? 'S'}] (PerceiverImageProcessor output), got ${pixel_values.dtype} ${dimsOf(pixel_values)}`,
    );
  }
}

/**
 * transformers' `PerceiverModel`. Two graphs: `onnx/model.onnx` is the model with its `PerceiverTextPreprocessor`
 * (input_ids, attention_mask -> `last_hidden_state` [batch, num_latents, d_latents]) and
 * `onnx/model_no_preprocessor.onnx` the bare model as `from_pretrained` builds it (`inputs` float32
 * [batch, seq, d_model], attention_mask -> `last_hidden_state`). `forward` picks the graph from the inputs given;
 * a folder may hold either graph or both.
 *
 * @example
 * ```ts
 * import { PerceiverModel, PerceiverTokenizer } from '@ortvision/perceiver';
 * const tokenizer = await PerceiverTokenizer.fromPretrained('./perceiver-base');
 * const model = await PerceiverModel.fromPretrained('./perceiver-base');
 * const { last_hidden_state } = await model.forward(tokenizer.encode(['Latents attend to bytes.']));
 * ```
 */
export class PerceiverModel extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;
  static override readonly graphs = { model: 'model', model_no_preprocessor: 'model_no_preprocessor' };
  /**
   * Both graphs from one checkpoint: `model` needs the text preprocessor's weights (`input_preprocessor.*`, as
   * fixture perceiver-base and deepmind/language-perceiver hold them), so an image, flow or multimodal checkpoint
   * builds `model_no_preprocessor` only. A head model's preprocessor, decoder and postprocessor, which
   * PerceiverModel(config) does not have, are left unread as transformers leaves them.
   */
  static override readonly checkpointGraphs: CheckpointGraphs<PerceiverConfig> = {
    version: PERCEIVER_GRAPH_VERSION,
    baseModelPrefix: 'perceiver',
    expectsPrefix: false,
    ignoreUnused: [/^(perceiver\.)?(input_preprocessor|decoder|output_postprocessor)\./],
    graphs: { model: buildPerceiverModel, model_no_preprocessor: buildPerceiverModelNoPreprocessor },
    optionalGraphs: { model: 'input_preprocessor.embeddings.weight' },
  };

  /** A folder may hold either graph or both; eager loading loads what it has. */
  static override readonly graphGroups = [['model'], ['model_no_preprocessor']];

  override async forward(
    inputs: PerceiverTextInputs | PerceiverEmbeddingInputs,
    options?: RunOptions,
  ): Promise<{ last_hidden_state: Tensor<'float32'> }> {
    if ('input_ids' in inputs && inputs.input_ids !== undefined) {
      const outputs = await this.runGraph('model', textFeeds(inputs, this.config), options);
      return outputs as { last_hidden_state: Tensor<'float32'> };
    }
    const embedded = (inputs as PerceiverEmbeddingInputs).inputs;
    if (!(embedded instanceof Tensor) || embedded.dtype !== 'float32' || embedded.rank !== 3) {
      throw new InputShapeError(
        `PerceiverModel takes input_ids (int64 [batch, seq]) or inputs (float32 [batch, seq, ${this.config.d_model}]), got ${Object.keys(inputs).join(', ') || 'nothing'}`,
      );
    }
    const outputs = await this.runGraph(
      'model_no_preprocessor',
      { inputs: embedded, attention_mask: maskFor(inputs.attention_mask, embedded.dims) },
      options,
    );
    return outputs as { last_hidden_state: Tensor<'float32'> };
  }
}

/**
 * transformers' `PerceiverForMaskedLM`: input_ids, attention_mask -> `logits` [batch, max_position_embeddings,
 * vocab_size]. The decoder has one query per position, so there are always max_position_embeddings rows; only the
 * first seq rows belong to the input.
 *
 * @example
 * ```ts
 * import { PerceiverForMaskedLM, PerceiverTokenizer } from '@ortvision/perceiver';
 * const tokenizer = await PerceiverTokenizer.fromPretrained('deepmind/language-perceiver');
 * const model = await PerceiverForMaskedLM.fromPretrained('deepmind/language-perceiver');
 * const { logits } = await model.forward(tokenizer.encode('Hello [MASK]orld', { padding: 'max_length' }));
 * ```
 */
export class PerceiverForMaskedLM extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForMaskedLM);

  override async forward(
    inputs: PerceiverTextInputs,
    options?: RunOptions,
  ): Promise<{ logits: Tensor<'float32'> }> {
    const feeds = textFeeds(inputs, this.config);
    const { logits } = (await super.forward(feeds, options)) as { logits: Tensor<'float32'> };
    const [batch, seq] = feeds.input_ids.dims;
    const vocab = this.config.vocab_size;
    // The decoder answers for its max_position_embeddings positions, at least the tokens given.
    if (
      logits?.dtype !== 'float32' ||
      logits.rank !== 3 ||
      logits.dims[0] !== batch ||
      logits.dims[1]! < seq! ||
      logits.dims[2] !== vocab
    ) {
      throw new InputShapeError(
        `the masked-LM graph returned logits ${logits ? `${logits.dtype} ${dimsOf(logits)}` : 'nothing'}, expected float32 [${batch}, >= ${seq}, ${vocab}] (batch, positions, vocab_size): is onnx/model.onnx a PerceiverForMaskedLM export?`,
      );
    }
    return { logits };
  }
}

/**
 * transformers' `PerceiverForSequenceClassification`: input_ids, attention_mask -> `logits` [batch, num_labels].
 *
 * @example
 * ```ts
 * import { PerceiverForSequenceClassification, PerceiverTokenizer } from '@ortvision/perceiver';
 * const tokenizer = await PerceiverTokenizer.fromPretrained('./perceiver-seq-cls');
 * const model = await PerceiverForSequenceClassification.fromPretrained('./perceiver-seq-cls');
 * const { logits } = await model.forward(tokenizer.encode(['Terrible.', 'Wonderful!'], { padding: true }));
 * ```
 */
export class PerceiverForSequenceClassification extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForSequenceClassification);

  override async forward(
    inputs: PerceiverTextInputs,
    options?: RunOptions,
  ): Promise<{ logits: Tensor<'float32'> }> {
    return (await super.forward(textFeeds(inputs, this.config), options)) as { logits: Tensor<'float32'> };
  }
}

/**
 * What the three Perceiver image classifiers share: pixel_values -> `logits`. They differ in the preprocessor
 * inside their graph, and in whether that fixes the input size (`inputSide`).
 */
abstract class PerceiverImageClassificationBase extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;

  /**
   * The only input side the graph accepts, or undefined when the graph decides (Fourier, conv: an exported graph
   * fixes the size it was exported at, one built from the checkpoint takes any size, as PyTorch does).
   */
  protected get inputSide(): number | undefined {
    return undefined;
  }

  override async forward(
    inputs: PerceiverImageInputs,
    options?: RunOptions,
  ): Promise<{ logits: Tensor<'float32'> }> {
    checkPixels(inputs.pixel_values, this.inputSide);
    return (await super.forward({ pixel_values: inputs.pixel_values }, options)) as {
      logits: Tensor<'float32'>;
    };
  }
}

/**
 * transformers' `PerceiverForImageClassificationLearned` (1x1 conv + one learned position embedding per pixel):
 * pixel_values [batch, 3, image_size, image_size] -> `logits` [batch, num_labels].
 *
 * @example
 * ```ts
 * import { PerceiverForImageClassificationLearned, PerceiverImageProcessor } from '@ortvision/perceiver';
 * const processor = await PerceiverImageProcessor.fromPretrained('deepmind/vision-perceiver-learned');
 * const model = await PerceiverForImageClassificationLearned.fromPretrained('deepmind/vision-perceiver-learned');
 * const { logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class PerceiverForImageClassificationLearned extends PerceiverImageClassificationBase {
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForImageClassificationLearned);

  // One learned position embedding per pixel: the graph takes exactly image_size x image_size.
  protected override get inputSide(): number {
    return this.config.image_size;
  }
}

/**
 * transformers' `PerceiverForImageClassificationFourier` (raw pixels + 2D Fourier position features, built for
 * the exported size, or for any size in a graph built from the checkpoint): pixel_values [batch, 3, S, S] ->
 * `logits` [batch, num_labels].
 *
 * @example
 * ```ts
 * import { PerceiverForImageClassificationFourier, PerceiverImageProcessor } from '@ortvision/perceiver';
 * const processor = await PerceiverImageProcessor.fromPretrained('deepmind/vision-perceiver-fourier');
 * const model = await PerceiverForImageClassificationFourier.fromPretrained('deepmind/vision-perceiver-fourier');
 * const { logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class PerceiverForImageClassificationFourier extends PerceiverImageClassificationBase {
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForImageClassificationFourier);
}

/**
 * transformers' `PerceiverForImageClassificationConvProcessing` (7x7/2 conv + max-pool, then Fourier position
 * features): pixel_values [batch, 3, S, S] -> `logits` [batch, num_labels].
 *
 * @example
 * ```ts
 * import { PerceiverForImageClassificationConvProcessing, PerceiverImageProcessor } from '@ortvision/perceiver';
 * const processor = await PerceiverImageProcessor.fromPretrained('deepmind/vision-perceiver-conv');
 * const model = await PerceiverForImageClassificationConvProcessing.fromPretrained('deepmind/vision-perceiver-conv');
 * const { logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class PerceiverForImageClassificationConvProcessing extends PerceiverImageClassificationBase {
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForImageClassificationConvProcessing);
}

/** The optical-flow graph's input, named `inputs` as PerceiverForOpticalFlow.forward names it. */
export type PerceiverOpticalFlowInputs = {
  /** float32 [batch, 2, 27, H, W], [H, W] = config.train_size: 3x3 patches of two frames (`extractImagePatches`). */
  inputs: Tensor<'float32'>;
};

/**
 * transformers' `PerceiverForOpticalFlow`: `inputs` [batch, 2, 27, H, W] with [H, W] = config.train_size ->
 * `logits` [batch, H, W, 2] (flow / 100; the model card's notebook multiplies by 20 to get pixels). For whole
 * images of any size use the `opticalFlow` task, which tiles and blends.
 *
 * @example
 * ```ts
 * import { PerceiverForOpticalFlow, extractImagePatches } from '@ortvision/perceiver';
 * const model = await PerceiverForOpticalFlow.fromPretrained('deepmind/optical-flow-perceiver');
 * const inputs = extractImagePatches(frame1, frame2); // two 368x496 frames
 * const { logits } = await model.forward({ inputs });
 * ```
 */
export class PerceiverForOpticalFlow extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForOpticalFlow);

  override async forward(
    inputs: PerceiverOpticalFlowInputs,
    options?: RunOptions,
  ): Promise<{ logits: Tensor<'float32'> }> {
    const patches = inputs.inputs;
    const [height, width] = this.config.train_size as [number, number];
    const [, frames, channels, h, w] = patches.dims;
    if (
      patches.dtype !== 'float32' ||
      patches.rank !== 5 ||
      frames !== 2 ||
      channels !== 27 ||
      h !== height ||
      w !== width
    ) {
      throw new InputShapeError(
        `inputs must be float32 [batch, 2, 27, ${height}, ${width}] (3x3 patches of two frames of config.train_size), got ${patches.dtype} ${dimsOf(patches)}`,
      );
    }
    return (await super.forward({ inputs: patches }, options)) as { logits: Tensor<'float32'> };
  }
}

/** The multimodal autoencoder's graph inputs (see the package README). */
export type PerceiverMultimodalInputs = {
  /** float32 [batch, T, 3, H, W], RGB in [0, 1]; T, H, W = config.output_shape[1..3]. */
  image: Tensor<'float32'>;
  /** float32 [batch, num_frames * audio_samples_per_frame, 1], mono in [-1, 1]. */
  audio: Tensor<'float32'>;
  /** float32 [batch, num_labels]; ignored by the model (the label modality is always masked). Default zeros. */
  label?: Tensor<'float32'>;
  /** int64 [Ni]: flat indices into the T*H*W output pixels, any order, repeats allowed. */
  image_points: Tensor<'int64'>;
  /** int64 [Na]: indices of output audio patches of samples_per_patch samples. */
  audio_points: Tensor<'int64'>;
};

export type PerceiverMultimodalOutputs = {
  /** float32 [batch, Ni, 3]: RGB of each requested pixel. */
  image_logits: Tensor<'float32'>;
  /** float32 [batch, Na * samples_per_patch]: the requested patches' samples in `audio_points` order. */
  audio_logits: Tensor<'float32'>;
  /** float32 [batch, num_labels]: class logits of the clip. */
  label_logits: Tensor<'float32'>;
};

/** What `autoencode` returns: the whole reconstruction and the clip's class logits. */
export type PerceiverAutoencoding = {
  /** float32 [batch, T, H, W, 3], channels last like the input frames. */
  image: Tensor<'float32'>;
  /** float32 [batch, samples, 1]. */
  audio: Tensor<'float32'>;
  /** float32 [batch, num_labels]. */
  label: Tensor<'float32'>;
};

/**
 * transformers' `PerceiverForMultimodalAutoencoding` (video + audio + label, deepmind/multimodal-perceiver):
 * `onnx/model.onnx` decodes only the output points asked for (`image_points`, `audio_points`), as the model's
 * `subsampled_output_points`. `autoencode` runs the model card notebook's chunked loop over every point.
 *
 * @example
 * ```ts
 * import { PerceiverForMultimodalAutoencoding } from '@ortvision/perceiver';
 * const model = await PerceiverForMultimodalAutoencoding.fromPretrained('./perceiver-multimodal');
 * // images: float32 [1, T, H, W, 3] in [0, 1]; audio: float32 [1, samples, 1]
 * const { image, audio, label } = await model.autoencode(images, audio, { nchunks: 4 });
 * ```
 */
export class PerceiverForMultimodalAutoencoding extends PreTrainedModel<PerceiverConfig> {
  static override readonly configClass = PerceiverConfig;
  static override readonly checkpointGraphs = headGraphs(buildPerceiverForMultimodalAutoencoding);

  /** [T, H, W] of the video (config.output_shape[1..3]). */
  get videoShape(): [number, number, number] {
    const [, t, h, w] = this.config.output_shape as [number, number, number, number];
    return [t, h, w];
  }

  /** Audio samples per clip (num_frames * audio_samples_per_frame). */
  get audioSamples(): number {
    return this.config.num_frames * this.config.audio_samples_per_frame;
  }

  /** Output audio patches per clip (audioSamples / samples_per_patch). */
  get audioPatches(): number {
    return Math.floor(this.audioSamples / this.config.samples_per_patch);
  }

  override async forward(
    inputs: PerceiverMultimodalInputs,
    options?: RunOptions,
  ): Promise<PerceiverMultimodalOutputs> {
    const { image, audio } = inputs;
    const [t, h, w] = this.videoShape;
    const batch = image.dims[0]!;
    if (image.dtype !== 'float32' || image.rank !== 5 || image.dims.join() !== [batch, t, 3, h, w].join()) {
      throw new InputShapeError(
        `image must be float32 [batch, ${t}, 3, ${h}, ${w}] (frames, channels before height and width), got ${image.dtype} ${dimsOf(image)}`,
      );
    }
    if (audio.dtype !== 'float32' || audio.dims.join() !== [batch, this.audioSamples, 1].join()) {
      throw new InputShapeError(
        `audio must be float32 [${batch}, ${this.audioSamples}, 1] like the image batch, got ${audio.dtype} ${dimsOf(audio)}`,
      );
    }
    const numLabels = this.config.numLabels;
    const label = inputs.label ?? Tensor.zeros('float32', [batch, numLabels]);
    if (label.dtype !== 'float32' || label.dims.join() !== [batch, numLabels].join()) {
      throw new InputShapeError(
        `label must be float32 [${batch}, ${numLabels}], got ${label.dtype} ${dimsOf(label)}`,
      );
    }
    checkPoints('image_points', inputs.image_points, t * h * w, `the ${t}x${h}x${w} output pixels`);
    checkPoints(
      'audio_points',
      inputs.audio_points,
      this.audioPatches,
      `the ${this.audioPatches} output audio patches of ${this.config.samples_per_patch} samples`,
    );
    const feeds = {
      image,
      audio,
      label,
      image_points: inputs.image_points,
      audio_points: inputs.audio_points,
    };
    return (await super.forward(feeds, options)) as PerceiverMultimodalOutputs;
  }

  /**
   * The notebook's chunked autoencoding: every output pixel and audio patch, decoded in `nchunks` runs (chunk k
   * asks for points k*N/nchunks ... (k+1)*N/nchunks - 1), concatenated in order. Chunking only bounds memory; the
   * values do not depend on it. `label` comes from the last chunk.
   *
   * @param images float32 [batch, T, H, W, 3] RGB in [0, 1], channels LAST (the notebook's layout).
   * @param audio float32 [batch, samples, 1] in [-1, 1].
   */
  async autoencode(
    images: Tensor<'float32'>,
    audio: Tensor<'float32'>,
    { nchunks = 1 }: { nchunks?: number } = {},
    options?: RunOptions,
  ): Promise<PerceiverAutoencoding> {
    const [t, h, w] = this.videoShape;
    if (
      images.dtype !== 'float32' ||
      images.rank !== 5 ||
      images.dims.slice(1).join() !== [t, h, w, 3].join()
    ) {
      throw new InputShapeError(
        `images must be float32 [batch, ${t}, ${h}, ${w}, 3] (channels last), got ${images.dtype} ${dimsOf(images)}`,
      );
    }
    const pixels = t * h * w;
    const patches = this.audioPatches;
    if (!Number.isInteger(nchunks) || nchunks < 1 || nchunks > pixels) {
      throw new InvalidArgumentError(`nchunks must be an integer from 1 to ${pixels}, got ${nchunks}`);
    }
    const batch = images.dims[0]!;
    const image = channelsFirst(images);
    const spp = this.config.samples_per_patch;
    const outImage = new Float32Array(batch * pixels * 3);
    const outAudio = new Float32Array(batch * patches * spp);
    let label: Tensor<'float32'> | undefined;
    for (let k = 0; k < nchunks; k++) {
      const [i0, i1] = [Math.floor((k * pixels) / nchunks), Math.floor(((k + 1) * pixels) / nchunks)];
      const [a0, a1] = [Math.floor((k * patches) / nchunks), Math.floor(((k + 1) * patches) / nchunks)];
      const out = await this.forward(
        {
          image,
          audio,
          image_points: pointRange(i0, i1),
          audio_points: pointRange(a0, a1),
        },
        options,
      );
      for (let b = 0; b < batch; b++) {
        const n = (i1 - i0) * 3;
        outImage.set(out.image_logits.data.subarray(b * n, (b + 1) * n), (b * pixels + i0) * 3);
        const m = (a1 - a0) * spp;
        outAudio.set(out.audio_logits.data.subarray(b * m, (b + 1) * m), (b * patches + a0) * spp);
      }
      label = out.label_logits;
    }
    return {
      image: new Tensor('float32', outImage, [batch, t, h, w, 3]),
      audio: new Tensor('float32', outAudio, [batch, patches * spp, 1]),
      label: label!,
    };
  }
}

/** Points start ... end - 1 as a 1-D int64 tensor. */
function pointRange(start: number, end: number): Tensor<'int64'> {
  return new Tensor(
    'int64',
    BigInt64Array.from({ length: end - start }, (_, i) => BigInt(start + i)),
    [end - start],
  );
}

/** [B, T, H, W, 3] -> [B, T, 3, H, W] (the notebook's np.moveaxis(images, -1, 2)). */
function channelsFirst(images: Tensor<'float32'>): Tensor<'float32'> {
  const [batch, t, h, w] = images.dims as [number, number, number, number];
  const out = new Float32Array(images.size);
  const plane = h * w;
  for (let f = 0; f < batch * t; f++) {
    const base = f * plane * 3;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) out[base + c * plane + p] = images.data[base + p * 3 + c]!;
    }
  }
  return new Tensor('float32', out, [batch, t, 3, h, w]);
}

function checkPoints(name: string, points: Tensor<'int64'>, count: number, what: string): void {
  if (!(points instanceof Tensor) || points.dtype !== 'int64' || points.rank !== 1) {
    throw new InputShapeError(
      `${name} must be a 1-D int64 tensor of indices (shared by the batch), got ${points instanceof Tensor ? `${points.dtype} ${dimsOf(points)}` : typeof points}`,
    );
  }
  points.data.forEach((point, i) => {
    if (point < 0n || point >= BigInt(count)) {
      throw new InputShapeError(
        `${name}[${i}] is ${point}: expected an index into ${what} (0 to ${count - 1})`,
      );
    }
  });
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  PerceiverModel,
  PerceiverForMaskedLM,
  PerceiverForSequenceClassification,
  PerceiverForImageClassificationLearned,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationConvProcessing,
  PerceiverForOpticalFlow,
  PerceiverForMultimodalAutoencoding,
} satisfies ModelClassRegistry;

import {
  CLIPDualTowerModel,
  type CLIPTextInputs,
  CLIPTextTowerModel,
  CLIPTowerModel,
  type CLIPVisionInputs,
  CLIPVisionTowerModel,
  type CheckpointGraphs,
  InputShapeError,
  InvalidArgumentError,
  type ModelClassRegistry,
  ModelNotFoundError,
  PreTrainedModel,
  type PreTrainedModelClass,
  type PretrainedOptions,
  type RunOptions,
  Tensor,
  describeValue,
  throwIfAborted,
  withAbortSignal,
} from '@ortvision/core';
import { CLIPSegConfig } from './config.js';
import { CLIPSEG_GRAPH_VERSION, clipsegGraphBuilders } from './graph.js';

// What each class builds from a checkpoint. Keys are CLIPSegModel's (`text_model.*`, `vision_model.*`, the two
// projections) or, for CLIPSegForImageSegmentation, the same under `clip.` plus `decoder.*`; a tower model reads
// either kind of checkpoint (transformers' base_model_prefix 'clip'), the other tower's weights left unread. No
// graph computes CLIPSegModel.forward's contrastive logits, so logit_scale is never read.
const unusedLogitScale = /(^|\.)logit_scale$/;
const unusedVisionTower = [/(^|\.)vision_model\./, /(^|\.)visual_projection\./];
const unusedTextTower = [/(^|\.)text_model\./, /(^|\.)text_projection\./];

function checkpointGraphs(
  graphs: CheckpointGraphs<CLIPSegConfig>['graphs'],
  expectsPrefix: boolean,
  ignoreUnused: readonly RegExp[] = [],
): CheckpointGraphs<CLIPSegConfig> {
  return {
    version: CLIPSEG_GRAPH_VERSION,
    baseModelPrefix: 'clip',
    expectsPrefix,
    ignoreUnused: [unusedLogitScale, ...ignoreUnused],
    graphs,
  };
}

// Inputs are type aliases, not interfaces: aliases are assignable to the base class's `NamedTensors` record.

/** Tokenized text prompts, as `CLIPSegProcessor` / the tokenizer make them: int64 [prompts, seq]. */
export type CLIPSegTextInputs = CLIPTextInputs;

/** Preprocessed images: float32 [batch, 3, H, W] (the graphs interpolate positions: any H and W). */
export type CLIPSegImageInputs = CLIPVisionInputs;

/**
 * What `CLIPSegForImageSegmentation.forward` takes: the images to segment and exactly one kind of prompt: text
 * (`input_ids`, `attention_mask`), images (`conditional_pixel_values`) or ready embeddings
 * (`conditional_embeddings` [prompts, projection_dim], from `getConditionalEmbeddings`).
 */
export type CLIPSegSegmentationInputs = {
  pixel_values: Tensor<'float32'>;
  input_ids?: Tensor<'int64'>;
  attention_mask?: Tensor<'int64'>;
  conditional_pixel_values?: Tensor<'float32'>;
  conditional_embeddings?: Tensor<'float32'>;
};

/** `CLIPSegForImageSegmentation.forward`'s result, named as in Python. */
export type CLIPSegSegmentationOutput = {
  /** float32 [prompts, H, W] at the processor's size, always rank 3 (the graphs squeeze batch 1 away). */
  logits: Tensor<'float32'>;
  /** float32 [prompts, projection_dim], when the split graphs computed them or they were given. */
  conditional_embeddings?: Tensor<'float32'>;
};

/**
 * The segmentation graphs export HF's `logits.squeeze()` as a Squeeze without axes: [H, W] for one prompt,
 * [prompts, H, W] otherwise (fixture clipseg, model cases `text-batch1` and `conditional-batch1`). Callers always
 * get [prompts, H, W].
 */
function unsqueezeLogits(logits: Tensor | undefined, batch: number): Tensor<'float32'> {
  if (!logits || logits.dtype !== 'float32') {
    throw new InputShapeError("the segmentation graph returned no float32 'logits' output");
  }
  const dims = logits.rank === 2 ? [1, ...logits.dims] : logits.dims;
  if (dims.length !== 3 || dims[0] !== batch) {
    throw new InputShapeError(
      `the segmentation graph returned logits [${logits.dims.join(', ')}]: expected [${batch}, H, W]`,
    );
  }
  return logits.reshape(dims) as Tensor<'float32'>;
}

/**
 * The text tower with its projection over `onnx/text_model.onnx` (Python's `CLIPSegModel.get_text_features`):
 * input_ids / attention_mask -> `text_embeds` [batch, projection_dim], not normalized. Pooling takes each row's
 * first `<|endoftext|>`.
 *
 * @example
 * ```ts
 * import { CLIPSegProcessor, CLIPSegTextModel } from '@ortvision/clipseg';
 * const processor = await CLIPSegProcessor.fromPretrained('./clipseg-split');
 * const model = await CLIPSegTextModel.fromPretrained('./clipseg-split');
 * const { text_embeds } = await model.forward(await processor.process({ text: ['a cat', 'a dog'], padding: true }));
 * ```
 */
export class CLIPSegTextModel extends CLIPTextTowerModel<CLIPSegConfig> {
  static override readonly configClass = CLIPSegConfig;
  static override readonly checkpointGraphs = checkpointGraphs(
    clipsegGraphBuilders.CLIPSegTextModel,
    false,
    unusedVisionTower,
  );
}

/**
 * The vision tower with its projection over `onnx/vision_model.onnx` (Python's `CLIPSegModel.get_image_features`):
 * pixel_values -> `image_embeds` [batch, projection_dim], not normalized.
 *
 * @example
 * ```ts
 * import { CLIPSegImageProcessor, CLIPSegVisionModel } from '@ortvision/clipseg';
 * const processor = await CLIPSegImageProcessor.fromPretrained('./clipseg-split');
 * const model = await CLIPSegVisionModel.fromPretrained('./clipseg-split');
 * const { image_embeds } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class CLIPSegVisionModel extends CLIPVisionTowerModel<CLIPSegConfig> {
  static override readonly configClass = CLIPSegConfig;
  static override readonly checkpointGraphs = checkpointGraphs(
    clipsegGraphBuilders.CLIPSegVisionModel,
    false,
    unusedTextTower,
  );
}

/**
 * transformers' `CLIPSegModel` as far as the exported graphs go: `getTextFeatures` (text_model.onnx) and
 * `getImageFeatures` (vision_model.onnx), the embeddings that condition the decoder. `forward` returns those of
 * the inputs given.
 *
 * @example
 * ```ts
 * import { CLIPSegModel, CLIPSegProcessor } from '@ortvision/clipseg';
 * const processor = await CLIPSegProcessor.fromPretrained('./clipseg-split');
 * const model = await CLIPSegModel.fromPretrained('./clipseg-split');
 * const text = await model.getTextFeatures(await processor.process({ text: ['a cat'] })); // [1, 512]
 * const image = await model.getImageFeatures(await processor.process({ images: 'cat.png' })); // [1, 512]
 * ```
 */
export class CLIPSegModel extends CLIPDualTowerModel<CLIPSegConfig> {
  static override readonly configClass = CLIPSegConfig;
  static override readonly checkpointGraphs = checkpointGraphs(clipsegGraphBuilders.CLIPSegModel, false);

  /** The features of the inputs given: `text_embeds` for input_ids, `image_embeds` for pixel_values. */
  override async forward(
    inputs: Partial<CLIPSegTextInputs & CLIPSegImageInputs>,
    options?: RunOptions,
  ): Promise<{ text_embeds?: Tensor<'float32'>; image_embeds?: Tensor<'float32'> }> {
    const { input_ids, attention_mask, pixel_values } = inputs;
    if (input_ids === undefined && pixel_values === undefined) {
      throw new InvalidArgumentError('CLIPSegModel.forward needs input_ids, pixel_values or both');
    }
    const [text_embeds, image_embeds] = await Promise.all([
      input_ids === undefined ? undefined : this.getTextFeatures({ input_ids, attention_mask }, options),
      pixel_values === undefined ? undefined : this.getImageFeatures({ pixel_values }, options),
    ]);
    return { ...(text_embeds && { text_embeds }), ...(image_embeds && { image_embeds }) };
  }
}

/** `CLIPSegForImageSegmentation.forward`'s options. */
export interface CLIPSegForwardOptions extends RunOptions {
  /**
   * Which graphs take text prompts: `'split'` (text_model, then conditional_model) or `'model'` (model.onnx in one
   * run). Default: `'split'` when the folder has those graphs, else `'model'`.
   */
  textRoute?: 'split' | 'model';
}

/** The graphs that make up the split layout: prompts of any kind -> embeddings -> one decoder. */
const SPLIT_GRAPHS = ['text_model', 'vision_model', 'conditional_model'] as const;

/**
 * transformers' `CLIPSegForImageSegmentation`: images plus prompts -> `logits` [prompts, H, W] (apply a sigmoid for
 * probabilities). Prompts are text (`input_ids`), images (`conditional_pixel_values`) or ready
 * `conditional_embeddings` [prompts, projection_dim].
 *
 * Graphs (`onnx/<name>.onnx`), each optional, with at least one route present:
 * - `model`: text prompts only, in one run (the layout transformers.js uses and Hub ONNX repos ship).
 * - `text_model`, `vision_model`, `conditional_model`: prompt embeddings, then one decoder for prompts of any kind.
 *   When present they are preferred, and `model` is not loaded.
 *
 * Pass one image per prompt, or one image for all prompts (the graphs broadcast it).
 *
 * @example
 * ```ts
 * import { CLIPSegForImageSegmentation, CLIPSegProcessor } from '@ortvision/clipseg';
 * import { sigmoid } from '@ortvision/core';
 * const processor = await CLIPSegProcessor.fromPretrained('Xenova/clipseg-rd64-refined');
 * const model = await CLIPSegForImageSegmentation.fromPretrained('Xenova/clipseg-rd64-refined');
 * const inputs = await processor.process({ text: ['a cat', 'a remote'], images: 'cats.png', padding: true });
 * const { logits } = await model.forward(inputs); // [2, 352, 352]
 * const probabilities = sigmoid(logits);
 * ```
 */
export class CLIPSegForImageSegmentation extends CLIPTowerModel<CLIPSegConfig> {
  static override readonly configClass = CLIPSegConfig;
  static override readonly checkpointGraphs = checkpointGraphs(
    clipsegGraphBuilders.CLIPSegForImageSegmentation,
    true,
  );
  static override readonly graphs = {
    model: 'model',
    text_model: 'text_model',
    vision_model: 'vision_model',
    conditional_model: 'conditional_model',
  };

  /**
   * Loads config.json and, unless `loading: 'lazy'`, the graphs the folder has: the split graphs when present,
   * `model.onnx` only when the split text route is incomplete, so two text towers are never held at once. A folder
   * with only `onnx/model.onnx` loads (text prompts). Not core's `graphGroups`: the split graphs present are all
   * loaded even without text_model (vision_model + conditional_model serve image prompts beside model.onnx), and
   * the error says which prompts each route takes.
   */
  static override async fromPretrained<M extends PreTrainedModel>(
    this: PreTrainedModelClass<M>,
    idOrPath: string,
    options: PretrainedOptions = {},
  ): Promise<M> {
    const load = PreTrainedModel.fromPretrained as (
      this: PreTrainedModelClass<M>,
      idOrPath: string,
      options: PretrainedOptions,
    ) => Promise<M>;
    const model = await load.call(this, idOrPath, { ...options, loading: 'lazy' });
    if ((options.loading ?? 'eager') === 'eager' && model instanceof CLIPSegForImageSegmentation) {
      try {
        // The graphs load after the base class returned: its signal is handed to them the way a task call's is.
        await withAbortSignal(options.signal, () => model.#loadPresentGraphs());
        throwIfAborted(
          options.signal,
          `CLIPSegForImageSegmentation.fromPretrained(${JSON.stringify(idOrPath)})`,
        );
      } catch (error) {
        await model.dispose();
        throw error;
      }
    }
    return model;
  }

  /** Whether image prompts can be used: `vision_model` and `conditional_model` are present. */
  async supportsImagePrompts(): Promise<boolean> {
    const [vision, conditional] = await Promise.all([
      this.hasGraph('vision_model'),
      this.hasGraph('conditional_model'),
    ]);
    return vision && conditional;
  }

  /**
   * Whether text prompts can be embedded and decoded separately (`text_model` and `conditional_model` are present);
   * else they go through `model` in one run.
   */
  async supportsTextEmbeddings(): Promise<boolean> {
    const [text, conditional] = await Promise.all([
      this.hasGraph('text_model'),
      this.hasGraph('conditional_model'),
    ]);
    return text && conditional;
  }

  async #loadPresentGraphs(): Promise<void> {
    await Promise.all(SPLIT_GRAPHS.map((graph) => this.hasGraph(graph)));
    if (!(await this.supportsTextEmbeddings()) && !(await this.hasGraph('model'))) {
      throw new ModelNotFoundError(
        `${this.nameOrPath} has no CLIPSeg segmentation graphs: expected onnx/model.onnx (text prompts) or onnx/text_model.onnx + onnx/vision_model.onnx + onnx/conditional_model.onnx (any prompts)`,
      );
    }
  }

  async #requireGraphs(what: string, graphs: readonly string[]): Promise<void> {
    const present = await Promise.all(graphs.map((graph) => this.hasGraph(graph)));
    const missing = graphs.filter((_, i) => !present[i]);
    if (missing.length > 0) {
      throw new ModelNotFoundError(
        `${what} ${graphs.map((g) => `onnx/${g}.onnx`).join(' and ')}, but ${this.nameOrPath} lacks ${missing.map((g) => `onnx/${g}.onnx`).join(' and ')}${graphs.includes('vision_model') ? ' (onnx/model.onnx takes text prompts only)' : ''}; see the @ortvision/clipseg README for how to export the split graphs`,
      );
    }
  }

  /**
   * Prompt embeddings [prompts, projection_dim] (Python's `get_conditional_embeddings`): text through
   * `text_model`, images (`conditional_pixel_values`) through `vision_model`. Compute them once and pass them as
   * `conditional_embeddings` to `forward` for as many images as you like.
   */
  async getConditionalEmbeddings(
    inputs: CLIPSegTextInputs | { conditional_pixel_values: Tensor<'float32'> },
    options?: RunOptions,
  ): Promise<Tensor<'float32'>> {
    if ('input_ids' in inputs && inputs.input_ids !== undefined) {
      await this.#requireGraphs('text prompt embeddings need', ['text_model']);
      return this.textEmbeddings(inputs, options);
    }
    if ('conditional_pixel_values' in inputs && inputs.conditional_pixel_values !== undefined) {
      const name = 'conditional_pixel_values';
      const pixel_values = this.pixelValues(inputs.conditional_pixel_values, name);
      await this.#requireGraphs('image prompts need', ['vision_model', 'conditional_model']);
      return this.imageEmbeddings({ pixel_values }, options, name);
    }
    throw new InvalidArgumentError(
      'getConditionalEmbeddings needs input_ids (text prompts) or conditional_pixel_values (image prompts)',
    );
  }

  /**
   * Segments `pixel_values` by the prompts given (exactly one kind): `logits` [prompts, H, W], and the
   * `conditional_embeddings` where they were computed or given.
   */
  override async forward(
    inputs: CLIPSegSegmentationInputs,
    { textRoute, ...options }: CLIPSegForwardOptions = {},
  ): Promise<CLIPSegSegmentationOutput> {
    const { pixel_values, input_ids, attention_mask, conditional_pixel_values, conditional_embeddings } =
      inputs;
    this.pixelValues(pixel_values);
    const kinds = [
      input_ids !== undefined && 'input_ids',
      conditional_pixel_values !== undefined && 'conditional_pixel_values',
      conditional_embeddings !== undefined && 'conditional_embeddings',
    ].filter(Boolean);
    if (kinds.length !== 1) {
      throw new InvalidArgumentError(
        `CLIPSegForImageSegmentation.forward takes exactly one kind of prompt (input_ids, conditional_pixel_values or conditional_embeddings), got ${kinds.length === 0 ? 'none' : kinds.join(' and ')}`,
      );
    }
    if (textRoute !== undefined && textRoute !== 'split' && textRoute !== 'model') {
      throw new InvalidArgumentError(
        `textRoute must be 'split' or 'model', got ${JSON.stringify(textRoute)}`,
      );
    }
    const viaModel =
      input_ids !== undefined &&
      (textRoute ?? ((await this.supportsTextEmbeddings()) ? 'split' : 'model')) === 'model';
    if (viaModel && input_ids !== undefined) {
      await this.#requireGraphs('text prompts need', ['model']);
      const feeds = this.textFeeds({ input_ids, attention_mask });
      const batch = outputBatch(pixel_values, input_ids.dims[0]!);
      const { logits } = await this.runGraph('model', { ...feeds, pixel_values }, options);
      return { logits: unsqueezeLogits(logits, batch) };
    }
    const embeddings =
      conditional_embeddings ??
      (await this.getConditionalEmbeddings(
        input_ids !== undefined
          ? { input_ids, attention_mask }
          : { conditional_pixel_values: conditional_pixel_values! },
        options,
      ));
    const width = this.config.projection_dim;
    if (
      !(embeddings instanceof Tensor) ||
      embeddings.dtype !== 'float32' ||
      embeddings.rank !== 2 ||
      embeddings.dims[1] !== width
    ) {
      throw new InputShapeError(
        `conditional_embeddings must be a float32 Tensor [prompts, ${width}] (config projection_dim), got ${embeddings instanceof Tensor ? `${embeddings.dtype} [${embeddings.dims.join(', ')}]` : describeValue(embeddings)}`,
      );
    }
    const batch = outputBatch(pixel_values, embeddings.dims[0]!);
    await this.#requireGraphs('segmentation from conditional_embeddings needs', ['conditional_model']);
    const { logits } = await this.runGraph(
      'conditional_model',
      { pixel_values, conditional_embeddings: embeddings },
      options,
    );
    return { logits: unsqueezeLogits(logits, batch), conditional_embeddings: embeddings };
  }
}

/**
 * The batch of the logits: one image per prompt, one image broadcast over every prompt, or one prompt over every
 * image (the graphs broadcast either; transformers' PyTorch model refuses both, fixture clipseg, model case
 * `text-batch3-image1`).
 */
function outputBatch(pixel_values: Tensor, prompts: number): number {
  const images = pixel_values.dims[0]!;
  if (prompts < 1 || images < 1) {
    throw new InputShapeError(
      `CLIPSeg needs at least one image and one prompt, got ${images} and ${prompts}`,
    );
  }
  if (images !== prompts && images !== 1 && prompts !== 1) {
    throw new InputShapeError(
      `got ${images} images and ${prompts} prompts: pass one image per prompt, one image for all prompts, or one prompt for all images`,
    );
  }
  return Math.max(images, prompts);
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  CLIPSegModel,
  CLIPSegForImageSegmentation,
  CLIPSegTextModel,
  CLIPSegVisionModel,
} satisfies ModelClassRegistry;

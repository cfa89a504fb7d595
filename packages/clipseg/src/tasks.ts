import {
  type BatchedTaskFunction,
  Image,
  type ImageInput,
  InvalidArgumentError,
  LruCache,
  type TaskContext,
  type TaskHelper,
  type TaskLoadOptions,
  Tensor,
  type TextEmbeddingCacheOptions,
  batchedTaskCall,
  checkFlag,
  defineTask,
  describeValue,
  imageInputs,
  optionNames,
  textEmbeddingCacheSize,
} from '@ortvision/core';
import { CLIPSegForImageSegmentation } from './modeling.js';
import { postProcessPromptMasks } from './post-processing.js';
import { CLIPSegProcessor } from './processing.js';

/**
 * A prompt: a string is always a text prompt; an image prompt is anything `loadImage` reads except a path string
 * (an `Image`, a Buffer / Uint8Array, a URL object, raw pixels), or `{ image }` with any image input, paths included.
 */
export type SegmentationPrompt = string | Exclude<ImageInput, string> | { image: ImageInput };

/** One prompt's result. */
export interface PromptSegment {
  /** The prompt as given. */
  prompt: SegmentationPrompt;
  /** Probabilities float32 [height, width] at the original image size (after EXIF orientation). */
  mask: Tensor<'float32'>;
  /** The raw logits [h, w] at the processor's size, with `returnLogits: true`. */
  logits?: Tensor<'float32'>;
}

export interface PromptSegmentationCallOptions {
  /** Also return each prompt's raw logits at the model's resolution. Default false. */
  returnLogits?: boolean;
  /**
   * Cut text prompts longer than the text tower's positions (77 tokens for CLIPSeg) instead of failing on them
   * (default false: an over-long prompt is an `InputShapeError` that says so).
   */
  truncation?: boolean;
}

/** The keys of `PromptSegmentationCallOptions`. */
export const PROMPT_SEGMENTATION_CALL_OPTIONS = optionNames<PromptSegmentationCallOptions>({
  returnLogits: true,
  truncation: true,
});

/** The task's own loading options. */
export interface PromptSegmentationTaskOptions extends TextEmbeddingCacheOptions {
  /**
   * How many text prompts' embeddings to keep for reuse across calls (split graphs only; default 256, 0 turns
   * the cache off; least recently used dropped first). Embeddings do not depend on the image, so a prompt asked
   * again skips the text tower.
   */
  textEmbeddingCacheSize?: number;
}

/** The keys of `PromptSegmentationTaskOptions`. */
export const PROMPT_SEGMENTATION_TASK_OPTIONS = optionNames<PromptSegmentationTaskOptions>({
  textEmbeddingCacheSize: true,
});

/** The parts `promptSegmentation` loads beside the model. */
export interface PromptSegmentationParts {
  /** The processor; by default read from the model's folder or Hub id. */
  processor: CLIPSegProcessor;
}

/** Segmentation: one image gives one result per prompt; a list of images one such list per image (same prompts). */
export type PromptSegmentationFunction = BatchedTaskFunction<
  ImageInput,
  [prompts: readonly SegmentationPrompt[]],
  PromptSegmentationCallOptions,
  PromptSegment[]
>;

function isImagePromptObject(prompt: object): prompt is { image: ImageInput } {
  return 'image' in prompt && !(prompt instanceof Image) && !ArrayBuffer.isView(prompt);
}

function imagePromptInput(prompt: SegmentationPrompt): ImageInput {
  if (typeof prompt === 'object' && prompt !== null && isImagePromptObject(prompt)) return prompt.image;
  return prompt as ImageInput;
}

function checkPrompts(prompts: unknown): asserts prompts is readonly SegmentationPrompt[] {
  if (!Array.isArray(prompts) || prompts.length === 0) {
    throw new InvalidArgumentError(
      `prompts must be a non-empty array of text prompts (strings) and/or image prompts, got ${Array.isArray(prompts) ? 'an empty array' : typeof prompts === 'string' ? `the string ${JSON.stringify(prompts)} (wrap it in an array)` : typeof prompts}`,
    );
  }
  prompts.forEach((prompt, index) => {
    if (typeof prompt !== 'string' && (typeof prompt !== 'object' || prompt === null)) {
      throw new InvalidArgumentError(
        `prompts[${index}] must be a string (text prompt) or an image prompt, got ${prompt === null ? 'null' : typeof prompt}`,
      );
    }
  });
}

/** Rows of a [n, d] tensor stacked in a given order: row i of the result is `rows[i]`. */
function stackRows(rows: readonly Float32Array[], width: number): Tensor<'float32'> {
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, i) => data.set(row, i * width));
  return new Tensor('float32', data, [rows.length, width]);
}

function rowsOf(tensor: Tensor<'float32'>): Float32Array[] {
  const [count, width] = tensor.dims as [number, number];
  return Array.from({ length: count }, (_, i) => tensor.data.slice(i * width, (i + 1) * width));
}

/** [n, h, w] -> n tensors [h, w]. */
function planes(tensor: Tensor<'float32'>): Tensor<'float32'>[] {
  const [count, height, width] = tensor.dims as [number, number, number];
  const size = height * width;
  return Array.from(
    { length: count },
    (_, i) => new Tensor('float32', tensor.data.slice(i * size, (i + 1) * size), [height, width]),
  );
}

/** How prompts become the decoder's conditional embeddings, with the text cache kept across calls. */
class PromptEmbedder {
  readonly #model: CLIPSegForImageSegmentation;
  readonly #processor: CLIPSegProcessor;
  readonly #cache: LruCache<string, Float32Array>;

  constructor(model: CLIPSegForImageSegmentation, processor: CLIPSegProcessor, cacheSize: number) {
    this.#model = model;
    this.#processor = processor;
    this.#cache = new LruCache(cacheSize);
  }

  /** Text prompts tokenized, cut to the text tower's positions with `truncation`. */
  async tokenize(texts: readonly string[], truncation: boolean) {
    const positions = this.#model.config.text_config.max_position_embeddings;
    return this.#processor.process({
      text: texts,
      padding: true,
      ...(truncation && {
        truncation: true,
        maxLength: Math.min(this.#processor.tokenizer.modelMaxLength, positions),
      }),
    });
  }

  /** Embeddings of image prompts, in order, through vision_model. */
  async #imageRows(prompts: readonly SegmentationPrompt[], context: TaskContext): Promise<Float32Array[]> {
    if (prompts.length === 0) return [];
    const images = await context.loadImages(prompts.map(imagePromptInput));
    const { conditional_pixel_values } = await this.#processor.process({ visualPrompt: images });
    return rowsOf(await this.#model.getConditionalEmbeddings({ conditional_pixel_values }));
  }

  /** Embeddings of text prompts by text, through text_model, from the cache where it has them. */
  async #textRows(texts: readonly string[], truncation: boolean): Promise<Map<string, Float32Array>> {
    // A cut prompt's embedding is kept apart: without truncation the same prompt must still fail.
    const key = (text: string) => (truncation ? `\u0000truncated\u0000${text}` : text);
    const rows = new Map<string, Float32Array>();
    for (const text of texts) {
      const cached = this.#cache.get(key(text));
      if (cached) rows.set(text, cached);
    }
    const missing = [...new Set(texts.filter((text) => !rows.has(text)))];
    if (missing.length > 0) {
      const encoding = await this.tokenize(missing, truncation);
      rowsOf(await this.#model.getConditionalEmbeddings(encoding)).forEach((row, i) => {
        rows.set(missing[i]!, row);
        this.#cache.set(key(missing[i]!), row);
      });
    }
    return rows;
  }

  /** Embeddings [prompts, d] in prompt order, for one decoder run over every prompt. */
  async embed(
    prompts: readonly SegmentationPrompt[],
    truncation: boolean,
    context: TaskContext,
  ): Promise<Tensor<'float32'>> {
    // Image prompts first: without their graphs the call fails with the error that names them.
    const images = await this.#imageRows(
      prompts.filter((p) => typeof p !== 'string'),
      context,
    );
    const texts = await this.#textRows(
      prompts.filter((p): p is string => typeof p === 'string'),
      truncation,
    );
    let nextImage = 0;
    const rows = prompts.map((p) => (typeof p === 'string' ? texts.get(p)! : images[nextImage++]!));
    return stackRows(rows, this.#model.config.projection_dim);
  }
}

/**
 * Segment an image by prompts (the Hugging Face task `image-segmentation` with prompts, as CLIPSeg does it): one
 * probability mask per prompt at the original image size. Prompts are text (strings) or images; image prompts
 * need the split graphs (`text_model`, `vision_model`, `conditional_model`), text prompts work with `model.onnx`
 * alone. With the split graphs every prompt goes through one decoder run, and text prompts' embeddings are cached
 * across calls. A list of images gives one list of results per image; the prompts are embedded once for all of
 * them. `truncation: true` cuts text prompts longer than the text tower's positions.
 *
 * Per prompt: sigmoid(logits), then a bilinear resize to the image size (torch, align_corners=False), as fixture
 * clipseg defines it. `thresholdMask` / `maskToImage` turn a mask into a binary mask or a PNG.
 *
 * @example
 * ```ts
 * import { maskToImage, promptSegmentation } from '@ortvision/clipseg';
 * const segment = await promptSegmentation('Xenova/clipseg-rd64-refined');
 * const results = await segment('cats.png', ['a cat', 'a remote control']);
 * for (const { prompt, mask } of results) await maskToImage(mask, { threshold: 0.4 }).save(`${prompt}.png`);
 * const perImage = await segment(['cats.png', 'dog.png'], ['an animal']); // PromptSegment[][]
 * await segment.dispose();
 * ```
 */
export const promptSegmentation: TaskHelper<
  CLIPSegForImageSegmentation,
  PromptSegmentationParts,
  PromptSegmentationTaskOptions,
  PromptSegmentationFunction
> = defineTask({
  name: 'promptSegmentation',
  model: (id, options) => CLIPSegForImageSegmentation.fromPretrained(id, options),
  parts: { processor: (id, options) => CLIPSegProcessor.fromPretrained(id, options) },
  options: PROMPT_SEGMENTATION_TASK_OPTIONS,
  create: ({ model, parts: { processor }, options }) => {
    const embedder = new PromptEmbedder(model, processor, textEmbeddingCacheSize(options, 256));
    return batchedTaskCall({
      name: 'promptSegmentation',
      input: imageInputs,
      arity: 1,
      options: PROMPT_SEGMENTATION_CALL_OPTIONS,
      run: async (images, [prompts]: [readonly SegmentationPrompt[]], options, context) => {
        checkPrompts(prompts);
        const returnLogits = checkFlag(options.returnLogits, 'returnLogits', false);
        const truncation = checkFlag(options.truncation, 'truncation', false);
        // model.onnx alone: each run takes the image broadcast over the tokenized prompts.
        const whole = prompts.every((p) => typeof p === 'string') && !(await model.supportsTextEmbeddings());
        const conditioning = whole
          ? await embedder.tokenize(prompts as readonly string[], truncation)
          : { conditional_embeddings: await embedder.embed(prompts, truncation, context) };
        const results: PromptSegment[][] = [];
        for (const [i, image] of images.entries()) {
          context.throwIfAborted(`segmenting image ${i}`);
          const { pixel_values } = await processor.process({ images: image });
          const { logits } = await model.forward({ pixel_values, ...conditioning });
          const masks = planes(postProcessPromptMasks(logits, [image.height, image.width]));
          const logitPlanes = returnLogits ? planes(logits) : [];
          results.push(
            prompts.map((prompt, p) => ({
              prompt,
              mask: masks[p]!,
              ...(returnLogits && { logits: logitPlanes[p]! }),
            })),
          );
        }
        return results;
      },
    });
  },
});

/** The loading options of `promptSegmentation`: the model's, an optional `processor`, `textEmbeddingCacheSize`. */
export type PromptSegmentationOptions = TaskLoadOptions<
  PromptSegmentationParts,
  PromptSegmentationTaskOptions
>;

import {
  Image,
  type ImageInput,
  InvalidArgumentError,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  Tensor,
  loadImage,
  makePipeline,
  resolveModel,
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
}

export interface PromptSegmentationOptions extends PretrainedOptions {
  /** The processor; by default read from the model's folder or Hub id. */
  processor?: CLIPSegProcessor;
  /**
   * How many text prompts' embeddings to keep for reuse across calls (split graphs only; default 256, 0 turns
   * the cache off). Embeddings do not depend on the image, so a prompt asked again skips the text tower.
   */
  textEmbeddingCacheSize?: number;
}

function isImagePromptObject(prompt: object): prompt is { image: ImageInput } {
  return 'image' in prompt && !(prompt instanceof Image) && !ArrayBuffer.isView(prompt);
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

/** A small insertion-ordered cache of text prompt embeddings. */
class EmbeddingCache {
  #rows = new Map<string, Float32Array>();
  constructor(readonly capacity: number) {}
  get(text: string): Float32Array | undefined {
    return this.#rows.get(text);
  }
  set(text: string, row: Float32Array): void {
    if (this.capacity <= 0) return;
    this.#rows.delete(text);
    this.#rows.set(text, row);
    while (this.#rows.size > this.capacity) this.#rows.delete(this.#rows.keys().next().value!);
  }
}

/**
 * Segment an image by prompts (the Hugging Face task `image-segmentation` with prompts, as CLIPSeg does it): one
 * probability mask per prompt at the original image size. Prompts are text (strings) or images; image prompts
 * need the split graphs (`text_model`, `vision_model`, `conditional_model`), text prompts work with `model.onnx`
 * alone. With the split graphs every prompt goes through one decoder run, and text prompts' embeddings are cached
 * across calls.
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
 * await segment.dispose();
 * ```
 */
export async function promptSegmentation(
  model: ModelSource<CLIPSegForImageSegmentation>,
  { processor, textEmbeddingCacheSize = 256, ...options }: PromptSegmentationOptions = {},
): Promise<
  Pipeline<
    (
      image: ImageInput,
      prompts: readonly SegmentationPrompt[],
      options?: PromptSegmentationCallOptions,
    ) => Promise<PromptSegment[]>
  >
> {
  const loaded = await resolveModel(
    model,
    (id, o) => CLIPSegForImageSegmentation.fromPretrained(id, o),
    options,
  );
  let clipsegProcessor: CLIPSegProcessor;
  try {
    clipsegProcessor = processor ?? (await CLIPSegProcessor.fromPretrained(loaded.model.nameOrPath, options));
  } catch (error) {
    if (loaded.owned) await loaded.model.dispose();
    throw error;
  }
  const cache = new EmbeddingCache(textEmbeddingCacheSize);
  const segmenter = loaded.model;

  /** Embeddings of image prompts, in order, through vision_model. */
  async function imageRows(prompts: readonly SegmentationPrompt[]): Promise<Float32Array[]> {
    if (prompts.length === 0) return [];
    const { conditional_pixel_values } = await clipsegProcessor.process({
      visualPrompt: prompts.map(imagePromptInput),
    });
    return rowsOf(await segmenter.getConditionalEmbeddings({ conditional_pixel_values }));
  }

  /** Embeddings of text prompts by text, through text_model, from the cache where it has them. */
  async function textRows(texts: readonly string[]): Promise<Map<string, Float32Array>> {
    const rows = new Map(
      texts.flatMap((text) => (cache.get(text) ? [[text, cache.get(text)!] as const] : [])),
    );
    const missing = [...new Set(texts.filter((text) => !rows.has(text)))];
    if (missing.length > 0) {
      const encoding = await clipsegProcessor.process({ text: missing, padding: true });
      rowsOf(await segmenter.getConditionalEmbeddings(encoding)).forEach((row, i) => {
        rows.set(missing[i]!, row);
        cache.set(missing[i]!, row);
      });
    }
    return rows;
  }

  /** Embeddings [prompts, d] in prompt order, for one decoder run over every prompt. */
  async function promptEmbeddings(prompts: readonly SegmentationPrompt[]): Promise<Tensor<'float32'>> {
    // Image prompts first: without their graphs the call fails with the error that names them.
    const images = await imageRows(prompts.filter((p) => typeof p !== 'string'));
    const texts = await textRows(prompts.filter((p): p is string => typeof p === 'string'));
    let nextImage = 0;
    const rows = prompts.map((p) => (typeof p === 'string' ? texts.get(p)! : images[nextImage++]!));
    return stackRows(rows, segmenter.config.projection_dim);
  }

  async function segment(
    image: ImageInput,
    prompts: readonly SegmentationPrompt[],
    { returnLogits = false }: PromptSegmentationCallOptions = {},
  ): Promise<PromptSegment[]> {
    checkPrompts(prompts);
    const picture = await loadImage(image);
    const { pixel_values } = await clipsegProcessor.process({ images: picture });
    let logits: Tensor<'float32'>;
    if (prompts.every((p) => typeof p === 'string') && !(await segmenter.supportsTextEmbeddings())) {
      // model.onnx alone: one run with the image broadcast over the prompts.
      const encoding = await clipsegProcessor.process({ text: prompts as readonly string[], padding: true });
      ({ logits } = await segmenter.forward({ pixel_values, ...encoding }));
    } else {
      const conditional_embeddings = await promptEmbeddings(prompts);
      ({ logits } = await segmenter.forward({ pixel_values, conditional_embeddings }));
    }
    const masks = planes(postProcessPromptMasks(logits, [picture.height, picture.width]));
    const logitPlanes = returnLogits ? planes(logits) : [];
    return prompts.map((prompt, i) => ({
      prompt,
      mask: masks[i]!,
      ...(returnLogits && { logits: logitPlanes[i]! }),
    }));
  }

  return makePipeline(segment, async () => {
    if (loaded.owned) await loaded.model.dispose();
  });
}

function imagePromptInput(prompt: SegmentationPrompt): ImageInput {
  if (typeof prompt === 'object' && prompt !== null && isImagePromptObject(prompt)) return prompt.image;
  return prompt as ImageInput;
}

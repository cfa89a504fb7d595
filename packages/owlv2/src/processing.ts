import {
  type BatchEncoding,
  type EncodeOptions,
  type ImageInput,
  InputShapeError,
  InvalidArgumentError,
  type IsGiven,
  type OptionNames,
  PREPROCESS_OPTIONS,
  type PreprocessOptions,
  type Tensor,
  TextImageProcessor,
  type TextImageTensors,
  checkOptions,
  optionNames,
} from '@ortvision/core';
import { Owlv2ImageProcessor } from './image-processing.js';
import {
  type ImageGuidedDetectionOptions,
  type ImageGuidedDetectionResult,
  type ObjectDetectionOptions,
  type ObjectDetectionResult,
  postProcessImageGuidedDetection,
  postProcessObjectDetection,
} from './post-processing.js';

/** Text queries: one string, a list of queries (one image), or one list of queries per image. */
export type Owlv2TextInput = string | readonly string[] | readonly (readonly string[])[];

export interface Owlv2ProcessInputs {
  /** Text queries, per image when nested. */
  text?: Owlv2TextInput;
  /** The images to search in. */
  images?: ImageInput | readonly ImageInput[];
  /** Example images of what to find (image-guided detection). */
  queryImages?: ImageInput | readonly ImageInput[];
}

export interface Owlv2ProcessOptions extends PreprocessOptions {
  /** Default 'max_length' (Owlv2Processor's default): every query padded to the tokenizer's 16 tokens. */
  padding?: EncodeOptions['padding'];
  truncation?: EncodeOptions['truncation'];
  maxLength?: number;
}

/** The keys of `Owlv2ProcessInputs`. */
export const OWLV2_PROCESS_INPUTS = optionNames<Owlv2ProcessInputs>({
  text: true,
  images: true,
  queryImages: true,
});

/** The keys of `Owlv2ProcessOptions`: the image processor's overrides and the tokenizer's. */
export const OWLV2_PROCESS_OPTIONS: OptionNames<Owlv2ProcessOptions> = [
  ...PREPROCESS_OPTIONS,
  ...optionNames<Omit<Owlv2ProcessOptions, keyof PreprocessOptions>>({
    padding: true,
    truncation: true,
    maxLength: true,
  }),
];

/**
 * What `process` returns, named as Python's `Owlv2Processor.__call__` names them; `input_ids` is
 * [batch * queries, seq], image-major.
 */
export interface Owlv2ProcessorOutput extends TextImageTensors {
  query_pixel_values?: Tensor<'float32'>;
}

/**
 * The outputs for the inputs `I` given: the tensors of the inputs surely passed are not optional, so that
 * `model.forward(await processor.process({ images, text }))` type-checks.
 */
export type Owlv2ProcessorResult<I extends Owlv2ProcessInputs> = Owlv2ProcessorOutput &
  (IsGiven<I, 'text'> extends true
    ? { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> }
    : unknown) &
  (IsGiven<I, 'images'> extends true ? { pixel_values: Tensor<'float32'> } : unknown) &
  (IsGiven<I, 'queryImages'> extends true ? { query_pixel_values: Tensor<'float32'> } : unknown);

/** The query " " fills shorter per-image query lists (Python's Owlv2Processor). */
export const PADDING_QUERY = ' ';

/** Flattens text queries image-major, padding shorter per-image lists with " "; returns the queries per image. */
export function flattenQueries(text: Owlv2TextInput): { queries: string[]; perImage: number } {
  if (typeof text === 'string') return { queries: [text], perImage: 1 };
  if (!Array.isArray(text) || text.length === 0) {
    throw new InvalidArgumentError(
      `text must be a string, a list of strings or a list of lists of strings, got ${JSON.stringify(text)}`,
    );
  }
  if (text.every((t) => typeof t === 'string'))
    return { queries: [...(text as string[])], perImage: text.length };
  if (!text.every((t) => Array.isArray(t) && t.every((q) => typeof q === 'string'))) {
    throw new InvalidArgumentError(
      'text must be a string, a list of strings or a list of lists of strings (do not mix strings and lists)',
    );
  }
  const lists = text as readonly (readonly string[])[];
  const perImage = Math.max(...lists.map((l) => l.length));
  if (perImage === 0) throw new InvalidArgumentError('text holds only empty query lists');
  return {
    queries: lists.flatMap((l) => [...l, ...Array<string>(perImage - l.length).fill(PADDING_QUERY)]),
    perImage,
  };
}

function imageCount(images: ImageInput | readonly ImageInput[]): number {
  return Array.isArray(images) ? images.length : 1;
}

/**
 * OWLv2's processor (transformers' `Owlv2Processor`): text queries through the CLIP tokenizer (padded to
 * max_length 16 by default; nested per-image lists padded with the query " " and flattened image-major), images
 * and query images through `Owlv2ImageProcessor`; and the post-processing methods.
 *
 * @example
 * ```ts
 * const processor = await Owlv2Processor.fromPretrained('google/owlv2-base-patch16-ensemble');
 * const inputs = await processor.process({ images: 'street.jpg', text: [['a bus', 'a bicycle']] });
 * const outputs = await model.forward(inputs);
 * const side = Math.max(image.height, image.width);
 * const [found] = processor.postProcessObjectDetection(outputs, { threshold: 0.2, targetSizes: [[side, side]] });
 * ```
 */
export class Owlv2Processor extends TextImageProcessor<Owlv2ImageProcessor> {
  static override readonly imageProcessorClass = Owlv2ImageProcessor;

  /**
   * Tokenizes text queries as the processor does: `input_ids` / `attention_mask` [images * queries, seq], padded
   * to max_length unless `padding` says otherwise. Queries longer than the model's 16 tokens need `truncation`.
   */
  tokenize(
    text: Owlv2TextInput,
    options: Pick<Owlv2ProcessOptions, 'padding' | 'truncation' | 'maxLength'> = {},
  ): BatchEncoding & { queriesPerImage: number } {
    const { queries, perImage } = flattenQueries(text);
    const encoding = this.tokenizer.encode(queries, {
      padding: options.padding ?? 'max_length',
      truncation: options.truncation,
      maxLength: options.maxLength,
    });
    const length = encoding.input_ids.dims[1]!;
    const limit = options.maxLength ?? this.tokenizer.modelMaxLength;
    if (length > limit) {
      throw new InputShapeError(
        `a query has ${length} tokens, more than the ${limit} the model takes; shorten it or pass truncation: true`,
      );
    }
    return { ...encoding, queriesPerImage: perImage };
  }

  /**
   * Python's `processor(text=..., images=..., query_images=...)`: any of the three, named outputs as in Python.
   * With nested text, the number of query lists must equal the number of images.
   */
  async process<I extends Owlv2ProcessInputs>(
    inputs: I,
    options: Owlv2ProcessOptions = {},
  ): Promise<Owlv2ProcessorResult<I>> {
    const { text, images, queryImages } = checkOptions(
      inputs,
      OWLV2_PROCESS_INPUTS,
      'Owlv2Processor.process inputs',
    );
    checkOptions(options, OWLV2_PROCESS_OPTIONS, 'Owlv2Processor.process');
    if (text === undefined && images === undefined && queryImages === undefined) {
      throw new InvalidArgumentError('process needs at least one of text, images or queryImages');
    }
    const { padding, truncation, maxLength, ...imageOptions } = options;
    const out: Owlv2ProcessorOutput = {};
    if (text !== undefined) {
      if (images !== undefined && Array.isArray(text) && text.length > 0 && Array.isArray(text[0])) {
        const count = imageCount(images);
        if (text.length !== count) {
          throw new InputShapeError(
            `got ${text.length} lists of text queries for ${count} images: pass one list of queries per image`,
          );
        }
      }
      const { input_ids, attention_mask } = this.tokenize(text, { padding, truncation, maxLength });
      out.input_ids = input_ids;
      out.attention_mask = attention_mask;
    }
    if (queryImages !== undefined) {
      out.query_pixel_values = (await this.imageProcessor.preprocess(queryImages, imageOptions)).pixel_values;
    }
    if (images !== undefined) {
      out.pixel_values = (await this.imageProcessor.preprocess(images, imageOptions)).pixel_values;
    }
    return out as Owlv2ProcessorResult<I>;
  }

  /** See `postProcessObjectDetection`. */
  postProcessObjectDetection(
    outputs: { logits?: Tensor; pred_boxes?: Tensor },
    options?: ObjectDetectionOptions,
  ): ObjectDetectionResult[] {
    return postProcessObjectDetection(outputs, options);
  }

  /** See `postProcessImageGuidedDetection`. */
  postProcessImageGuidedDetection(
    outputs: { logits?: Tensor; target_pred_boxes?: Tensor },
    options?: ImageGuidedDetectionOptions,
  ): ImageGuidedDetectionResult[] {
    return postProcessImageGuidedDetection(outputs, options);
  }
}

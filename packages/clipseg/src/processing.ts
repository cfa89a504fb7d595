import {
  type ImageInput,
  InvalidArgumentError,
  type IsGiven,
  type PaddingTruncationOptions,
  type PreprocessOptions,
  type Tensor,
  TextImageProcessor,
  type TextImageTensors,
  checkOptions,
  optionNames,
} from '@ortvision/core';
import { CLIPSegImageProcessor } from './image-processing.js';

/** What `CLIPSegProcessor.process` takes: HF's `CLIPSegProcessor.__call__` arguments, camelCase. */
export interface CLIPSegProcessorInputs extends PaddingTruncationOptions {
  /** Text prompts; each becomes one row of `input_ids` / `attention_mask`. */
  text?: string | readonly string[];
  /** The images to segment -> `pixel_values`. */
  images?: ImageInput | readonly ImageInput[];
  /** Image prompts -> `conditional_pixel_values` (the same image processor). Not together with `text`. */
  visualPrompt?: ImageInput | readonly ImageInput[];
  /** Image processor overrides (camelCase config names), for `images` and `visualPrompt` alike. */
  imageOptions?: PreprocessOptions;
  /** Add the tokenizer's special tokens around each text prompt (default true, as in Python). */
  addSpecialTokens?: boolean;
}

/** The keys of `CLIPSegProcessorInputs`. */
export const CLIPSEG_PROCESSOR_INPUTS = optionNames<CLIPSegProcessorInputs>({
  text: true,
  images: true,
  visualPrompt: true,
  imageOptions: true,
  padding: true,
  truncation: true,
  maxLength: true,
  addSpecialTokens: true,
});

/** What `CLIPSegProcessor.process` returns: the tensors named as in Python, those of the inputs given. */
export interface CLIPSegProcessorOutputs extends TextImageTensors {
  conditional_pixel_values?: Tensor<'float32'>;
}

type TextOutputs = { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> };

/**
 * The outputs for the inputs `I` given: the tensors of the inputs that were surely passed are not optional, so that
 * `model.forward(await processor.process({ text, images }))` type-checks.
 */
export type CLIPSegProcessorResult<I extends CLIPSegProcessorInputs> = CLIPSegProcessorOutputs &
  (IsGiven<I, 'text'> extends true ? TextOutputs : unknown) &
  (IsGiven<I, 'images'> extends true ? { pixel_values: Tensor<'float32'> } : unknown) &
  (IsGiven<I, 'visualPrompt'> extends true ? { conditional_pixel_values: Tensor<'float32'> } : unknown);

/**
 * transformers' `CLIPSegProcessor`: a `CLIPSegImageProcessor` (ViTImageProcessor) for the images and the image
 * prompts, and the CLIP tokenizer for text prompts. `process` is Python's `__call__`.
 *
 * transformers wants one prompt per image (repeat the image for several prompts); the exported graphs also take
 * ONE image with N prompts and broadcast it (fixture clipseg, model case `text-batch3-image1`).
 *
 * @example
 * ```ts
 * import { CLIPSegProcessor } from '@ortvision/clipseg';
 * const processor = await CLIPSegProcessor.fromPretrained('CIDAS/clipseg-rd64-refined');
 * const inputs = await processor.process({ text: ['a cat', 'a remote'], images: 'cats.png', padding: true });
 * // input_ids / attention_mask int64 [2, seq], pixel_values float32 [1, 3, 352, 352]
 * ```
 */
export class CLIPSegProcessor extends TextImageProcessor<CLIPSegImageProcessor> {
  static override readonly imageProcessorClass = CLIPSegImageProcessor;

  /**
   * Text prompts -> `input_ids` / `attention_mask` (padding off by default, as in Python: pass `padding: true` for
   * prompts of different lengths), images -> `pixel_values`, image prompts -> `conditional_pixel_values`.
   */
  async process<I extends CLIPSegProcessorInputs>(inputs: I): Promise<CLIPSegProcessorResult<I>> {
    const { text, images, visualPrompt, imageOptions, padding, truncation, maxLength, addSpecialTokens } =
      checkOptions(inputs, CLIPSEG_PROCESSOR_INPUTS, 'CLIPSegProcessor.process');
    if (text === undefined && images === undefined && visualPrompt === undefined) {
      throw new InvalidArgumentError(
        'CLIPSegProcessor.process needs text, visualPrompt or images: all three are missing',
      );
    }
    if (text !== undefined && visualPrompt !== undefined) {
      throw new InvalidArgumentError(
        'CLIPSegProcessor.process takes one kind of prompt: text or visualPrompt, not both',
      );
    }
    const outputs: CLIPSegProcessorOutputs = {};
    if (text !== undefined) {
      const { input_ids, attention_mask } = this.tokenizer.encode(text, {
        padding,
        truncation,
        maxLength,
        addSpecialTokens,
      });
      Object.assign(outputs, { input_ids, attention_mask });
    }
    if (images !== undefined) {
      outputs.pixel_values = (await this.imageProcessor.preprocess(images, imageOptions)).pixel_values;
    }
    if (visualPrompt !== undefined) {
      outputs.conditional_pixel_values = (
        await this.imageProcessor.preprocess(visualPrompt, imageOptions)
      ).pixel_values;
    }
    return outputs as CLIPSegProcessorResult<I>;
  }
}

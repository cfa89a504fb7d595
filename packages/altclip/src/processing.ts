import {
  type BatchEncoding,
  ENCODE_OPTIONS,
  type EncodeOptions,
  type ImageInput,
  InvalidArgumentError,
  PREPROCESS_OPTIONS,
  type PreprocessOptions,
  type Tensor,
  TextImageProcessor,
  checkOptions,
  encodeOptionsFromKwargs,
  preprocessOptionsFromKwargs,
  splitTokenizerKwargs,
} from '@ortvision/core';
import { CLIPImageProcessor } from './image-processing.js';

/** One image or several; a list gives a batch in order. */
export type AltCLIPImages = ImageInput | readonly ImageInput[];

/**
 * What `AltCLIPProcessor.process` takes (transformers' `AltCLIPProcessor.__call__`): `text` and/or `images`, the
 * tokenizer's options (`padding`, `truncation`, `maxLength`, `addSpecialTokens`) and the image processor's
 * camelCase overrides (`size`, `cropSize`, `doCenterCrop`, `resample`, ...).
 */
export interface AltCLIPProcessorInputs extends EncodeOptions, PreprocessOptions {
  text?: string | readonly string[];
  images?: AltCLIPImages;
}

/** `input_ids`/`attention_mask` when text was given, `pixel_values` when images were. */
export type AltCLIPProcessorOutput<I extends AltCLIPProcessorInputs = AltCLIPProcessorInputs> = (I extends {
  text: string | readonly string[];
}
  ? BatchEncoding
  : Partial<BatchEncoding>) &
  (I extends { images: AltCLIPImages }
    ? { pixel_values: Tensor<'float32'> }
    : { pixel_values?: Tensor<'float32'> });

/** The keys of `AltCLIPProcessorInputs`: text, images, the tokenizer's options and the image processor's. */
export const ALTCLIP_PROCESSOR_INPUTS: readonly string[] = [
  'text',
  'images',
  ...ENCODE_OPTIONS,
  ...PREPROCESS_OPTIONS,
];

/**
 * Python keyword arguments of `AltCLIPProcessor.__call__` (`{"padding": "max_length", "max_length": 16,
 * "do_center_crop": false}`, as a fixture manifest or a Python snippet writes them) as `process` options. Unknown
 * names throw, so nothing is silently ignored.
 */
export function processorOptionsFromKwargs(
  kwargs: Readonly<Record<string, unknown>>,
): Omit<AltCLIPProcessorInputs, 'text' | 'images'> {
  const { tokenizer, rest } = splitTokenizerKwargs(kwargs);
  return { ...preprocessOptionsFromKwargs(rest), ...encodeOptionsFromKwargs(tokenizer) };
}

/**
 * transformers' `AltCLIPProcessor`: a `CLIPImageProcessor` for images and the XLM-RoBERTa tokenizer
 * (tokenizer.json: SentencePiece Unigram with the Precompiled NFKC normalizer) for text in any language its
 * vocabulary covers. Padding is on the right with `<pad>` (id 1), which the text tower's position ids expect.
 *
 * @example
 * ```ts
 * import { AltCLIPProcessor } from '@ortvision/altclip';
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const inputs = await processor.process({
 *   text: ['a photo of a cat', '一张猫的照片', '猫の写真'],
 *   images: 'cats.png',
 *   padding: true,
 * });
 * // inputs.input_ids: int64 [3, seq], inputs.attention_mask, inputs.pixel_values: float32 [1, 3, 224, 224]
 * processor.batchDecode(inputs.input_ids, { skipSpecialTokens: true }); // the three texts back
 * ```
 */
export class AltCLIPProcessor extends TextImageProcessor<CLIPImageProcessor> {
  static override readonly imageProcessorClass = CLIPImageProcessor;

  /**
   * Tokenizes `text` and preprocesses `images`, as transformers' `processor(text=..., images=...,
   * return_tensors=...)`. As in Python, padding is off unless asked for (`padding: true` for texts of different
   * lengths) and nothing is truncated unless `truncation` or `maxLength` says so.
   */
  async process<const I extends AltCLIPProcessorInputs>(inputs: I): Promise<AltCLIPProcessorOutput<I>> {
    const { text, images, ...options } = checkOptions(
      inputs,
      ALTCLIP_PROCESSOR_INPUTS,
      'AltCLIPProcessor.process',
    );
    if (text === undefined && images === undefined) {
      throw new InvalidArgumentError('process needs text or images (or both); got neither');
    }
    const encodeOptions: EncodeOptions = {};
    const imageOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if ((ENCODE_OPTIONS as readonly string[]).includes(key))
        (encodeOptions as Record<string, unknown>)[key] = value;
      else imageOptions[key] = value;
    }
    const output: Partial<BatchEncoding> & { pixel_values?: Tensor<'float32'> } = {};
    if (text !== undefined) Object.assign(output, this.tokenizer.encode(text, encodeOptions));
    if (images !== undefined) {
      const list = Array.isArray(images) ? [...(images as readonly ImageInput[])] : [images as ImageInput];
      if (list.length === 0)
        throw new InvalidArgumentError('images is an empty list: give at least one image');
      output.pixel_values = (
        await this.imageProcessor.preprocess(list, imageOptions as PreprocessOptions)
      ).pixel_values;
    }
    return output as AltCLIPProcessorOutput<I>;
  }
}

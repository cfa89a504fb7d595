import type { ResolveOptions } from '../../hub/resolve.js';
import { CLIPImageProcessor } from '../../image/clip-image-processor.js';
import type { ImageProcessor, ImageProcessorConfig } from '../../image/image-processor.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type DecodeOptions, type TokenIds, Tokenizer } from '../../text/tokenizer.js';
import { checkOptions } from '../../validation/option-names.js';
import { PRETRAINED_OPTIONS } from '../pretrained-options.js';

/** The tensors a CLIP-family processor returns, named as in Python: those of the inputs it was given. */
export interface TextImageTensors {
  /** int64 [texts, seq]. */
  input_ids?: Tensor<'int64'>;
  /** int64 [texts, seq]: 1 for tokens, 0 for padding. */
  attention_mask?: Tensor<'int64'>;
  /** float32 [images, 3, H, W]. */
  pixel_values?: Tensor<'float32'>;
}

/** An image processor class as `TextImageProcessor.fromPretrained` loads it. */
export interface ImageProcessorClass<I extends ImageProcessor> {
  new (config: ImageProcessorConfig, source?: string): I;
  fromPretrained(idOrPath: string, options?: ResolveOptions): Promise<I>;
}

/** The statics a `TextImageProcessor` subclass has (what `fromPretrained` builds it from). */
export interface TextImageProcessorClass<P extends TextImageProcessor<ImageProcessor>> {
  new (imageProcessor: never, tokenizer: Tokenizer): P;
  readonly imageProcessorClass: ImageProcessorClass<ImageProcessor>;
  readonly name: string;
}

/**
 * The CLIP family's processors (transformers' `CLIPProcessor`, `CLIPSegProcessor`, `Owlv2Processor`,
 * `AltCLIPProcessor`): an image processor of the subclass's `imageProcessorClass` and the tokenizer, loaded together
 * from one folder or Hub id, with the tokenizer's `decode` / `batchDecode`. Subclasses add `process` (Python's
 * `__call__`), whose inputs differ per model.
 *
 * @example
 * ```ts
 * import { CLIPImageProcessor, TextImageProcessor } from '@ortvision/core';
 * class MyProcessor extends TextImageProcessor<CLIPImageProcessor> {
 *   static override readonly imageProcessorClass = CLIPImageProcessor;
 * }
 * const processor = await MyProcessor.fromPretrained('./altclip-local');
 * processor.tokenizer.encode(['a cat']).input_ids; // int64 [1, seq]
 * ```
 */
export class TextImageProcessor<I extends ImageProcessor> {
  /** The image processor `fromPretrained` loads: CLIP's unless a subclass names its own. */
  static readonly imageProcessorClass: ImageProcessorClass<ImageProcessor> = CLIPImageProcessor;

  readonly imageProcessor: I;
  readonly tokenizer: Tokenizer;

  constructor(imageProcessor: I, tokenizer: Tokenizer) {
    this.imageProcessor = imageProcessor;
    this.tokenizer = tokenizer;
  }

  /** Loads preprocessor_config.json and the tokenizer files of a model folder or Hub id, in parallel. */
  static async fromPretrained<P extends TextImageProcessor<ImageProcessor>>(
    this: TextImageProcessorClass<P>,
    idOrPath: string,
    options: ResolveOptions = {},
  ): Promise<P> {
    checkOptions(options, PRETRAINED_OPTIONS, `${this.name}.fromPretrained`);
    const [imageProcessor, tokenizer] = await Promise.all([
      this.imageProcessorClass.fromPretrained(idOrPath, options),
      Tokenizer.fromPretrained(idOrPath, options),
    ]);
    return new this(imageProcessor as never, tokenizer);
  }

  /** transformers' `batch_decode`: each row of [batch, seq] ids back to text. */
  batchDecode(
    ids: Tensor<'int64'> | Tensor<'int32'> | readonly TokenIds[],
    options: DecodeOptions = {},
  ): string[] {
    return this.tokenizer.batchDecode(ids, options);
  }

  /** transformers' `decode`: one sequence of ids back to text. */
  decode(ids: TokenIds, options: DecodeOptions = {}): string {
    return this.tokenizer.decode(ids, options);
  }
}

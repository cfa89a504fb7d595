import {
  type Image,
  type ImageInput,
  ImageProcessor,
  type ImageProcessorConfig,
  type ImageProcessorOutput,
  type ImageSize,
  InvalidArgumentError,
  type OptionNames,
  PREPROCESS_OPTIONS,
  type PreprocessOptions,
  type ResolvedPreprocessOptions,
  type SizeDict,
  type Tensor,
  optionNames,
} from '@ortvision/core';
import {
  type InstanceSegmentationOptions,
  type InstanceSegmentationResult,
  type Mask2FormerOutputs,
  type PanopticSegmentationOptions,
  type PanopticSegmentationResult,
  type SemanticSegmentationOptions,
  postProcessInstanceSegmentation,
  postProcessPanopticSegmentation,
  postProcessSemanticSegmentation,
} from './post-processing.js';

/** `preprocess` overrides: the common ones plus Mask2Former's `sizeDivisor` (0 = no rounding). */
export interface Mask2FormerPreprocessOptions extends PreprocessOptions {
  sizeDivisor?: number;
}

/** The keys of `Mask2FormerPreprocessOptions`. */
export const MASK2FORMER_PREPROCESS_OPTIONS: OptionNames<Mask2FormerPreprocessOptions> = [
  ...PREPROCESS_OPTIONS,
  ...optionNames<Omit<Mask2FormerPreprocessOptions, keyof PreprocessOptions>>({ sizeDivisor: true }),
];

/** The resolved settings of one `preprocess` call. */
export interface Mask2FormerResolvedOptions extends ResolvedPreprocessOptions {
  sizeDivisor: number;
}

/** What `preprocess` returns: Mask2Former always pads a batch and always returns `pixel_mask`. */
export interface Mask2FormerProcessorOutput extends ImageProcessorOutput {
  pixel_mask: Tensor<'int64'>;
}

function checkSizeDivisor(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(
      `${name} must be an integer >= 0 (0 = no rounding), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * transformers' `get_resize_output_image_size(default_to_square=False, max_size)`: the short side becomes
 * `shortest`, the long side `int(shortest * long / short)`, and a long side above `longest` becomes `longest` with
 * the short side `int(longest * short' / long')`. An image whose short side already equals `shortest` keeps its
 * size, even when its long side exceeds `longest` (transformers returns early there).
 */
function shortestEdgeResize(height: number, width: number, shortest: number, longest: number): ImageSize {
  const [short, long] = width <= height ? [width, height] : [height, width];
  if (short === shortest) return { height, width };
  let newShort = shortest;
  let newLong = Math.trunc((shortest * long) / short);
  if (longest <= shortest) {
    throw new InvalidArgumentError(
      `size.longest_edge = ${longest} must be greater than size.shortest_edge = ${shortest}`,
    );
  }
  if (newLong > longest) {
    newShort = Math.trunc((longest * newShort) / newLong);
    newLong = longest;
  }
  return width <= height ? { height: newLong, width: newShort } : { height: newShort, width: newLong };
}

/**
 * transformers' `Mask2FormerImageProcessor`: resize so the short side is `size.shortest_edge` (long side capped at
 * `size.longest_edge`), then round BOTH sides up to a multiple of `size_divisor` (the image is stretched, not
 * padded; `size_divisor` 0 turns this off, and a `{height, width}` size is rounded up too); PIL resampling on uint8
 * (bilinear by default), rescale 1/255, normalize (ImageNet mean/std); a batch is padded bottom/right with 0 after
 * normalization to the largest height and width, and `pixel_mask` (int64, 1 = image, 0 = padding) is returned.
 * A bare int `size` means `{shortest_edge: n, longest_edge: _max_size}` (1333 by default).
 *
 * The post-processing methods (`postProcessSemanticSegmentation`, `postProcessInstanceSegmentation`,
 * `postProcessPanopticSegmentation`) turn model outputs into segmentation maps as transformers does.
 *
 * @example
 * ```ts
 * import { Mask2FormerImageProcessor, Mask2FormerForUniversalSegmentation } from '@ortvision/mask2former';
 * const processor = await Mask2FormerImageProcessor.fromPretrained('./mask2former-local');
 * const model = await Mask2FormerForUniversalSegmentation.fromPretrained('./mask2former-local');
 * const { pixel_values } = await processor.preprocess('cats.png');
 * const outputs = await model.forward({ pixel_values });
 * const [panoptic] = processor.postProcessPanopticSegmentation(outputs, { targetSizes: [[480, 640]] });
 * console.log(panoptic.segments_info); // [{ id: 1, label_id: 15, was_fused: false, score: 0.98 }, ...]
 * ```
 */
export class Mask2FormerImageProcessor extends ImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...ImageProcessor.defaults,
    do_resize: true,
    size: { shortest_edge: 800, longest_edge: 1333 },
    resample: 2,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
    do_pad: true,
    size_divisor: 32,
    _max_size: 1333,
  };

  static override readonly sizeDefaultToSquare = false;

  static override readonly preprocessOptions: readonly string[] = MASK2FORMER_PREPROCESS_OPTIONS;

  /** The config's `size_divisor`. */
  readonly sizeDivisor: number;
  /** The config's `_max_size`: the long-side cap a bare int `size` gets. */
  readonly maxSize: number;

  constructor(config: ImageProcessorConfig = {}, source?: string) {
    super(config, source);
    this.sizeDivisor = this.checkConfig(() => checkSizeDivisor(this.config.size_divisor, 'size_divisor'));
    this.maxSize = this.checkConfig(() => {
      const maxSize = this.config._max_size;
      if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 1) {
        throw new InvalidArgumentError(`_max_size must be an integer >= 1, got ${JSON.stringify(maxSize)}`);
      }
      return maxSize;
    });
  }

  override resolveOptions(overrides: Mask2FormerPreprocessOptions = {}): Mask2FormerResolvedOptions {
    return {
      ...super.resolveOptions(overrides),
      // Mask2Former pads every batch (its `encode_inputs` always calls `pad` with a pixel mask).
      doPad: true,
      sizeDivisor:
        overrides.sizeDivisor === undefined
          ? this.sizeDivisor
          : checkSizeDivisor(overrides.sizeDivisor, 'sizeDivisor'),
    };
  }

  override async preprocess(
    images: ImageInput | readonly ImageInput[],
    overrides: Mask2FormerPreprocessOptions = {},
  ): Promise<Mask2FormerProcessorOutput> {
    return (await super.preprocess(images, overrides)) as Mask2FormerProcessorOutput;
  }

  protected override resizeSize(image: Image, options: ResolvedPreprocessOptions): ImageSize {
    const { sizeDivisor } = options as Mask2FormerResolvedOptions;
    const size: SizeDict = options.size;
    let out: ImageSize;
    if ('height' in size) out = { height: size.height, width: size.width };
    else if ('shortest_edge' in size) {
      const longest = 'longest_edge' in size ? size.longest_edge : this.maxSize;
      out = shortestEdgeResize(image.height, image.width, size.shortest_edge, longest);
    } else {
      throw new InvalidArgumentError(
        `Mask2FormerImageProcessor needs size {shortest_edge, longest_edge} or {height, width}, got ${JSON.stringify(size)}`,
      );
    }
    if (sizeDivisor > 0) {
      out = {
        height: Math.ceil(out.height / sizeDivisor) * sizeDivisor,
        width: Math.ceil(out.width / sizeDivisor) * sizeDivisor,
      };
    }
    return out;
  }

  /** Per-pixel class ids, one map per image (see `postProcessSemanticSegmentation` in post-processing.ts). */
  postProcessSemanticSegmentation(
    outputs: Mask2FormerOutputs,
    options: SemanticSegmentationOptions = {},
  ): Tensor<'int32'>[] {
    return postProcessSemanticSegmentation(outputs, options);
  }

  /** Instances per image (see `postProcessInstanceSegmentation` in post-processing.ts). */
  postProcessInstanceSegmentation(
    outputs: Mask2FormerOutputs,
    options: InstanceSegmentationOptions = {},
  ): InstanceSegmentationResult[] {
    return postProcessInstanceSegmentation(outputs, options);
  }

  /** Panoptic segments per image (see `postProcessPanopticSegmentation` in post-processing.ts). */
  postProcessPanopticSegmentation(
    outputs: Mask2FormerOutputs,
    options: PanopticSegmentationOptions = {},
  ): PanopticSegmentationResult[] {
    return postProcessPanopticSegmentation(outputs, options);
  }
}

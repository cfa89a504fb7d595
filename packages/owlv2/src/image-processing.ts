import {
  type Image,
  ImageProcessor,
  type ImageProcessorConfig,
  type ImageProcessorOutput,
  InputShapeError,
  InvalidArgumentError,
  type ResolvedPreprocessOptions,
  Tensor,
} from '@ortvision/core';
import { ResizeScratch, antiAliasedResize } from './anti-aliased-resize.js';

const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** OWLv2 pads with gray (0.5 after rescaling), not black. */
const PAD_VALUE = 0.5;

/** The size of one image after `preprocess`: its padded square resized to `size`. */
export interface Owlv2ImageSize {
  height: number;
  width: number;
}

/**
 * OWLv2's image processor (transformers' `Owlv2ImageProcessor`): rescale to float32, pad bottom/right to a
 * square with 0.5, resize with scipy's anti-aliasing (Gaussian filter, then linear zoom; see
 * anti-aliased-resize.ts), clip to the padded image's range, normalize with CLIP's mean and std. Boxes the model
 * predicts are relative to the padded square: scale them by `max(height, width)` of the original image.
 *
 * @example
 * ```ts
 * const processor = await Owlv2ImageProcessor.fromPretrained('google/owlv2-base-patch16-ensemble');
 * const { pixel_values } = await processor.preprocess('street.jpg'); // [1, 3, 960, 960]
 * ```
 */
export class Owlv2ImageProcessor extends ImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...ImageProcessor.defaults,
    size: { height: 960, width: 960 },
    resample: 2,
    do_pad: true,
    image_mean: OPENAI_CLIP_MEAN,
    image_std: OPENAI_CLIP_STD,
  };

  #scratch = new ResizeScratch();
  #hwc = new Float32Array(0);

  /** Python's order: rescale, pad to a square, resize (+ clip), normalize; float32 after every step. */
  override preprocessImages(
    images: readonly Image[],
    options: ResolvedPreprocessOptions,
  ): ImageProcessorOutput {
    if (images.length === 0) throw new InvalidArgumentError('preprocess needs at least one image');
    if (options.doResize && !('height' in options.size)) {
      throw new InvalidArgumentError(
        `Owlv2ImageProcessor needs size as { height, width }, got ${JSON.stringify(options.size)}`,
      );
    }
    const values = new Float32Array(256);
    for (let b = 0; b < 256; b++) values[b] = options.doRescale ? b * options.rescaleFactor : b;
    const mean = options.imageMean.map(Math.fround);
    const std = options.imageStd.map(Math.fround);
    // Reused across calls: preprocessImages is synchronous, so one call never sees another's half-written buffers.
    const scratch = this.#scratch;
    let height = 0;
    let width = 0;
    let pixelValues: Float32Array | undefined;
    let hwc = this.#hwc;
    images.forEach((input, index) => {
      const image = input.toRGB();
      const side = Math.max(image.height, image.width);
      const paddedHeight = options.doPad ? side : image.height;
      const paddedWidth = options.doPad ? side : image.width;
      const size = options.size as { height: number; width: number };
      const outHeight = options.doResize ? size.height : paddedHeight;
      const outWidth = options.doResize ? size.width : paddedWidth;
      if (pixelValues === undefined) {
        height = outHeight;
        width = outWidth;
        pixelValues = new Float32Array(images.length * 3 * height * width);
      } else if (outHeight !== height || outWidth !== width) {
        throw new InputShapeError(
          `cannot batch images of different sizes without resizing: image 0 gives ${height}x${width}, image ${index} gives ${outHeight}x${outWidth} (enable doResize or doPad)`,
        );
      }
      const source = {
        data: image.data,
        width: image.width,
        height: image.height,
        channels: 3,
        values,
        paddedHeight,
        paddedWidth,
        padValue: PAD_VALUE,
      };
      const count = outHeight * outWidth * 3;
      if (hwc.length < count) {
        hwc = new Float32Array(count);
        this.#hwc = hwc;
      }
      let low = Number.NEGATIVE_INFINITY;
      let high = Number.POSITIVE_INFINITY;
      if (options.doResize) {
        antiAliasedResize(source, outHeight, outWidth, hwc, scratch);
        // _clip_warp_output: the resized image stays within the range of the (padded) input.
        [low, high] = valueRange(image, values, paddedHeight !== image.height || paddedWidth !== image.width);
      } else {
        copyPadded(source, hwc);
      }
      writeNormalizedPlanar(
        hwc,
        outHeight * outWidth,
        low,
        high,
        options.doNormalize ? { mean, std } : undefined,
        pixelValues,
        index,
      );
    });
    return { pixel_values: new Tensor('float32', pixelValues!, [images.length, 3, height, width]) };
  }
}

/** The [min, max] of the rescaled pixels, with the pad value when there is padding. */
function valueRange(image: Image, values: Float32Array, padded: boolean): [number, number] {
  const { data } = image;
  let lo = 255;
  let hi = 0;
  // Rescaling is monotonic, so the byte extremes give the value extremes; a photo usually holds both 0 and 255,
  // after which nothing can widen the range.
  for (let start = 0; start < data.length && !(lo === 0 && hi === 255); start += 4096) {
    const end = Math.min(data.length, start + 4096);
    for (let i = start; i < end; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  let low = Math.min(values[lo]!, values[hi]!);
  let high = Math.max(values[lo]!, values[hi]!);
  if (padded) {
    low = Math.min(low, PAD_VALUE);
    high = Math.max(high, PAD_VALUE);
  }
  return [low, high];
}

/** The padded, rescaled image without resizing (`do_resize=False`), HWC float32. */
function copyPadded(
  source: {
    data: Uint8Array;
    width: number;
    height: number;
    values: Float32Array;
    paddedHeight: number;
    paddedWidth: number;
  },
  out: Float32Array,
): void {
  const { data, width, height, values, paddedHeight, paddedWidth } = source;
  out.fill(PAD_VALUE, 0, paddedHeight * paddedWidth * 3);
  for (let y = 0; y < height; y++) {
    const from = y * width * 3;
    const to = y * paddedWidth * 3;
    for (let i = 0; i < width * 3; i++) out[to + i] = values[data[from + i]!]!;
  }
}

/** HWC -> the image's CHW slot of the batch, with clip and float32 normalization `(x - mean) / std`. */
function writeNormalizedPlanar(
  hwc: Float32Array,
  pixels: number,
  low: number,
  high: number,
  normalize: { mean: number[]; std: number[] } | undefined,
  out: Float32Array,
  index: number,
): void {
  for (let c = 0; c < 3; c++) {
    const plane = (index * 3 + c) * pixels;
    if (normalize === undefined) {
      for (let p = 0, i = c; p < pixels; p++, i += 3) {
        const v = hwc[i]!;
        out[plane + p] = v < low ? low : v > high ? high : v;
      }
      continue;
    }
    const mean = normalize.mean[c]!;
    const std = normalize.std[c]!;
    for (let p = 0, i = c; p < pixels; p++, i += 3) {
      const v = hwc[i]!;
      // numpy float32: (x - mean) rounded to float32, then / std rounded again by the Float32Array store.
      out[plane + p] = Math.fround((v < low ? low : v > high ? high : v) - mean) / std;
    }
  }
}

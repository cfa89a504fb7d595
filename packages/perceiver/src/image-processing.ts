import {
  type Image,
  ImageProcessor,
  type ImageProcessorConfig,
  type ImageSize,
  InvalidArgumentError,
  type ResolvedPreprocessOptions,
  centerCrop,
} from '@ortvision/core';

/**
 * transformers' `PerceiverImageProcessor`: center crop FIRST, to
 * `(size.height / crop_size.height * min(h, w), size.width / crop_size.width * min(h, w))` truncated to ints
 * (zero-padded when larger than the image), then resize to `size` (bicubic by default), rescale 1/255,
 * ImageNet mean/std. Fixture cases: perceiver-cls-learned `size-override` (non-square crop),
 * `crop-larger-than-image` (zero padding before the resize), `no-resize`.
 *
 * @example
 * ```ts
 * import { PerceiverImageProcessor } from '@ortvision/perceiver';
 * const processor = await PerceiverImageProcessor.fromPretrained('./perceiver-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export class PerceiverImageProcessor extends ImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...ImageProcessor.defaults,
    do_center_crop: true,
    crop_size: { height: 256, width: 256 },
    do_resize: true,
    size: { height: 224, width: 224 },
    resample: 3,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };

  protected override cropSize(image: Image, { size, cropSize }: ResolvedPreprocessOptions): ImageSize {
    if (!('height' in size) || !('height' in cropSize)) {
      throw new InvalidArgumentError(
        `PerceiverImageProcessor needs size and crop_size as {height, width}, got ${JSON.stringify(size)} and ${JSON.stringify(cropSize)}`,
      );
    }
    const minDim = Math.min(image.height, image.width);
    // Same operation order as transformers: (size / crop_size) * min_dim, then int() inside center_crop.
    return {
      height: Math.trunc((size.height / cropSize.height) * minDim),
      width: Math.trunc((size.width / cropSize.width) * minDim),
    };
  }

  protected override resizeSize(_image: Image, { size }: ResolvedPreprocessOptions): ImageSize {
    if (!('height' in size)) {
      throw new InvalidArgumentError(
        `PerceiverImageProcessor needs size {height, width}, got ${JSON.stringify(size)}`,
      );
    }
    return size;
  }

  protected override transformImage(image: Image, options: ResolvedPreprocessOptions): Image {
    let out = image;
    if (options.doCenterCrop) out = centerCrop(out, this.cropSize(out, options));
    if (options.doResize) {
      const { height, width } = this.resizeSize(out, options);
      out = out.resize(width, height, options.resample);
    }
    return out;
  }
}

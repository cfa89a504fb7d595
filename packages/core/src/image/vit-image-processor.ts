import { InvalidArgumentError } from '../errors.js';
import {
  ImageProcessor,
  type ImageProcessorConfig,
  type ResolvedPreprocessOptions,
} from './image-processor.js';
import type { Image } from './image.js';
import type { ImageSize } from './transforms.js';

/**
 * transformers' `ViTImageProcessor`: resize to `size` {height, width} (PIL bilinear by default), rescale 1/255,
 * normalize with mean = std = 0.5. No center crop. A bare int `size` means a square. The ViT package exports it as
 * is; CLIPSeg's processor is this class under its own name.
 *
 * @example
 * ```ts
 * import { ViTImageProcessor } from '@ortvision/core';
 * const processor = await ViTImageProcessor.fromPretrained('./vit-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export class ViTImageProcessor extends ImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...ImageProcessor.defaults,
    do_resize: true,
    size: { height: 224, width: 224 },
    resample: 2,
    do_center_crop: false,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
  };

  protected override resizeSize(_image: Image, { size }: ResolvedPreprocessOptions): ImageSize {
    if (!('height' in size)) {
      throw new InvalidArgumentError(
        `${this.constructor.name} needs size {height, width}, got ${JSON.stringify(size)}`,
      );
    }
    return size;
  }
}

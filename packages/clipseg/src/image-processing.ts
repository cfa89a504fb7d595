import {
  type Image,
  ImageProcessor,
  type ImageProcessorConfig,
  type ImageSize,
  InvalidArgumentError,
  type ResolvedPreprocessOptions,
} from '@ortvision/core';

/**
 * The image half of transformers' `CLIPSegProcessor`, which is a `ViTImageProcessor`: resize to `size`
 * {height, width} (bilinear by default), rescale 1/255, normalize (the CLIPSeg checkpoints' config sets ImageNet
 * mean/std; the class defaults are ViT's 0.5). Also used for visual prompts (`conditional_pixel_values`).
 *
 * @example
 * ```ts
 * import { CLIPSegImageProcessor } from '@ortvision/clipseg';
 * const processor = await CLIPSegImageProcessor.fromPretrained('./clipseg-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 352, 352]
 * ```
 */
export class CLIPSegImageProcessor extends ImageProcessor {
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
        `CLIPSegImageProcessor (ViTImageProcessor) needs size {height, width}, got ${JSON.stringify(size)}`,
      );
    }
    return size;
  }
}

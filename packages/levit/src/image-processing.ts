import {
  CLIPImageProcessor,
  type Image,
  type ImageProcessorConfig,
  type ImageSize,
  type ResolvedPreprocessOptions,
  shortestEdgeSize,
} from '@ortvision/core';

/**
 * transformers' `LevitImageProcessor`: `size.shortest_edge` is first scaled by 256/224 (DeiT's crop ratio:
 * 224 -> 256, 64 -> 73), the short side resized to it and the long side to `int(short' * long / short)`; then a
 * center crop to `crop_size` (zero-padded when the image is smaller), rescale 1/255, ImageNet mean/std.
 * A `size` {height, width} resizes directly (no scaling); a bare int means {shortest_edge}. Core's
 * `CLIPImageProcessor` with ImageNet's mean/std and that 256/224 ratio.
 * Fixture cases: levit-cls `size-shortest-edge` (88 -> 100), `size-int`, `size-height-width`.
 *
 * @example
 * ```ts
 * import { LevitImageProcessor } from '@ortvision/levit';
 * const processor = await LevitImageProcessor.fromPretrained('./levit-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export class LevitImageProcessor extends CLIPImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...CLIPImageProcessor.defaults,
    image_mean: [0.485, 0.456, 0.406],
    image_std: [0.229, 0.224, 0.225],
  };

  protected override resizeSize(image: Image, options: ResolvedPreprocessOptions): ImageSize {
    const { size } = options;
    if ('shortest_edge' in size) {
      // transformers computes int((256 / 224) * shortest_edge), in this order.
      return shortestEdgeSize(image.height, image.width, Math.trunc((256 / 224) * size.shortest_edge));
    }
    return super.resizeSize(image, options);
  }
}

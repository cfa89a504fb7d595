import { ImageProcessor, type ImageProcessorConfig } from './image-processor.js';

/**
 * transformers' `CLIPImageProcessor` (the image half of CLIP's and AltCLIP's processors): resize the short side to
 * `size.shortest_edge` with the long side `int(shortest * long / short)` (bicubic by default), center crop to
 * `crop_size` (zero-padded when the image is smaller, before rescale), rescale 1/255, normalize with OpenAI CLIP's
 * mean/std. A bare int `size` means {shortest_edge}. Fixture case altclip `no-resize-crop-pads`. LeViT's processor
 * is this one with ImageNet's mean/std and DeiT's 256/224 crop ratio.
 *
 * @example
 * ```ts
 * import { CLIPImageProcessor } from '@ortvision/core';
 * const processor = await CLIPImageProcessor.fromPretrained('./altclip-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export class CLIPImageProcessor extends ImageProcessor {
  static override readonly defaults: Readonly<ImageProcessorConfig> = {
    ...ImageProcessor.defaults,
    do_resize: true,
    size: { shortest_edge: 224 },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: 224, width: 224 },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    do_convert_rgb: true,
  };

  static override readonly sizeDefaultToSquare = false;
}

import { ViTImageProcessor } from '@ortvision/core';

/**
 * The image half of transformers' `CLIPSegProcessor`, which is a `ViTImageProcessor` (core's, under CLIPSeg's
 * name): resize to `size` {height, width} (bilinear by default), rescale 1/255, normalize (the CLIPSeg checkpoints'
 * config sets ImageNet mean/std; the class defaults are ViT's 0.5). Also used for visual prompts
 * (`conditional_pixel_values`).
 *
 * @example
 * ```ts
 * import { CLIPSegImageProcessor } from '@ortvision/clipseg';
 * const processor = await CLIPSegImageProcessor.fromPretrained('./clipseg-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 352, 352]
 * ```
 */
export class CLIPSegImageProcessor extends ViTImageProcessor {}

import { ViTImageProcessor } from '@ortvision/core';

/**
 * transformers' `ViTImageProcessor` lives in core (CLIPSeg's processor is the same class): resize to `size`
 * {height, width} (PIL bilinear by default), rescale 1/255, normalize with mean = std = 0.5, no center crop.
 *
 * @example
 * ```ts
 * import { ViTImageProcessor } from '@ortvision/vit';
 * const processor = await ViTImageProcessor.fromPretrained('./vit-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export { ViTImageProcessor };

/** transformers' fast variant computes the same values; one class serves both names. */
export const ViTImageProcessorFast = ViTImageProcessor;

/**
 * transformers' `CLIPImageProcessor` (the image half of `AltCLIPProcessor`) lives in core: resize the short side
 * to `size.shortest_edge`, center crop to `crop_size` (zero-padded when smaller), rescale, normalize with OpenAI
 * CLIP's mean/std. Fixture case altclip `no-resize-crop-pads`.
 *
 * @example
 * ```ts
 * import { CLIPImageProcessor } from '@ortvision/altclip';
 * const processor = await CLIPImageProcessor.fromPretrained('./altclip-local');
 * const { pixel_values } = await processor.preprocess('cats.png'); // [1, 3, 224, 224]
 * ```
 */
export { CLIPImageProcessor } from '@ortvision/core';

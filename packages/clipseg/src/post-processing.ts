import {
  Image,
  InputShapeError,
  Tensor,
  checkFinite,
  checkOptions,
  checkThreshold,
  interpolateBilinear,
  optionNames,
  sigmoid,
} from '@ortvision/core';

/** Options of `maskToImage`. */
export interface MaskToImageOptions {
  /** Black and white, 255 where the probability is above this (in [0, 1]); left out: grey levels. */
  threshold?: number;
}

/** The keys of `MaskToImageOptions`. */
export const MASK_TO_IMAGE_OPTIONS = optionNames<MaskToImageOptions>({ threshold: true });

/**
 * Segmentation logits [prompts, h, w] (or one prompt's [h, w]) -> probability masks [prompts, height, width]:
 * sigmoid, then bilinear resize to the original image size as torch's
 * `F.interpolate(size, mode='bilinear', align_corners=False)` without antialias. transformers 4.37 has no CLIPSeg
 * post-processing; this is how fixture clipseg defines it (pipeline cases `segment-by-*`).
 *
 * @example
 * ```ts
 * import { postProcessPromptMasks } from '@ortvision/clipseg';
 * const { logits } = await model.forward(inputs);
 * const masks = postProcessPromptMasks(logits, [image.height, image.width]); // [prompts, H, W] in (0, 1)
 * ```
 */
export function postProcessPromptMasks(
  logits: Tensor<'float32'>,
  size: readonly [height: number, width: number],
): Tensor<'float32'> {
  if (!(logits instanceof Tensor) || logits.dtype !== 'float32' || (logits.rank !== 2 && logits.rank !== 3)) {
    throw new InputShapeError(
      `postProcessPromptMasks needs float32 logits [prompts, h, w] or [h, w], got ${logits instanceof Tensor ? `${logits.dtype} [${logits.dims.join(', ')}]` : String(logits)}`,
    );
  }
  checkFinite(logits.data, 'the segmentation logits');
  const batched = logits.rank === 2 ? logits.reshape([1, ...logits.dims]) : logits;
  // The sigmoid comes first, at the model's resolution, as the fixture's torch reference does.
  return interpolateBilinear(sigmoid(batched), size);
}

function checkMask(mask: Tensor, caller: string): asserts mask is Tensor<'float32'> {
  if (!(mask instanceof Tensor) || mask.dtype !== 'float32' || mask.rank !== 2) {
    throw new InputShapeError(
      `${caller} needs one float32 mask [height, width], got ${mask instanceof Tensor ? `${mask.dtype} [${mask.dims.join(', ')}]` : String(mask)}`,
    );
  }
}

/** A probability threshold: a number in [0, 1]. */
function checkProbability(threshold: unknown): number {
  return checkThreshold(threshold, 'threshold', 0.5, { min: 0, max: 1 });
}

/**
 * A probability mask [height, width] -> a binary mask (bool [height, width]): true where the probability is above
 * `threshold` (default 0.5).
 *
 * @example
 * ```ts
 * import { thresholdMask } from '@ortvision/clipseg';
 * const binary = thresholdMask(result.mask, 0.4); // Tensor<'bool'> [H, W]
 * ```
 */
export function thresholdMask(mask: Tensor<'float32'>, threshold = 0.5): Tensor<'bool'> {
  checkMask(mask, 'thresholdMask');
  checkProbability(threshold);
  const out = new Uint8Array(mask.size);
  const data = mask.data;
  for (let i = 0; i < out.length; i++) out[i] = data[i]! > threshold ? 1 : 0;
  return new Tensor('bool', out, mask.dims);
}

/**
 * A probability mask [height, width] -> a grayscale `Image` the size of the original image: with `threshold`,
 * black and white (255 where the probability is above it); without, the probability scaled to 0..255. Save it
 * with `image.save('mask.png')` or encode it with `image.toPng()`.
 *
 * @example
 * ```ts
 * import { maskToImage } from '@ortvision/clipseg';
 * await maskToImage(result.mask, { threshold: 0.5 }).save('cat-mask.png');
 * ```
 */
export function maskToImage(mask: Tensor<'float32'>, options: MaskToImageOptions = {}): Image {
  const { threshold } = checkOptions(options, MASK_TO_IMAGE_OPTIONS, 'maskToImage');
  checkMask(mask, 'maskToImage');
  if (threshold !== undefined) checkProbability(threshold);
  const [height, width] = mask.dims as [number, number];
  const pixels = new Uint8Array(mask.size);
  const data = mask.data;
  for (let i = 0; i < pixels.length; i++) {
    const p = data[i]!;
    pixels[i] =
      threshold === undefined ? Math.round(Math.min(Math.max(p, 0), 1) * 255) : p > threshold ? 255 : 0;
  }
  return new Image(pixels, width, height, 1);
}

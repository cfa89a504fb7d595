import { InvalidArgumentError } from '../errors.js';

/**
 * The default pixel limit (width x height) above which `loadImage` refuses to decode: the size at which PIL
 * raises `DecompressionBombError` (2 x `Image.MAX_IMAGE_PIXELS` = 178,956,970). A PNG or JPEG of a few KiB can
 * claim gigapixels; checking the header first avoids allocating them. Raise or lower it per call with
 * `{ maxPixels }` (`Infinity` disables the check). Resizes and crops refuse outputs above it too, so that a size
 * from a config (`{"size": {"height": 2147483648, ...}}`) fails with a typed error instead of an allocation.
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/** Throws `InvalidArgumentError` when an output of `width` x `height` would exceed `DEFAULT_MAX_PIXELS`. */
export function checkOutputPixels(what: string, width: number, height: number): void {
  if (width * height > DEFAULT_MAX_PIXELS) {
    throw new InvalidArgumentError(
      `cannot ${what} to ${width}x${height}: ${width * height} pixels is more than the limit of ${DEFAULT_MAX_PIXELS}`,
    );
  }
}

import { InvalidArgumentError, InvalidImageError } from '../errors.js';

/**
 * The default pixel limit (width x height) above which `loadImage` refuses to decode: the size at which PIL
 * raises `DecompressionBombError` (2 x `Image.MAX_IMAGE_PIXELS` = 178,956,970). A PNG or JPEG of a few KiB can
 * claim gigapixels; checking the header first avoids allocating them. Raise or lower it per call with
 * `{ maxPixels }` (`Infinity` disables the check). Resizes and crops refuse outputs above it too, so that a size
 * from a config (`{"size": {"height": 2147483648, ...}}`) fails with a typed error instead of an allocation.
 */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/**
 * The default byte limit (128 MiB) on what an `http(s):` or `data:` URL may deliver to `loadImage`: well above any
 * photo a camera or phone writes (a 48-megapixel JPEG is 10-25 MB), far below what a hostile or broken server can
 * stream. The body is read in chunks and the download stops as soon as it passes the limit, so memory stays near
 * it. Change it per call with `{ maxBytes }` (`Infinity` disables it). Files and in-memory bytes are not limited:
 * they are already on the machine.
 */
export const DEFAULT_MAX_IMAGE_BYTES = 128 * 1024 * 1024;

/**
 * The default time limit (30 s) for `loadImage` to download an image from an `http(s):` URL, from the request to
 * the last byte. Change it per call with `{ timeoutMs }` (`Infinity` disables it).
 */
export const DEFAULT_IMAGE_TIMEOUT_MS = 30_000;

/** Throws `InvalidArgumentError` when an output of `width` x `height` would exceed `DEFAULT_MAX_PIXELS`. */
export function checkOutputPixels(what: string, width: number, height: number): void {
  if (width * height > DEFAULT_MAX_PIXELS) {
    throw new InvalidArgumentError(
      `cannot ${what} to ${width}x${height}: ${width * height} pixels is more than the limit of ${DEFAULT_MAX_PIXELS}`,
    );
  }
}

/** Throws `InvalidImageError` naming the input when an image's header claims more than `maxPixels` pixels. */
export function checkInputPixels(name: string, width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new InvalidImageError(
      `cannot decode "${name}": ${width}x${height} = ${width * height} pixels is more than the limit of ` +
        `${maxPixels} (a guard against decompression bombs; pass { maxPixels } to change it)`,
    );
  }
}

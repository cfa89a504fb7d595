import sharp from 'sharp';
import { InvalidArgumentError, InvalidImageError } from '../errors.js';
import { checkOutputPixels } from './limits.js';
import { type ResampleInput, resizePixels } from './resample.js';

/** Channels per pixel: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
export type ChannelCount = 1 | 2 | 3 | 4;

/**
 * Raw interleaved (HWC, row-major) uint8 pixels, e.g. a canvas's `ImageData` or another decoder's output: one byte
 * (0-255) per channel, `data.length === width * height * channels`. Other element types (`Float32Array`,
 * `Uint16Array`, plain arrays) are refused with `InvalidImageError` rather than reinterpreted as bytes.
 */
export interface RawPixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: ChannelCount;
}

const EXPECTED_DATA =
  'expected a Uint8Array or Uint8ClampedArray of 0-255 values, one byte per channel ' +
  '(scale floats in [0, 1] with Uint8ClampedArray.from(data, (v) => v * 255))';

/** What was passed as pixel data, for messages: `a Float32Array of 12 values`, `a plain array of 12 values`. */
function describeData(data: unknown): string {
  if (Array.isArray(data)) return `a plain array of ${data.length} values`;
  if (data === null || typeof data !== 'object') return data === null ? 'null' : typeof data;
  const kind = data.constructor?.name ?? 'Object';
  const article = /^[AEIO]/.test(kind) ? 'an' : 'a'; // "a Uint8Array", "an Int8Array"
  if (!ArrayBuffer.isView(data)) return `${article} ${kind}`;
  return `${article} ${kind} of ${(data as { length?: number }).length ?? data.byteLength} values`;
}

/** A size or channel count as given, keeping its type (`"3"` is a string, not 3). */
function describeNumber(value: unknown): string {
  if (typeof value === 'number' || value === undefined) return String(value);
  return `${JSON.stringify(value) ?? String(value)} (${typeof value})`;
}

/**
 * Decoded pixels: `width` x `height` x `channels` uint8 values, interleaved (HWC) and row-major. Images from
 * `loadImage` are RGB; raw pixels keep their channel count until `toRGB()`.
 *
 * @example
 * ```ts
 * const image = await loadImage('cats.png');
 * const small = image.resize(224, 224, 'bicubic'); // PIL-exact
 * await small.save('cats-224.png');
 * ```
 */
export class Image {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: ChannelCount;

  constructor(data: Uint8Array | Uint8ClampedArray, width: number, height: number, channels: ChannelCount) {
    if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
      // A Float32Array or Uint16Array read as bytes would give a plausible-looking wrong image: refuse it.
      throw new InvalidImageError(`image data is ${describeData(data)}: ${EXPECTED_DATA}`);
    }
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new InvalidImageError(
        `invalid image size ${describeNumber(width)}x${describeNumber(height)}: expected integers >= 1`,
      );
    }
    if (![1, 2, 3, 4].includes(channels)) {
      throw new InvalidImageError(
        `invalid channel count ${describeNumber(channels)}: expected 1, 2, 3 or 4 (gray, gray + alpha, RGB, RGBA)`,
      );
    }
    const expected = width * height * channels;
    if (data.length !== expected) {
      throw new InvalidImageError(
        `image data has ${data.length} bytes but ${width}x${height}x${channels} needs ${expected}`,
      );
    }
    this.data = data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.length);
    this.width = width;
    this.height = height;
    this.channels = channels;
  }

  /** Wraps raw pixels (no copy). */
  static fromPixels({ data, width, height, channels }: RawPixels): Image {
    return new Image(data, width, height, channels);
  }

  /** Decodes the output of a sharp pipeline to raw pixels (8 bits per channel, as sharp gives them). */
  static async fromSharp(pipeline: sharp.Sharp): Promise<Image> {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return new Image(
      new Uint8Array(data.buffer, data.byteOffset, data.length),
      info.width,
      info.height,
      info.channels as ChannelCount,
    );
  }

  /** A sharp pipeline over these pixels, for encoding or further sharp operations. */
  toSharp(): sharp.Sharp {
    return sharp(this.data, { raw: { width: this.width, height: this.height, channels: this.channels } });
  }

  /** Writes the image; the format follows the file extension (PNG, JPEG, WebP, AVIF, GIF, TIFF). */
  async save(path: string): Promise<void> {
    await this.toSharp().toFile(path);
  }

  /** The image encoded as PNG (lossless). */
  async toPng(): Promise<Buffer> {
    return this.toSharp().png().toBuffer();
  }

  /**
   * RGB pixels, converted as PIL's `convert("RGB")` does: gray is replicated and alpha is DROPPED, not blended
   * (fixture cases `logo` (RGBA) and `camera` (gray) prove it). Returns `this` when already RGB.
   */
  toRGB(): Image {
    if (this.channels === 3) return this;
    const pixels = this.width * this.height;
    const out = new Uint8Array(pixels * 3);
    const src = this.data;
    const step = this.channels;
    if (step >= 3) {
      for (let i = 0, p = 0, o = 0; i < pixels; i++, p += step, o += 3) {
        out[o] = src[p]!;
        out[o + 1] = src[p + 1]!;
        out[o + 2] = src[p + 2]!;
      }
    } else {
      for (let i = 0, p = 0, o = 0; i < pixels; i++, p += step, o += 3) {
        const v = src[p]!;
        out[o] = v;
        out[o + 1] = v;
        out[o + 2] = v;
      }
    }
    return new Image(out, this.width, this.height, 3);
  }

  /** Resized with PIL's arithmetic (`Image.resize((width, height), resample)`); see resample.ts. */
  resize(width: number, height: number, resample: ResampleInput = 'bilinear'): Image {
    return new Image(resizePixels(this, width, height, resample), width, height, this.channels);
  }

  /**
   * The `width` x `height` region whose top-left corner is (`left`, `top`); parts outside the image are `fill`
   * (0 by default), so a crop larger than the image pads it.
   */
  crop(left: number, top: number, width: number, height: number, fill = 0): Image {
    for (const [name, value] of Object.entries({ left, top, width, height })) {
      if (!Number.isInteger(value)) {
        throw new InvalidArgumentError(`crop ${name} must be an integer, got ${value}`);
      }
    }
    if (width < 1 || height < 1) {
      throw new InvalidArgumentError(`cannot crop to ${width}x${height}: expected a size >= 1`);
    }
    checkOutputPixels('crop', width, height);
    const c = this.channels;
    const out = new Uint8Array(width * height * c);
    if (fill !== 0) out.fill(fill);
    const x0 = Math.max(left, 0);
    const x1 = Math.min(left + width, this.width);
    const y0 = Math.max(top, 0);
    const y1 = Math.min(top + height, this.height);
    if (x1 > x0) {
      for (let y = y0; y < y1; y++) {
        const from = (y * this.width + x0) * c;
        out.set(this.data.subarray(from, from + (x1 - x0) * c), ((y - top) * width + (x0 - left)) * c);
      }
    }
    return new Image(out, width, height, c);
  }
}

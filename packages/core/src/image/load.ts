import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { AbortedError, InvalidArgumentError, InvalidImageError } from '../errors.js';
import { decodeDataUrl, fetchImageBytes } from './fetch-image-bytes.js';
import { type ChannelCount, Image, type RawPixels } from './image.js';
import {
  DEFAULT_IMAGE_TIMEOUT_MS,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  checkInputPixels,
} from './limits.js';

/**
 * What `loadImage` and the image processors accept for one image: a file path; a `URL` or URL string (`http:`,
 * `https:`, `data:`, `file:`); encoded bytes (Buffer, Uint8Array, ArrayBuffer); raw pixels; or an `Image`.
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Image | RawPixels;

export { DEFAULT_IMAGE_TIMEOUT_MS, DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_PIXELS };

export interface LoadImageOptions {
  /** Largest width x height decoded, checked from the header before any pixel is allocated; default `DEFAULT_MAX_PIXELS`. */
  maxPixels?: number;
  /** Largest body an `http(s):` or `data:` URL may deliver, in bytes; default `DEFAULT_MAX_IMAGE_BYTES` (128 MiB). */
  maxBytes?: number;
  /** Time limit for downloading an `http(s):` URL, in ms; default `DEFAULT_IMAGE_TIMEOUT_MS` (30 s). */
  timeoutMs?: number;
  /** Stops the load (a download, a file read, before decoding) with an `AbortedError`. */
  signal?: AbortSignal;
  /**
   * `true` converts the pixels from the image's embedded ICC profile (Display P3, Adobe RGB, CMYK) to sRGB, as
   * browsers and photo viewers show them. Default `false`: the profile is ignored and the stored values are used,
   * as PIL (and so transformers' `load_image`, and the data every Hugging Face model was trained and evaluated on)
   * does. Most phone photos carry a Display P3 profile; converting them moves saturated colours by ~20 levels.
   */
  colorManagement?: boolean;
}

/** `LoadImageOptions` with the defaults filled in, validated. */
interface ResolvedLoadOptions {
  maxPixels: number;
  maxBytes: number;
  timeoutMs: number;
  signal?: AbortSignal;
  colorManagement: boolean;
}

const SUPPORTED = 'JPEG, PNG, WebP, AVIF, GIF, TIFF';
const EXPECTED_INPUT =
  'expected a path, a URL (http:, https:, data:, file:), a Buffer, Uint8Array or ArrayBuffer, raw pixels or an Image';

/** Longer inputs (a data: URL of megabytes, a pasted base64 string) are shown by their start and length. */
const LONGEST_SHOWN = 200;

function shorten(text: string): string {
  return text.length <= LONGEST_SHOWN ? text : `${text.slice(0, 80)}... (${text.length} characters)`;
}

function positiveLimit(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${name} must be a number > 0 (Infinity for no limit), got ${JSON.stringify(value) ?? String(value)} (${typeof value})`,
    );
  }
  return value;
}

function resolveLoadOptions(options: LoadImageOptions | undefined): ResolvedLoadOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`image load options must be an object, got ${String(options)}`);
  }
  const { signal, colorManagement = false } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${typeof signal}`);
  }
  if (typeof colorManagement !== 'boolean') {
    throw new InvalidArgumentError(
      `colorManagement must be true or false, got ${JSON.stringify(colorManagement)} (${typeof colorManagement})`,
    );
  }
  return {
    maxPixels: positiveLimit(options.maxPixels, 'maxPixels', DEFAULT_MAX_PIXELS),
    maxBytes: positiveLimit(options.maxBytes, 'maxBytes', DEFAULT_MAX_IMAGE_BYTES),
    timeoutMs: positiveLimit(options.timeoutMs, 'timeoutMs', DEFAULT_IMAGE_TIMEOUT_MS),
    signal,
    colorManagement,
  };
}

function isRawPixels(value: unknown): value is RawPixels {
  // Anything with `data` is meant as raw pixels; the Image constructor then names what is wrong with it.
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !ArrayBuffer.isView(value) &&
    'data' in value
  );
}

/** Throws `AbortedError` naming the input when the caller's signal has fired. */
function checkAborted(signal: AbortSignal | undefined, name: string): void {
  if (signal?.aborted) {
    throw new AbortedError(`loading image "${name}" was aborted`, { cause: signal.reason });
  }
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory, not a file',
  EACCES: 'permission denied',
  ENAMETOOLONG: 'the path is longer than the file system allows',
  ENOTDIR: 'a part of the path is not a directory',
};

async function readImageFile(path: string, name: string, signal?: AbortSignal): Promise<Uint8Array> {
  try {
    return await readFile(path, { signal });
  } catch (error) {
    checkAborted(signal, name);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = FILE_ERRORS[code] ?? shorten((error as Error).message);
    throw new InvalidImageError(`cannot read image "${name}": ${reason}`, { cause: error });
  }
}

/** A `scheme://` other than the ones we read; a Windows drive letter (`C:\`) is one letter, so it never matches. */
const OTHER_SCHEME = /^([a-z][a-z0-9+.-]+):\/\//i;

async function readSource(
  input: string | URL,
  name: string,
  options: ResolvedLoadOptions,
): Promise<Uint8Array> {
  const text = input instanceof URL ? input.href : input;
  if (/^https?:\/\//i.test(text)) return fetchImageBytes(text, name, options);
  if (/^data:/i.test(text)) return decodeDataUrl(text, name, options.maxBytes);
  if (/^file:/i.test(text)) {
    let path: string;
    try {
      path = fileURLToPath(text);
    } catch (error) {
      throw new InvalidImageError(`cannot read image "${name}": ${(error as Error).message}`, {
        cause: error,
      });
    }
    return readImageFile(path, name, options.signal);
  }
  // A URL object always has a scheme; a string only counts as one with `://` (so `photo:1.png` stays a file name).
  const scheme = input instanceof URL ? input.protocol.slice(0, -1) : OTHER_SCHEME.exec(text)?.[1];
  if (scheme !== undefined) {
    throw new InvalidImageError(
      `cannot load image "${name}": unsupported URL scheme "${scheme}:" (expected http:, https:, data: or file: URLs, or a file path)`,
    );
  }
  return readImageFile(text, name, options.signal);
}

function describeInput(input: ImageInput): string {
  if (typeof input === 'string') return shorten(input);
  if (input instanceof URL) return shorten(input.href);
  const bytes = input instanceof ArrayBuffer ? input.byteLength : (input as Uint8Array).length;
  return `<${bytes}-byte buffer>`;
}

async function readMetadata(bytes: Uint8Array, name: string): Promise<sharp.Metadata> {
  try {
    return await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    const message = (error as Error).message;
    const reason = /unsupported image format/i.test(message)
      ? `unsupported format (expected ${SUPPORTED})`
      : message;
    throw new InvalidImageError(`cannot decode "${name}": ${reason}`, { cause: error });
  }
}

function checkFormat(metadata: sharp.Metadata, name: string): void {
  const { format } = metadata;
  const ok =
    format === 'jpeg' ||
    format === 'png' ||
    format === 'webp' ||
    format === 'gif' ||
    format === 'tiff' ||
    // AVIF is HEIF with AV1; HEIC (HEVC) cannot be decoded by sharp's prebuilt libvips.
    (format === 'heif' && metadata.compression === 'av1');
  if (!ok) {
    const what = format === 'heif' ? `heif/${metadata.compression ?? 'unknown'}` : (format ?? 'unknown');
    throw new InvalidImageError(
      `cannot decode "${name}": unsupported format ${what} (expected ${SUPPORTED})`,
    );
  }
}

/** PIL's `convert("RGB")` of CMYK pixels (Convert.c `cmyk2rgb`): (255 - k) * (255 - c) / 255 in its integer rounding. */
function cmykToRgb(cmyk: Uint8Array): Uint8Array {
  const rgb = new Uint8Array((cmyk.length / 4) * 3);
  const mulDiv255 = (a: number, b: number) => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let p = 0, o = 0; p < cmyk.length; p += 4, o += 3) {
    const nk = 255 - cmyk[p + 3]!;
    for (let c = 0; c < 3; c++) rgb[o + c] = Math.max(0, nk - mulDiv255(cmyk[p + c]!, nk));
  }
  return rgb;
}

/**
 * Decodes image bytes as transformers' `load_image` does with PIL: the first frame, EXIF orientation applied
 * (`ImageOps.exif_transpose`), converted to RGB with alpha dropped, an embedded ICC profile IGNORED (PIL does not
 * colour-manage; fixture case vit-cls `icc-p3` proves it on a Display P3 JPEG). Two PIL conversions are reproduced
 * on purpose: 16-bit RGB(A) keeps the high byte, 16-bit grayscale is CLIPPED to 255 (PIL opens it as mode "I",
 * whose conversion to RGB clips rather than scales), and CMYK uses PIL's naive formula. `colorManagement: true`
 * converts from the embedded profile to sRGB instead (CMYK through the profile, or a generic one).
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { decodeImage } from '@ortvision/core';
 *
 * const image = await decodeImage(await readFile('photo.jpg'), 'photo.jpg', { maxPixels: 50_000_000 });
 * ```
 */
export async function decodeImage(
  bytes: Uint8Array,
  name = describeInput(bytes),
  options: Pick<LoadImageOptions, 'maxPixels' | 'colorManagement'> = {},
): Promise<Image> {
  const { maxPixels, colorManagement } = resolveLoadOptions(options);
  if (bytes.length === 0)
    throw new InvalidImageError(`cannot decode "${name}": the input is empty (0 bytes)`);
  const metadata = await readMetadata(bytes, name);
  checkFormat(metadata, name);
  checkInputPixels(name, metadata.width ?? 0, metadata.height ?? 0, maxPixels);
  try {
    // ignoreIcc: sharp would otherwise transform from an embedded profile to sRGB on the way out.
    const pipeline = sharp(bytes, {
      limitInputPixels: false,
      pages: 1,
      ignoreIcc: !colorManagement,
    }).autoOrient();
    if (metadata.depth === 'ushort' && metadata.channels === 1) {
      const { data, info } = await pipeline
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const values = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
      const gray = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) gray[i] = Math.min(values[i]!, 255);
      return new Image(gray, info.width, info.height, 1).toRGB();
    }
    if (metadata.space === 'cmyk' && !colorManagement) {
      // Keeping the pipeline in CMYK skips sharp's CMYK -> sRGB transform, leaving the decoded values PIL sees.
      const { data, info } = await pipeline
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return new Image(cmykToRgb(data), info.width, info.height, 3);
    }
    // A 16-bit RGB image is colour-managed into P3 by libvips unless sRGB is asked for.
    const output = colorManagement ? pipeline.toColourspace('srgb') : pipeline;
    const { data, info } = await output.raw().toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return new Image(pixels, info.width, info.height, info.channels as ChannelCount).toRGB();
  } catch (error) {
    throw new InvalidImageError(`cannot decode "${name}": ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads one image as RGB from a file path, a URL or URL string (`http:`/`https:`, `data:`, `file:`), encoded bytes
 * (Buffer, Uint8Array, ArrayBuffer), raw pixels, or an `Image` (returned as RGB). Formats: JPEG, PNG, WebP, AVIF,
 * GIF (first frame), TIFF. Pixels are PIL's (see `decodeImage`).
 *
 * Downloads stop at `maxBytes` and at a header that claims more than `maxPixels`, time out after `timeoutMs`, and
 * follow `signal`. Errors: `InvalidImageError` naming the input when it cannot be read or decoded or is over a
 * limit; `DownloadError` when a URL cannot be fetched (status, refused or cut-off connection, redirect loop);
 * `AbortedError` when `signal` fires or the download times out (`timedOut` tells which).
 *
 * @example
 * ```ts
 * import { loadImage } from '@ortvision/core';
 *
 * const image = await loadImage('cats.png');
 * console.log(image.width, image.height, image.channels); // 640 480 3
 * const remote = await loadImage(new URL('https://example.com/cat.jpg'), {
 *   signal: AbortSignal.timeout(5000),
 *   maxBytes: 20_000_000,
 * });
 * ```
 */
export async function loadImage(input: ImageInput, options: LoadImageOptions = {}): Promise<Image> {
  const resolved = resolveLoadOptions(options);
  if (input instanceof Image) return input.toRGB();
  if (isRawPixels(input)) return Image.fromPixels(input).toRGB();
  if (Array.isArray(input)) {
    throw new InvalidImageError(
      `loadImage takes one image, got an array of ${input.length}: use loadImages for a list`,
    );
  }
  if (
    !(
      typeof input === 'string' ||
      input instanceof URL ||
      input instanceof Uint8Array ||
      input instanceof ArrayBuffer
    )
  ) {
    const given =
      typeof input === 'object' && input !== null ? Object.prototype.toString.call(input) : String(input);
    throw new InvalidImageError(`cannot load image from ${given}: ${EXPECTED_INPUT}`);
  }
  const name = describeInput(input);
  checkAborted(resolved.signal, name);
  const bytes =
    typeof input === 'string' || input instanceof URL
      ? await readSource(input, name, resolved)
      : input instanceof ArrayBuffer
        ? new Uint8Array(input)
        : input;
  checkAborted(resolved.signal, name);
  const image = await decodeImage(bytes, name, resolved);
  checkAborted(resolved.signal, name);
  return image;
}

/** `loadImage` over one input or a list of them, in order. */
export async function loadImages(
  inputs: ImageInput | readonly ImageInput[],
  options: LoadImageOptions = {},
): Promise<Image[]> {
  const list = Array.isArray(inputs) ? (inputs as readonly ImageInput[]) : [inputs as ImageInput];
  return Promise.all(list.map((input) => loadImage(input, options)));
}

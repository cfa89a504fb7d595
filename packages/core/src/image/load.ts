import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { DownloadError, InvalidImageError } from '../errors.js';
import { type ChannelCount, Image, type RawPixels } from './image.js';
import { DEFAULT_MAX_PIXELS } from './limits.js';

/** What `loadImage` and the image processors accept for one image. */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | Image | RawPixels;

export { DEFAULT_MAX_PIXELS };

export interface LoadImageOptions {
  /** Largest width x height decoded; default `DEFAULT_MAX_PIXELS`. */
  maxPixels?: number;
  /** Cancels a URL download. */
  signal?: AbortSignal;
}

const SUPPORTED = 'JPEG, PNG, WebP, AVIF, GIF, TIFF';

function isRawPixels(value: unknown): value is RawPixels {
  return (
    typeof value === 'object' &&
    value !== null &&
    'data' in value &&
    'width' in value &&
    'height' in value &&
    'channels' in value
  );
}

async function readSource(input: string | URL, signal?: AbortSignal): Promise<Uint8Array> {
  const text = input instanceof URL ? input.href : input;
  if (/^https?:\/\//i.test(text)) {
    let response: Response;
    try {
      response = await fetch(text, { signal });
    } catch (error) {
      throw new DownloadError(`cannot fetch image "${text}": ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok) {
      throw new DownloadError(`cannot fetch image "${text}": HTTP ${response.status} ${response.statusText}`);
    }
    return new Uint8Array(await response.arrayBuffer());
  }
  const path = text.startsWith('file:') ? fileURLToPath(text) : text;
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InvalidImageError(`cannot read image "${path}": ${reason}`, { cause: error });
  }
}

function describeInput(input: ImageInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
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
 * (`ImageOps.exif_transpose`), converted to RGB with alpha dropped. Two PIL conversions are reproduced on
 * purpose: 16-bit RGB(A) keeps the high byte, 16-bit grayscale is CLIPPED to 255 (PIL opens it as mode "I",
 * whose conversion to RGB clips rather than scales), and CMYK uses PIL's naive formula without colour management
 * (sharp's ICC conversion differs by up to ~20 levels on saturated colours).
 */
export async function decodeImage(
  bytes: Uint8Array,
  name = describeInput(bytes),
  { maxPixels = DEFAULT_MAX_PIXELS }: Pick<LoadImageOptions, 'maxPixels'> = {},
): Promise<Image> {
  if (bytes.length === 0)
    throw new InvalidImageError(`cannot decode "${name}": the input is empty (0 bytes)`);
  const metadata = await readMetadata(bytes, name);
  checkFormat(metadata, name);
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  if (width * height > maxPixels) {
    throw new InvalidImageError(
      `cannot decode "${name}": ${width}x${height} = ${width * height} pixels is more than the limit of ` +
        `${maxPixels} (a guard against decompression bombs; pass { maxPixels } to change it)`,
    );
  }
  try {
    const pipeline = sharp(bytes, { limitInputPixels: false, pages: 1 }).autoOrient();
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
    if (metadata.space === 'cmyk') {
      // Keeping the pipeline in CMYK skips sharp's ICC transform, leaving the decoded values PIL sees.
      const { data, info } = await pipeline
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw()
        .toBuffer({ resolveWithObject: true });
      return new Image(cmykToRgb(data), info.width, info.height, 3);
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return new Image(pixels, info.width, info.height, info.channels as ChannelCount).toRGB();
  } catch (error) {
    throw new InvalidImageError(`cannot decode "${name}": ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads one image as RGB from a file path, a `file:`/`http(s):` URL, encoded bytes (Buffer, Uint8Array,
 * ArrayBuffer), raw pixels, or an `Image` (returned as RGB). Formats: JPEG, PNG, WebP, AVIF, GIF (first frame),
 * TIFF. Throws `InvalidImageError` naming the input when it cannot be read or decoded, `DownloadError` when a
 * URL cannot be fetched.
 *
 * @example
 * ```ts
 * const image = await loadImage('cats.png');
 * console.log(image.width, image.height, image.channels); // 640 480 3
 * ```
 */
export async function loadImage(input: ImageInput, options: LoadImageOptions = {}): Promise<Image> {
  if (input instanceof Image) return input.toRGB();
  if (isRawPixels(input) && !(input instanceof Uint8Array)) return Image.fromPixels(input).toRGB();
  if (typeof input === 'string' || input instanceof URL) {
    const bytes = await readSource(input, options.signal);
    return decodeImage(bytes, describeInput(input), options);
  }
  if (input instanceof ArrayBuffer) return decodeImage(new Uint8Array(input), describeInput(input), options);
  if (input instanceof Uint8Array) return decodeImage(input, describeInput(input), options);
  throw new InvalidImageError(
    `cannot load image from ${Object.prototype.toString.call(input)}: expected a path, URL, Buffer, Uint8Array, ArrayBuffer, raw pixels or an Image`,
  );
}

/** `loadImage` over one input or a list of them, in order. */
export async function loadImages(
  inputs: ImageInput | readonly ImageInput[],
  options: LoadImageOptions = {},
): Promise<Image[]> {
  const list = Array.isArray(inputs) ? (inputs as readonly ImageInput[]) : [inputs as ImageInput];
  return Promise.all(list.map((input) => loadImage(input, options)));
}

import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Image } from './image.js';

/** A height and width in pixels. */
export interface ImageSize {
  height: number;
  width: number;
}

/**
 * transformers 4.37's `center_crop`, quirk included. The window starts at `floor((h - crop_h) / 2)` (Python floor
 * division, also when negative). Where the crop is larger than the image, the image is first placed on a zero
 * canvas of `max(crop, size)` at offset `floor(pad / 2)`, and the window is clipped to that canvas: when the
 * padding is odd the result is one pixel SMALLER than the crop (levit-base `no-resize`: 37x53 cropped to 64x64
 * gives 63x63). Float crop sizes are truncated first, as transformers does (Perceiver passes floats).
 */
export function centerCrop(image: Image, { height, width }: ImageSize): Image {
  const cropHeight = Math.trunc(height);
  const cropWidth = Math.trunc(width);
  if (cropHeight < 1 || cropWidth < 1) {
    throw new InvalidArgumentError(`cannot center-crop to ${cropHeight}x${cropWidth}: expected a size >= 1`);
  }
  if (cropHeight === image.height && cropWidth === image.width) return image;
  const rows = cropWindow(image.height, cropHeight);
  const cols = cropWindow(image.width, cropWidth);
  return image.crop(cols.start, rows.start, cols.length, rows.length, 0);
}

/** One axis of `centerCrop`: the first image index of the window (negative = zero padding) and its length. */
function cropWindow(size: number, crop: number): { start: number; length: number } {
  const start = Math.floor((size - crop) / 2);
  if (start >= 0) return { start, length: crop };
  const canvas = Math.max(crop, size);
  const pad = Math.floor((canvas - size) / 2);
  const first = Math.max(0, start + pad);
  const last = Math.min(canvas, start + crop + pad);
  return { start: first - pad, length: last - first };
}

/** Padding per side in pixels. */
export interface ImagePadding {
  top?: number;
  bottom?: number;
  left?: number;
  right?: number;
}

/** Pads a uint8 image with a constant value on each side (numpy `pad(mode="constant")`). */
export function padImage(
  image: Image,
  { top = 0, bottom = 0, left = 0, right = 0 }: ImagePadding,
  value = 0,
): Image {
  for (const [name, amount] of Object.entries({ top, bottom, left, right })) {
    if (!Number.isInteger(amount) || amount < 0) {
      throw new InvalidArgumentError(`padding ${name} must be an integer >= 0, got ${amount}`);
    }
  }
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new InvalidArgumentError(`a uint8 image is padded with an integer 0..255, got ${value}`);
  }
  return image.crop(-left, -top, image.width + left + right, image.height + top + bottom, value);
}

/** Channel-first float32 planes of one image: `data` is [channels, height, width]. */
export interface PlanarImage {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** How uint8 values become floats: `rescale` then `normalize`, each optional. */
export interface PixelScaling {
  /** Multiplier applied first (`rescale_factor`, usually 1/255); undefined = no rescale. */
  rescaleFactor?: number;
  /** Per-channel mean and std (`image_mean`, `image_std`); undefined = no normalization. */
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * The float32 value of every uint8 level per channel, with transformers' dtypes: rescale multiplies in float64
 * (`image.astype(float64) * scale`) and casts to float32; normalize subtracts and divides in float32 with the
 * mean and std cast to float32 (`(image - mean) / std` on a float32 array). Fixture cases with `no-rescale`,
 * `no-normalize` and `mean-std` check each branch bit for bit.
 */
export function pixelLookup(channels: number, { rescaleFactor, mean, std }: PixelScaling): Float32Array[] {
  if ((mean === undefined) !== (std === undefined)) {
    throw new InvalidArgumentError('normalize needs both a mean and a std');
  }
  for (const [name, values] of [
    ['image_mean', mean],
    ['image_std', std],
  ] as const) {
    if (values && values.length !== channels) {
      throw new InvalidArgumentError(`${name} must have ${channels} values, got ${values.length}`);
    }
  }
  const tables: Float32Array[] = [];
  for (let c = 0; c < channels; c++) {
    const table = new Float32Array(256);
    const m = mean ? Math.fround(mean[c]!) : 0;
    const s = std ? Math.fround(std[c]!) : 1;
    for (let v = 0; v < 256; v++) {
      let x = rescaleFactor === undefined ? v : Math.fround(v * rescaleFactor);
      if (mean) x = Math.fround(Math.fround(x - m) / s);
      table[v] = x;
    }
    tables.push(table);
  }
  return tables;
}

/** Writes an HWC uint8 image into `out` at `offset` as CHW float32, through per-channel lookup tables. */
export function writePlanar(
  image: Image,
  tables: readonly Float32Array[],
  out: Float32Array,
  offset = 0,
): void {
  const { data, channels } = image;
  const plane = image.width * image.height;
  if (tables.length !== channels) {
    throw new InvalidArgumentError(`${tables.length} lookup tables for a ${channels}-channel image`);
  }
  for (let c = 0; c < channels; c++) {
    const table = tables[c]!;
    const base = offset + c * plane;
    for (let i = 0, p = c; i < plane; i++, p += channels) out[base + i] = table[data[p]!]!;
  }
}

/** One image as CHW float32 (rescaled and normalized per `scaling`). */
export function toPlanar(image: Image, scaling: PixelScaling = {}): PlanarImage {
  const data = new Float32Array(image.width * image.height * image.channels);
  writePlanar(image, pixelLookup(image.channels, scaling), data);
  return { data, channels: image.channels, height: image.height, width: image.width };
}

/**
 * Stacks equally sized CHW images into a [batch, channels, height, width] float32 tensor. With `padTo`, smaller
 * images are padded bottom/right with `padValue` (after normalization, as transformers pads batches).
 */
export function stackPlanar(
  images: readonly PlanarImage[],
  { padTo, padValue = 0 }: { padTo?: ImageSize; padValue?: number } = {},
): Tensor<'float32'> {
  if (images.length === 0) throw new InvalidArgumentError('cannot make a batch of 0 images');
  const first = images[0]!;
  const height = padTo?.height ?? first.height;
  const width = padTo?.width ?? first.width;
  const channels = first.channels;
  for (const [index, image] of images.entries()) {
    const fits = padTo ? image.height <= height && image.width <= width : true;
    const same = padTo ? true : image.height === height && image.width === width;
    if (image.channels !== channels || !fits || !same) {
      throw new InputShapeError(
        `image ${index} is ${image.channels}x${image.height}x${image.width} but the batch needs ` +
          `${channels}x${height}x${width} (pass images of one size, resize them, or enable padding)`,
      );
    }
  }
  const size = channels * height * width;
  const out = new Float32Array(images.length * size);
  for (const [index, image] of images.entries()) {
    const base = index * size;
    if (image.height === height && image.width === width) {
      out.set(image.data, base);
      continue;
    }
    out.fill(padValue, base, base + size);
    for (let c = 0; c < channels; c++) {
      for (let y = 0; y < image.height; y++) {
        const from = (c * image.height + y) * image.width;
        out.set(image.data.subarray(from, from + image.width), base + (c * height + y) * width);
      }
    }
  }
  return new Tensor('float32', out, [images.length, channels, height, width]);
}

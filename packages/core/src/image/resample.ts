import { InvalidArgumentError } from '../errors.js';
import { checkOutputPixels } from './limits.js';

/**
 * PIL's resampling filters, written from Pillow's documented algorithm (`Image.resize` and
 * `libImaging/Resample.c`, Pillow 9.4 as used by the reference fixtures) so that resized uint8 pixels are the
 * same as Python transformers' image processors produce: separable convolution with the filter's support
 * widened by the scale when downscaling (antialiasing), coefficients normalised per output pixel and turned into
 * 22-bit fixed point, horizontal pass first, then vertical; NEAREST uses PIL's affine pixel-centre mapping.
 */
export type ResampleFilter = 'nearest' | 'lanczos' | 'bilinear' | 'bicubic' | 'box' | 'hamming';

/** PIL's integer codes (`PIL.Image.Resampling`), as `resample` appears in preprocessor_config.json. */
export const PIL_RESAMPLE_CODES: Readonly<Record<number, ResampleFilter>> = Object.freeze({
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
});

const FILTER_NAMES = Object.values(PIL_RESAMPLE_CODES);

/** A filter given as PIL's integer code or by name. */
export type ResampleInput = ResampleFilter | number;

/** Resolves a PIL code (0..5) or a filter name to the filter name; throws `InvalidArgumentError` otherwise. */
export function toResampleFilter(value: ResampleInput): ResampleFilter {
  if (typeof value === 'number') {
    const name = PIL_RESAMPLE_CODES[value];
    if (name) return name;
  } else if ((FILTER_NAMES as string[]).includes(value)) {
    return value;
  }
  throw new InvalidArgumentError(
    `unknown resample filter ${JSON.stringify(value)} (expected one of ${FILTER_NAMES.join(', ')} or PIL's codes 0-5)`,
  );
}

interface Kernel {
  support: number;
  weight(x: number): number;
}

// Pillow computes Hamming's window with float constants (0.54f, 0.46f); the rounding is kept on purpose.
const HAMMING_A = Math.fround(0.54);
const HAMMING_B = Math.fround(0.46);

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

const KERNELS: Record<Exclude<ResampleFilter, 'nearest'>, Kernel> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  hamming: {
    support: 1,
    weight: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const px = a * Math.PI;
      return (Math.sin(px) / px) * (HAMMING_A + HAMMING_B * Math.cos(px));
    },
  },
  bicubic: {
    // Keys' cubic convolution with a = -0.5, evaluated in the same order as Pillow.
    support: 2,
    weight: (x) => {
      const a = Math.abs(x);
      if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
      if (a < 2) return (((a - 5) * a + 8) * a - 4) * -0.5;
      return 0;
    },
  },
  lanczos: {
    support: 3,
    weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0),
  },
};

/** Fixed-point precision of the coefficients: 32 bits minus 8 for the pixel and 2 for overshoot. */
const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Per output pixel: the first input index, the number of taps, and `ksize` fixed-point coefficients. */
interface Coefficients {
  ksize: number;
  bounds: Int32Array;
  weights: Int32Array;
}

function precomputeCoefficients(inSize: number, outSize: number, kernel: Kernel): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = kernel.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const taps = new Float64Array(ksize);
  const invScale = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // Pillow truncates (C int conversion) after adding 0.5, then clamps to the image.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) {
      const w = kernel.weight((x + xmin - center + 0.5) * invScale);
      taps[x] = w;
      total += w;
    }
    const offset = xx * ksize;
    for (let x = 0; x < count; x++) {
      const w = total !== 0 ? taps[x]! / total : taps[x]!;
      // Normalised coefficients become fixed point rounding half away from zero, as Pillow's int cast does.
      weights[offset + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { ksize, bounds, weights };
}

// Sums are int32 as in Pillow (32 - 8 - 2 bits leave room for a pixel times the largest overshoot), so the hot
// loops use Math.imul and `| 0` to stay in V8's integer arithmetic.
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass over rows [rowStart, rowStart + rows) of `src`; returns a `outWidth` x `rows` image. */
function resampleHorizontal(
  src: Uint8Array,
  width: number,
  channels: number,
  rowStart: number,
  rows: number,
  outWidth: number,
  coefficients: Coefficients,
): Uint8Array {
  if (channels === 3) return resampleHorizontalRGB(src, width, rowStart, rows, outWidth, coefficients);
  const { ksize, bounds, weights } = coefficients;
  const out = new Uint8Array(outWidth * rows * channels);
  const inStride = width * channels;
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + rowStart) * inStride;
    let o = y * outWidth * channels;
    for (let xx = 0; xx < outWidth; xx++) {
      const count = bounds[xx * 2 + 1]!;
      const kBase = xx * ksize;
      const pBase = rowBase + bounds[xx * 2]! * channels;
      for (let c = 0; c < channels; c++) {
        let sum = HALF;
        let p = pBase + c;
        for (let x = 0; x < count; x++, p += channels)
          sum = (sum + Math.imul(src[p]!, weights[kBase + x]!)) | 0;
        out[o++] = clip8(sum);
      }
    }
  }
  return out;
}

/** The horizontal pass for interleaved RGB, the processors' case: three sums per tap, one read of the weight. */
function resampleHorizontalRGB(
  src: Uint8Array,
  width: number,
  rowStart: number,
  rows: number,
  outWidth: number,
  { ksize, bounds, weights }: Coefficients,
): Uint8Array {
  const out = new Uint8Array(outWidth * rows * 3);
  const inStride = width * 3;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowBase = (y + rowStart) * inStride;
    for (let xx = 0; xx < outWidth; xx++) {
      const count = bounds[xx * 2 + 1]!;
      const kBase = xx * ksize;
      let p = rowBase + bounds[xx * 2]! * 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let x = 0; x < count; x++, p += 3) {
        const k = weights[kBase + x]!;
        r = (r + Math.imul(src[p]!, k)) | 0;
        g = (g + Math.imul(src[p + 1]!, k)) | 0;
        b = (b + Math.imul(src[p + 2]!, k)) | 0;
      }
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
      o += 3;
    }
  }
  return out;
}

/** Vertical pass: each output row is a weighted sum of input rows (accumulated row-wise for cache locality). */
function resampleVertical(
  src: Uint8Array,
  rowLength: number,
  outHeight: number,
  { ksize, bounds, weights }: Coefficients,
  rowOffset: number,
): Uint8Array {
  const out = new Uint8Array(outHeight * rowLength);
  const acc = new Int32Array(rowLength);
  for (let yy = 0; yy < outHeight; yy++) {
    acc.fill(HALF);
    const ymin = bounds[yy * 2]! - rowOffset;
    const count = bounds[yy * 2 + 1]!;
    const kBase = yy * ksize;
    for (let y = 0; y < count; y++) {
      const k = weights[kBase + y]!;
      if (k === 0) continue;
      const rowBase = (ymin + y) * rowLength;
      for (let i = 0; i < rowLength; i++) acc[i] = (acc[i]! + Math.imul(src[rowBase + i]!, k)) | 0;
    }
    const outBase = yy * rowLength;
    for (let i = 0; i < rowLength; i++) out[outBase + i] = clip8(acc[i]!);
  }
  return out;
}

/**
 * PIL's NEAREST: source index = trunc of the pixel centre mapped back, accumulated step by step as Pillow's
 * affine scaling does (so float drift matches); an index outside the image (-1) yields 0, Pillow's fill.
 */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const indices = new Int32Array(outSize);
  const scale = inSize / outSize;
  let position = scale * 0.5;
  for (let i = 0; i < outSize; i++) {
    const index = position < 0 ? -1 : Math.trunc(position);
    indices[i] = index < inSize ? index : -1;
    position += scale;
  }
  return indices;
}

function resizeNearest(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Uint8Array {
  const xs = nearestIndices(width, outWidth);
  const ys = nearestIndices(height, outHeight);
  const out = new Uint8Array(outWidth * outHeight * channels);
  let o = 0;
  for (let y = 0; y < outHeight; y++) {
    const sy = ys[y]!;
    if (sy < 0) {
      o += outWidth * channels;
      continue;
    }
    const rowBase = sy * width * channels;
    for (let x = 0; x < outWidth; x++) {
      const sx = xs[x]!;
      if (sx < 0) {
        o += channels;
        continue;
      }
      const p = rowBase + sx * channels;
      for (let c = 0; c < channels; c++) out[o++] = src[p + c]!;
    }
  }
  return out;
}

/** Interleaved (HWC) uint8 pixels. */
export interface PixelBuffer {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Resizes interleaved uint8 pixels to `outWidth` x `outHeight` exactly as PIL's `Image.resize(size, resample)`
 * does for 8-bit modes without alpha (no `box`, no `reducing_gap`, as transformers calls it). Alpha is not
 * premultiplied: every channel is filtered independently.
 */
export function resizePixels(
  image: PixelBuffer,
  outWidth: number,
  outHeight: number,
  resample: ResampleInput,
): Uint8Array {
  const { data, width, height, channels } = image;
  const filter = toResampleFilter(resample);
  for (const [name, value] of [
    ['width', outWidth],
    ['height', outHeight],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidArgumentError(`cannot resize to ${name} ${value}: expected an integer >= 1`);
    }
  }
  if (width < 1 || height < 1) {
    throw new InvalidArgumentError(`cannot resize an empty ${width}x${height} image`);
  }
  checkOutputPixels('resize', outWidth, outHeight);
  // Same size: Pillow returns a copy without filtering.
  if (outWidth === width && outHeight === height) return data.slice();
  if (filter === 'nearest') return resizeNearest(data, width, height, channels, outWidth, outHeight);

  const kernel = KERNELS[filter];
  // Pillow skips a pass whose dimension is unchanged; the horizontal pass only covers the rows the vertical
  // pass will read.
  const needHorizontal = outWidth !== width;
  const needVertical = outHeight !== height;
  const vertical = needVertical ? precomputeCoefficients(height, outHeight, kernel) : undefined;
  let pixels = data;
  let rowOffset = 0;
  if (needHorizontal) {
    let firstRow = 0;
    let lastRow = height;
    if (vertical) {
      firstRow = vertical.bounds[0]!;
      lastRow = vertical.bounds[outHeight * 2 - 2]! + vertical.bounds[outHeight * 2 - 1]!;
    }
    const horizontal = precomputeCoefficients(width, outWidth, kernel);
    pixels = resampleHorizontal(data, width, channels, firstRow, lastRow - firstRow, outWidth, horizontal);
    rowOffset = firstRow;
  }
  if (vertical) return resampleVertical(pixels, outWidth * channels, outHeight, vertical, rowOffset);
  return pixels;
}

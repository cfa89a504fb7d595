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

/**
 * Per output pixel: the first input index and the number of taps (`bounds`, two entries each), and `ksize`
 * fixed-point coefficients (`weights`).
 */
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
    let xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    let count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
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
    // Taps that round to 0 at either end add nothing to the integer sums, so dropping them is exact; scales
    // such as 3x up or 15/7 down put a tap exactly on the filter's edge in many windows.
    let skip = 0;
    while (skip < count - 1 && weights[offset + skip] === 0) skip++;
    if (skip > 0) {
      weights.copyWithin(offset, offset + skip, offset + count);
      xmin += skip;
      count -= skip;
    }
    while (count > 1 && weights[offset + count - 1] === 0) count--;
    weights.fill(0, offset + count, offset + ksize);
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { ksize, bounds, weights };
}

// Sums are int32 as in Pillow (32 - 8 - 2 bits leave room for a pixel times the largest overshoot), so the hot
// loops use Math.imul and `| 0` to stay in V8's integer arithmetic. Integer sums do not depend on the order of
// the terms, so the loops below are free to group and pad taps.
function clip8(sum: number): number {
  const v = sum >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// The word-reading passes below take a Uint32's bytes, low to high, as consecutive bytes in memory; on a
// big-endian platform the byte-reading passes run instead.
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

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
  if (channels === 3 && LITTLE_ENDIAN) {
    return resampleHorizontalRGB(src, width, rowStart, rows, outWidth, coefficients);
  }
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

/**
 * The horizontal pass for interleaved RGB, the processors' case (most of a large downscale's time). Four RGB
 * pixels are three whole Uint32 words, so the taps are read a word at a time, four per step: V8 checks bounds
 * and re-reads the array's length on every typed-array access, and this makes three accesses out of twelve.
 * A window may start at any pixel, so each source row is copied four times, copy `s` shifted so that pixels
 * `s`, `s + 4`, ... start words: the steps of every window then start on a word boundary of one copy. The 0-3
 * taps a window has beyond whole steps are taken first, read back from the words before its first step.
 */
function resampleHorizontalRGB(
  src: Uint8Array,
  width: number,
  rowStart: number,
  rows: number,
  outWidth: number,
  { ksize, bounds, weights }: Coefficients,
): Uint8Array {
  const inStride = width * 3;
  // Copy `s` puts pixel x at byte 12 + 3 * (x - s) of its segment: the 12 bytes in front hold the pixels a
  // leading tap may reach before pixel `s`.
  const segmentWords = (inStride + 15) >> 2;
  // One Int32Array holds the four row copies and then the taps (per output pixel, contiguous: the word where
  // its whole steps start, the number of steps, the 0-3 leading taps, then the weights in order), so that the
  // inner loop checks a single array.
  const tableStart = segmentWords * 4;
  let tableEnd = tableStart;
  let shifts = 0;
  for (let xx = 0; xx < outWidth; xx++) {
    const count = bounds[xx * 2 + 1]!;
    tableEnd += 3 + count;
    shifts |= 1 << ((bounds[xx * 2]! + (count & 3)) & 3);
  }
  const mem = new Int32Array(tableEnd);
  for (let xx = 0, j = tableStart; xx < outWidth; xx++) {
    const count = bounds[xx * 2 + 1]!;
    const first = bounds[xx * 2]! + (count & 3);
    const shift = first & 3;
    mem[j] = shift * segmentWords + 3 + (((first - shift) * 3) >> 2);
    mem[j + 1] = count >> 2;
    mem[j + 2] = count & 3;
    mem.set(weights.subarray(xx * ksize, xx * ksize + count), j + 3);
    j += 3 + count;
  }
  const copies = new Uint8Array(mem.buffer);
  const out = new Uint8Array(outWidth * rows * 3);
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const row = src.subarray((y + rowStart) * inStride, (y + rowStart + 1) * inStride);
    for (let shift = 0; shift < 4; shift++) {
      if (shifts & (1 << shift)) copies.set(row, shift * segmentWords * 4 + 12 - shift * 3);
    }
    for (let j = tableStart; j < tableEnd; ) {
      let p = mem[j]!;
      const lead = mem[j + 2]!;
      const end = j + 3 + lead + (mem[j + 1]! << 2);
      j += 3;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      // Words: R0 G0 B0 R1 | G1 B1 R2 G2 | B2 R3 G3 B3 (little-endian, low byte first); the leading taps are
      // the pixels just before a step: B2 R3 G3 B3 holds the last, R2 G2 of the one before, and so on.
      if (lead > 0) {
        const last = j + lead - 1;
        let w = mem[p - 1]!;
        let k = mem[last]!;
        r = (r + Math.imul((w >>> 8) & 255, k)) | 0;
        g = (g + Math.imul((w >>> 16) & 255, k)) | 0;
        b = (b + Math.imul(w >>> 24, k)) | 0;
        if (lead > 1) {
          k = mem[last - 1]!;
          b = (b + Math.imul(w & 255, k)) | 0;
          w = mem[p - 2]!;
          r = (r + Math.imul((w >>> 16) & 255, k)) | 0;
          g = (g + Math.imul(w >>> 24, k)) | 0;
          if (lead > 2) {
            k = mem[j]!;
            g = (g + Math.imul(w & 255, k)) | 0;
            b = (b + Math.imul((w >>> 8) & 255, k)) | 0;
            r = (r + Math.imul(mem[p - 3]! >>> 24, k)) | 0;
          }
        }
        j += lead;
      }
      for (; j < end; j += 4, p += 3) {
        let w = mem[p]!;
        let k = mem[j]!;
        r = (r + Math.imul(w & 255, k)) | 0;
        g = (g + Math.imul((w >>> 8) & 255, k)) | 0;
        b = (b + Math.imul((w >>> 16) & 255, k)) | 0;
        k = mem[j + 1]!;
        r = (r + Math.imul(w >>> 24, k)) | 0;
        w = mem[p + 1]!;
        g = (g + Math.imul(w & 255, k)) | 0;
        b = (b + Math.imul((w >>> 8) & 255, k)) | 0;
        k = mem[j + 2]!;
        r = (r + Math.imul((w >>> 16) & 255, k)) | 0;
        g = (g + Math.imul(w >>> 24, k)) | 0;
        w = mem[p + 2]!;
        b = (b + Math.imul(w & 255, k)) | 0;
        k = mem[j + 3]!;
        r = (r + Math.imul((w >>> 8) & 255, k)) | 0;
        g = (g + Math.imul((w >>> 16) & 255, k)) | 0;
        b = (b + Math.imul(w >>> 24, k)) | 0;
      }
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
      o += 3;
    }
  }
  return out;
}

/** Vertical pass: each output row is a weighted sum of input rows. */
function resampleVertical(
  src: Uint8Array,
  rowLength: number,
  outHeight: number,
  coefficients: Coefficients,
  rowOffset: number,
): Uint8Array {
  return LITTLE_ENDIAN && rowLength % 4 === 0 && src.byteOffset % 4 === 0
    ? resampleVerticalWords(src, rowLength, outHeight, coefficients, rowOffset)
    : resampleVerticalBytes(src, rowLength, outHeight, coefficients, rowOffset);
}

/**
 * The vertical pass a word at a time: each Int32 of a row holds four columns, so one read feeds four sums kept
 * in locals, and the four clipped bytes go out in one write. Taps run down the column pair by pair.
 */
function resampleVerticalWords(
  src: Uint8Array,
  rowLength: number,
  outHeight: number,
  { ksize, bounds, weights }: Coefficients,
  rowOffset: number,
): Uint8Array {
  const out = new Uint8Array(outHeight * rowLength);
  const words = new Int32Array(src.buffer, src.byteOffset, src.length >> 2);
  const outWords = new Int32Array(out.buffer);
  const rowWords = rowLength >> 2;
  for (let yy = 0; yy < outHeight; yy++) {
    const end = yy * ksize + bounds[yy * 2 + 1]!;
    const first = (bounds[yy * 2]! - rowOffset) * rowWords;
    const o = yy * rowWords;
    for (let i = 0; i < rowWords; i++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      let p = first + i;
      let t = yy * ksize;
      for (; t + 1 < end; t += 2, p += 2 * rowWords) {
        const w = words[p]!;
        const k = weights[t]!;
        const v = words[p + rowWords]!;
        const q = weights[t + 1]!;
        s0 = (s0 + Math.imul(w & 255, k) + Math.imul(v & 255, q)) | 0;
        s1 = (s1 + Math.imul((w >>> 8) & 255, k) + Math.imul((v >>> 8) & 255, q)) | 0;
        s2 = (s2 + Math.imul((w >>> 16) & 255, k) + Math.imul((v >>> 16) & 255, q)) | 0;
        s3 = (s3 + Math.imul(w >>> 24, k) + Math.imul(v >>> 24, q)) | 0;
      }
      if (t < end) {
        const w = words[p]!;
        const k = weights[t]!;
        s0 = (s0 + Math.imul(w & 255, k)) | 0;
        s1 = (s1 + Math.imul((w >>> 8) & 255, k)) | 0;
        s2 = (s2 + Math.imul((w >>> 16) & 255, k)) | 0;
        s3 = (s3 + Math.imul(w >>> 24, k)) | 0;
      }
      outWords[o + i] = clip8(s0) | (clip8(s1) << 8) | (clip8(s2) << 16) | (clip8(s3) << 24);
    }
  }
  return out;
}

/**
 * The vertical pass for rows that are not whole words: the sums run along the rows (contiguous memory) four
 * source rows per sweep, so the accumulator row is read and written once per four taps; the last sweep (one to
 * four rows) writes the clipped output instead of the accumulator.
 */
function resampleVerticalBytes(
  src: Uint8Array,
  rowLength: number,
  outHeight: number,
  { ksize, bounds, weights }: Coefficients,
  rowOffset: number,
): Uint8Array {
  const out = new Uint8Array(outHeight * rowLength);
  const acc = new Int32Array(rowLength);
  for (let yy = 0; yy < outHeight; yy++) {
    const count = bounds[yy * 2 + 1]!;
    let kBase = yy * ksize;
    let a = (bounds[yy * 2]! - rowOffset) * rowLength;
    acc.fill(HALF);
    let left = count;
    for (; left > 4; left -= 4, kBase += 4, a += 4 * rowLength) {
      const k0 = weights[kBase]!;
      const k1 = weights[kBase + 1]!;
      const k2 = weights[kBase + 2]!;
      const k3 = weights[kBase + 3]!;
      const b = a + rowLength;
      const c = b + rowLength;
      const d = c + rowLength;
      for (let i = 0; i < rowLength; i++) {
        acc[i] =
          (acc[i]! +
            Math.imul(src[a + i]!, k0) +
            Math.imul(src[b + i]!, k1) +
            Math.imul(src[c + i]!, k2) +
            Math.imul(src[d + i]!, k3)) |
          0;
      }
    }
    const o = yy * rowLength;
    const k0 = weights[kBase]!;
    const b = a + rowLength;
    const c = b + rowLength;
    const d = c + rowLength;
    if (left === 1) {
      for (let i = 0; i < rowLength; i++) out[o + i] = clip8(acc[i]! + Math.imul(src[a + i]!, k0));
    } else if (left === 2) {
      const k1 = weights[kBase + 1]!;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] = clip8(acc[i]! + Math.imul(src[a + i]!, k0) + Math.imul(src[b + i]!, k1));
      }
    } else if (left === 3) {
      const k1 = weights[kBase + 1]!;
      const k2 = weights[kBase + 2]!;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] = clip8(
          acc[i]! + Math.imul(src[a + i]!, k0) + Math.imul(src[b + i]!, k1) + Math.imul(src[c + i]!, k2),
        );
      }
    } else {
      const k1 = weights[kBase + 1]!;
      const k2 = weights[kBase + 2]!;
      const k3 = weights[kBase + 3]!;
      for (let i = 0; i < rowLength; i++) {
        out[o + i] = clip8(
          acc[i]! +
            Math.imul(src[a + i]!, k0) +
            Math.imul(src[b + i]!, k1) +
            Math.imul(src[c + i]!, k2) +
            Math.imul(src[d + i]!, k3),
        );
      }
    }
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
      // Trimmed windows need not be monotonic, so take the extremes over all of them.
      firstRow = height;
      lastRow = 0;
      for (let yy = 0; yy < outHeight; yy++) {
        const ymin = vertical.bounds[yy * 2]!;
        firstRow = Math.min(firstRow, ymin);
        lastRow = Math.max(lastRow, ymin + vertical.bounds[yy * 2 + 1]!);
      }
    }
    const horizontal = precomputeCoefficients(width, outWidth, kernel);
    pixels = resampleHorizontal(data, width, channels, firstRow, lastRow - firstRow, outWidth, horizontal);
    rowOffset = firstRow;
  }
  if (vertical) return resampleVertical(pixels, outWidth * channels, outHeight, vertical, rowOffset);
  return pixels;
}

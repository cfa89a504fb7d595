/**
 * OWLv2's resize, as transformers' `Owlv2ImageProcessor.resize` runs it with scipy (fixture owlv2, every
 * `Owlv2ImageProcessor` case, atol 1e-4):
 *
 *   1. `ndimage.gaussian_filter(image, sigma, mode='mirror', truncate=4)` with `sigma = max(0, (in/out - 1) / 2)`
 *      per spatial axis (0 for channels): a separable filter, radius `int(4 * sigma + 0.5)`, kernel
 *      `exp(-x^2 / (2 sigma^2))` normalized to sum 1;
 *   2. `ndimage.zoom(filtered, out/in, order=1, mode='mirror', grid_mode=True)`: linear interpolation at input
 *      coordinate `(k + 0.5) * in/out - 0.5`, reflected into range;
 *   3. clip to the [min, max] of the input.
 *
 * scipy's 'mirror' reflects about the edge sample's center (d c b | a b c d | c b a). Both steps are linear along
 * each axis, so we fold them into one weight table per axis (Gaussian taps times interpolation taps, the same
 * reals in another order) and run two passes: vertical (only the rows the output needs) and horizontal. That
 * skips the full-resolution filtered image scipy materializes; the results differ from scipy's only in float
 * rounding (about 1e-7), far inside the fixture's 1e-4.
 */

/** The taps of one axis: output `k` reads `index[start[k] .. start[k+1])` with `weight` at the same places. */
export interface AxisTaps {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** scipy's integer 'mirror' extension (NI_ExtendLine): -1 -> 1, n -> n - 2; a length-1 axis always reads 0. */
export function mirrorIndex(i: number, n: number): number {
  if (n <= 1) return 0;
  const period = 2 * n - 2;
  let m = i % period;
  if (m < 0) m += period;
  return m >= n ? period - m : m;
}

/** scipy's `map_coordinate` for mode 'mirror' on a fractional coordinate (ni_interpolation.c). */
export function mirrorCoordinate(x: number, n: number): number {
  if (x < 0) {
    if (n <= 1) return 0;
    const period = 2 * n - 2;
    const shifted = period * Math.trunc(-x / period) + x;
    return shifted <= 1 - n ? shifted + period : -shifted;
  }
  if (x > n - 1) {
    if (n <= 1) return 0;
    const period = 2 * n - 2;
    const shifted = x - period * Math.trunc(x / period);
    return shifted >= n ? period - shifted : shifted;
  }
  return x;
}

/** `scipy.ndimage._gaussian_kernel1d(sigma, 0, radius)`; `[1]` when scipy skips the axis (sigma <= 1e-15). */
export function gaussianKernel(sigma: number, truncate = 4): Float64Array {
  if (!(sigma > 1e-15)) return Float64Array.of(1);
  const radius = Math.trunc(truncate * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  const scale = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const value = Math.exp(scale * x * x);
    kernel[x + radius] = value;
    sum += value;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  return kernel;
}

/** The folded Gaussian + linear-zoom taps of an axis of `inLength` samples resized to `outLength`. */
export function axisTaps(inLength: number, outLength: number): AxisTaps {
  const factor = inLength / outLength;
  const kernel = gaussianKernel(Math.max(0, (factor - 1) / 2));
  const radius = (kernel.length - 1) / 2;
  const start = new Int32Array(outLength + 1);
  const indices: number[] = [];
  const weights: number[] = [];
  const merged = new Map<number, number>();
  for (let k = 0; k < outLength; k++) {
    const x = mirrorCoordinate((k + 0.5) * factor - 0.5, inLength);
    const left = Math.floor(x);
    const t = x - left;
    merged.clear();
    for (const [sample, linear] of [
      [left, 1 - t],
      [mirrorIndex(left + 1, inLength), t],
    ] as const) {
      if (linear === 0) continue;
      for (let j = -radius; j <= radius; j++) {
        const at = mirrorIndex(sample + j, inLength);
        merged.set(at, (merged.get(at) ?? 0) + linear * kernel[j + radius]!);
      }
    }
    start[k] = indices.length;
    for (const [at, weight] of [...merged].sort((a, b) => a[0] - b[0])) {
      indices.push(at);
      weights.push(weight);
    }
  }
  start[outLength] = indices.length;
  return { start, index: Int32Array.from(indices), weight: Float64Array.from(weights) };
}

/** One RGB(-like) image, interleaved (HWC) bytes, and how its bytes become floats. */
export interface ResizeSource {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
  /** byte -> float32 value (rescaled or not). */
  values: Float32Array;
  /** The padded size: rows >= height and columns >= width hold `padValue`. */
  paddedHeight: number;
  paddedWidth: number;
  padValue: number;
}

/** Scratch buffers reused across calls of the same size, so a batch allocates once. */
export class ResizeScratch {
  #rows = new Float32Array(0);
  #acc = new Float64Array(0);

  rows(length: number): Float32Array {
    if (this.#rows.length < length) this.#rows = new Float32Array(length);
    return this.#rows;
  }

  #source = new Float32Array(0);
  #sourceRows: number[] = [];
  #sourceData: Uint8Array | undefined;
  #sourceValues: Float32Array | undefined;
  #sourceNext = 0;

  /**
   * Source row `row` as floats, from a small ring of converted rows: the vertical taps of consecutive output rows
   * overlap, so each byte is converted about once instead of once per tap.
   */
  sourceRow(row: number, data: Uint8Array, values: Float32Array, rowLength: number): Float32Array {
    const slots = 16;
    if (
      this.#sourceData !== data ||
      this.#sourceValues !== values ||
      this.#source.length < slots * rowLength
    ) {
      if (this.#source.length < slots * rowLength) this.#source = new Float32Array(slots * rowLength);
      this.#sourceRows = [];
      this.#sourceData = data;
      this.#sourceValues = values;
      this.#sourceNext = 0;
    }
    let slot = this.#sourceRows.indexOf(row);
    if (slot < 0) {
      slot = this.#sourceNext;
      this.#sourceNext = (this.#sourceNext + 1) % slots;
      this.#sourceRows[slot] = row;
      const base = row * rowLength;
      const target = slot * rowLength;
      for (let i = 0; i < rowLength; i++) this.#source[target + i] = values[data[base + i]!]!;
    }
    return this.#source.subarray(slot * rowLength, (slot + 1) * rowLength);
  }

  acc(length: number): Float64Array {
    if (this.#acc.length < length) this.#acc = new Float64Array(length);
    return this.#acc;
  }
}

/**
 * Resizes the padded image to `outHeight` x `outWidth` as scipy does (above) and writes float32 HWC values into
 * `out` (`outHeight * outWidth * channels`). Clipping is left to the caller.
 */
export function antiAliasedResize(
  source: ResizeSource,
  outHeight: number,
  outWidth: number,
  out: Float32Array,
  scratch = new ResizeScratch(),
): void {
  const { data, width, height, channels, values, paddedHeight, paddedWidth, padValue } = source;
  const vertical = axisTaps(paddedHeight, outHeight);
  const horizontal = axisTaps(paddedWidth, outWidth);
  const rowLength = width * channels;
  // Pass 1: the vertical filter, on the real columns only (padded columns stay padValue).
  const rows = scratch.rows(outHeight * rowLength);
  const acc = scratch.acc(rowLength);
  for (let y = 0; y < outHeight; y++) {
    const target = y * rowLength;
    if (vertical.index[vertical.start[y]!]! >= height) {
      // Only padding under this output row (taps are sorted): it stays the pad value.
      rows.fill(padValue, target, target + rowLength);
      continue;
    }
    acc.fill(0, 0, rowLength);
    let padWeight = 0;
    for (let t = vertical.start[y]!, end = vertical.start[y + 1]!; t < end; t++) {
      const row = vertical.index[t]!;
      const w = vertical.weight[t]!;
      if (row >= height) {
        padWeight += w;
        continue;
      }
      const source = scratch.sourceRow(row, data, values, rowLength);
      for (let i = 0; i < rowLength; i++) acc[i]! += w * source[i]!;
    }
    const padded = padWeight * padValue;
    for (let i = 0; i < rowLength; i++) rows[target + i] = acc[i]! + padded;
  }
  // Pass 2: the horizontal filter (RGB unrolled: the common case).
  const outRow = outWidth * channels;
  for (let y = 0; y < outHeight; y++) {
    const base = y * rowLength;
    const outBase = y * outRow;
    if (vertical.index[vertical.start[y]!]! >= height) {
      out.fill(padValue, outBase, outBase + outRow);
      continue;
    }
    for (let x = 0; x < outWidth; x++) {
      const o = outBase + x * channels;
      let padWeight = 0;
      if (channels === 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let t = horizontal.start[x]!, end = horizontal.start[x + 1]!; t < end; t++) {
          const column = horizontal.index[t]!;
          const w = horizontal.weight[t]!;
          if (column >= width) {
            padWeight += w;
            continue;
          }
          const at = base + column * 3;
          r += w * rows[at]!;
          g += w * rows[at + 1]!;
          b += w * rows[at + 2]!;
        }
        const padded = padWeight * padValue;
        out[o] = r + padded;
        out[o + 1] = g + padded;
        out[o + 2] = b + padded;
        continue;
      }
      for (let c = 0; c < channels; c++) acc[c] = 0;
      for (let t = horizontal.start[x]!, end = horizontal.start[x + 1]!; t < end; t++) {
        const column = horizontal.index[t]!;
        const w = horizontal.weight[t]!;
        if (column >= width) {
          padWeight += w;
          continue;
        }
        const at = base + column * channels;
        for (let c = 0; c < channels; c++) acc[c]! += w * rows[at + c]!;
      }
      const padded = padWeight * padValue;
      for (let c = 0; c < channels; c++) out[o + c] = acc[c]! + padded;
    }
  }
}

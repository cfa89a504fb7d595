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
 * rounding (about 1e-7), far inside the fixture's 1e-4. The vertical filter reads the source bytes through the
 * rescale table and sums up to three taps per sweep, and each output row is filtered horizontally while its
 * vertical row is still in cache.
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

/** Scratch rows reused across calls (one filtered row and its float64 accumulator), so a batch allocates once. */
export class ResizeScratch {
  #rows = new Float32Array(0);
  #acc = new Float64Array(0);

  rows(length: number): Float32Array {
    if (this.#rows.length < length) this.#rows = new Float32Array(length);
    return this.#rows;
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
  const outRow = outWidth * channels;
  // One output row at a time: the vertical filter of the real columns into `row` (float32, as the filtered
  // image is), then the horizontal filter of that row into `out`. Keeping a single filtered row instead of the
  // whole intermediate image keeps the work in cache.
  const row = scratch.rows(rowLength);
  const acc = scratch.acc(rowLength);
  const vStart = vertical.start;
  const vIndex = vertical.index;
  const vWeight = vertical.weight;
  const hStart = horizontal.start;
  const hIndex = horizontal.index;
  const hWeight = horizontal.weight;
  const tapRows = new Int32Array(vertical.index.length);
  const tapWeights = new Float64Array(vertical.index.length);
  for (let y = 0; y < outHeight; y++) {
    const outBase = y * outRow;
    if (vIndex[vStart[y]!]! >= height) {
      // Only padding under this output row (taps are sorted): it stays the pad value.
      out.fill(padValue, outBase, outBase + outRow);
      continue;
    }
    // The taps of this row, two source rows per sweep over the row: each sweep reads the accumulator once
    // instead of once per tap (this loop is most of the resize's time).
    let padWeight = 0;
    let taps = 0;
    for (let t = vStart[y]!, end = vStart[y + 1]!; t < end; t++) {
      if (vIndex[t]! >= height) padWeight += vWeight[t]!;
      else {
        tapRows[taps] = vIndex[t]! * rowLength;
        tapWeights[taps++] = vWeight[t]!;
      }
    }
    let first = true;
    for (let k = 0; k < taps; ) {
      const left = taps - k;
      const a = tapRows[k]!;
      const wa = tapWeights[k]!;
      if (left >= 3) {
        const b = tapRows[k + 1]!;
        const wb = tapWeights[k + 1]!;
        const c = tapRows[k + 2]!;
        const wc = tapWeights[k + 2]!;
        if (first) {
          for (let i = 0; i < rowLength; i++) {
            acc[i] = wa * values[data[a + i]!]! + wb * values[data[b + i]!]! + wc * values[data[c + i]!]!;
          }
        } else {
          for (let i = 0; i < rowLength; i++) {
            acc[i]! += wa * values[data[a + i]!]! + wb * values[data[b + i]!]! + wc * values[data[c + i]!]!;
          }
        }
        k += 3;
      } else if (left === 2) {
        const b = tapRows[k + 1]!;
        const wb = tapWeights[k + 1]!;
        if (first)
          for (let i = 0; i < rowLength; i++)
            acc[i] = wa * values[data[a + i]!]! + wb * values[data[b + i]!]!;
        else
          for (let i = 0; i < rowLength; i++)
            acc[i]! += wa * values[data[a + i]!]! + wb * values[data[b + i]!]!;
        k += 2;
      } else {
        if (first) for (let i = 0; i < rowLength; i++) acc[i] = wa * values[data[a + i]!]!;
        else for (let i = 0; i < rowLength; i++) acc[i]! += wa * values[data[a + i]!]!;
        k += 1;
      }
      first = false;
    }
    if (first) acc.fill(0, 0, rowLength);
    const paddedRows = padWeight * padValue;
    for (let i = 0; i < rowLength; i++) row[i] = acc[i]! + paddedRows;
    if (channels === 3) {
      // RGB unrolled: the common case.
      for (let x = 0, o = outBase; x < outWidth; x++, o += 3) {
        let columnsPad = 0;
        let r = 0;
        let g = 0;
        let b = 0;
        for (let t = hStart[x]!, end = hStart[x + 1]!; t < end; t++) {
          const column = hIndex[t]!;
          const w = hWeight[t]!;
          if (column >= width) {
            columnsPad += w;
            continue;
          }
          const at = column * 3;
          r += w * row[at]!;
          g += w * row[at + 1]!;
          b += w * row[at + 2]!;
        }
        const padded = columnsPad * padValue;
        out[o] = r + padded;
        out[o + 1] = g + padded;
        out[o + 2] = b + padded;
      }
      continue;
    }
    for (let x = 0; x < outWidth; x++) {
      const o = outBase + x * channels;
      let columnsPad = 0;
      for (let c = 0; c < channels; c++) acc[c] = 0;
      for (let t = hStart[x]!, end = hStart[x + 1]!; t < end; t++) {
        const column = hIndex[t]!;
        const w = hWeight[t]!;
        if (column >= width) {
          columnsPad += w;
          continue;
        }
        const at = column * channels;
        for (let c = 0; c < channels; c++) acc[c]! += w * row[at + c]!;
      }
      const padded = columnsPad * padValue;
      for (let c = 0; c < channels; c++) out[o + c] = acc[c]! + padded;
    }
  }
}

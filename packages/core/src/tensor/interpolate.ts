import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from './tensor.js';

const f32 = Math.fround;

interface AxisWeights {
  low: Int32Array;
  high: Int32Array;
  lowWeight: Float32Array;
  highWeight: Float32Array;
}

/**
 * Source positions and weights for one axis with align_corners=False, in float32 as torch computes them on CPU for
 * float tensors: scale = in/out, src = max(scale * (dst + 0.5) - 0.5, 0), neighbours floor(src) and the next
 * one (clamped at the border).
 */
function axisWeights(input: number, output: number): AxisWeights {
  const weights: AxisWeights = {
    low: new Int32Array(output),
    high: new Int32Array(output),
    lowWeight: new Float32Array(output),
    highWeight: new Float32Array(output),
  };
  const scale = f32(input / output);
  for (let dst = 0; dst < output; dst++) {
    const source = Math.max(f32(f32(scale * f32(dst + 0.5)) - 0.5), 0);
    const low = Math.floor(source);
    const lambda = Math.min(Math.max(f32(source - low), 0), 1);
    weights.low[dst] = low;
    weights.high[dst] = low < input - 1 ? low + 1 : low;
    weights.highWeight[dst] = lambda;
    weights.lowWeight[dst] = f32(1 - lambda);
  }
  return weights;
}

/**
 * Where each run of output columns with the same source pair ends. Upsampling maps several columns to one pair, so
 * the row pass reads each pair once per run instead of gathering it again for every column.
 */
function runEnds(low: Int32Array): Int32Array {
  const ends: number[] = [];
  for (let x = 1; x < low.length; x++) {
    if (low[x] !== low[x - 1]) ends.push(x);
  }
  ends.push(low.length);
  return Int32Array.from(ends);
}

/**
 * One source row interpolated along x into `out`: the `upper` / `lower` term of torch's kernel, which depends only
 * on the source row and the output column, so it is computed once per source row instead of once per output row.
 * Storing into a Float32Array rounds like the f32() around the sum (here and in blendRows).
 */
function interpolateRow(
  input: Float32Array,
  offset: number,
  cols: AxisWeights,
  ends: Int32Array,
  out: Float32Array,
): void {
  const { low, high, lowWeight, highWeight } = cols;
  let x = 0;
  for (let run = 0; run < ends.length; run++) {
    const end = ends[run]!;
    const left = input[offset + low[x]!]!;
    const right = input[offset + high[x]!]!;
    for (; x < end; x++) {
      out[x] = f32(lowWeight[x]! * left) + f32(highWeight[x]! * right);
    }
  }
}

/**
 * An output row whose source rows are both new (always when downsampling by 2 or more): interpolating both along x
 * and blending in one pass, as the per-pixel kernel does, reads the x tables once; the two rows are kept only when the
 * next output row uses one of them.
 */
function interpolateRowPair(
  input: Float32Array,
  topOffset: number,
  bottomOffset: number,
  cols: AxisWeights,
  wTop: number,
  wBottom: number,
  upper: Float32Array,
  lower: Float32Array,
  keep: boolean,
  out: Float32Array,
  offset: number,
): void {
  const { low, high, lowWeight, highWeight } = cols;
  const width = upper.length;
  for (let x = 0; x < width; x++) {
    const left = low[x]!;
    const right = high[x]!;
    const wLeft = lowWeight[x]!;
    const wRight = highWeight[x]!;
    const a = f32(f32(wLeft * input[topOffset + left]!) + f32(wRight * input[topOffset + right]!));
    const b = f32(f32(wLeft * input[bottomOffset + left]!) + f32(wRight * input[bottomOffset + right]!));
    if (keep) {
      upper[x] = a;
      lower[x] = b;
    }
    out[offset + x] = f32(wTop * a) + f32(wBottom * b);
  }
}

/**
 * One output row from the two x-interpolated source rows. No shortcut for weights 1 / 0, a border pair or an
 * unchanged size: f32(1 * a) + f32(0 * b) is not `a` when a is -0 or b is infinite or NaN, and the result has to
 * stay bit-identical to torch's formula.
 */
function blendRows(
  upper: Float32Array,
  lower: Float32Array,
  wTop: number,
  wBottom: number,
  out: Float32Array,
  offset: number,
): void {
  const width = upper.length;
  let x = 0;
  for (; x + 4 <= width; x += 4) {
    out[offset + x] = f32(wTop * upper[x]!) + f32(wBottom * lower[x]!);
    out[offset + x + 1] = f32(wTop * upper[x + 1]!) + f32(wBottom * lower[x + 1]!);
    out[offset + x + 2] = f32(wTop * upper[x + 2]!) + f32(wBottom * lower[x + 2]!);
    out[offset + x + 3] = f32(wTop * upper[x + 3]!) + f32(wBottom * lower[x + 3]!);
  }
  for (; x < width; x++) {
    out[offset + x] = f32(wTop * upper[x]!) + f32(wBottom * lower[x]!);
  }
}

/**
 * Bilinear resize of the last two axes ([..., H, W] -> [..., outH, outW]) matching torch's
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` without antialias, in float32 arithmetic.
 * CLIPSeg's masks and Mask2Former's post-processing depend on it.
 */
export function interpolateBilinear(
  tensor: Tensor<'float32'>,
  size: readonly [height: number, width: number],
): Tensor<'float32'> {
  if (tensor.rank < 2) {
    throw new InputShapeError(
      `interpolateBilinear needs a tensor of rank >= 2 ([..., H, W]), got [${tensor.dims.join(', ')}]`,
    );
  }
  const [outH, outW] = size;
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH <= 0 || outW <= 0) {
    throw new InvalidArgumentError(
      `interpolateBilinear: size must be two positive integers, got [${size.join(', ')}]`,
    );
  }
  const inH = tensor.dims[tensor.rank - 2]!;
  const inW = tensor.dims[tensor.rank - 1]!;
  if (inH === 0 || inW === 0) {
    throw new InputShapeError(`interpolateBilinear: cannot resize an empty ${inH}x${inW} plane`);
  }
  const planes = tensor.size / (inH * inW);
  const rows = axisWeights(inH, outH);
  const cols = axisWeights(inW, outW);
  const colRuns = runEnds(cols.low);
  const rowLow = rows.low;
  const rowHigh = rows.high;
  const rowLowWeight = rows.lowWeight;
  const rowHighWeight = rows.highWeight;
  const input = tensor.data;
  const output = new Float32Array(planes * outH * outW);
  // Two x-interpolated source rows, reused while consecutive output rows share them (several rows per source row
  // when upsampling). The row pairs only move forward, so two slots compute each source row at most once per plane.
  const slots: Float32Array[] = [new Float32Array(outW), new Float32Array(outW)];
  const slotRows = [-1, -1];
  for (let p = 0; p < planes; p++) {
    const source = p * inH * inW;
    const target = p * outH * outW;
    slotRows[0] = -1;
    slotRows[1] = -1;
    for (let y = 0; y < outH; y++) {
      const top = rowLow[y]!;
      const bottom = rowHigh[y]!;
      const wTop = rowLowWeight[y]!;
      const wBottom = rowHighWeight[y]!;
      const offset = target + y * outW;
      const topSlot: number = slotRows[0] === top ? 0 : slotRows[1] === top ? 1 : -1;
      const bottomSlot: number = slotRows[0] === bottom ? 0 : slotRows[1] === bottom ? 1 : -1;
      if (topSlot < 0 && bottomSlot < 0 && top !== bottom) {
        const next = y + 1 < outH ? rowLow[y + 1]! : -1;
        const keep = next === top || next === bottom;
        interpolateRowPair(
          input,
          source + top * inW,
          source + bottom * inW,
          cols,
          wTop,
          wBottom,
          slots[0]!,
          slots[1]!,
          keep,
          output,
          offset,
        );
        slotRows[0] = keep ? top : -1;
        slotRows[1] = keep ? bottom : -1;
        continue;
      }
      let upper: Float32Array;
      if (topSlot >= 0) upper = slots[topSlot]!;
      else {
        const slot = bottomSlot === 0 ? 1 : 0;
        upper = slots[slot]!;
        interpolateRow(input, source + top * inW, cols, colRuns, upper);
        slotRows[slot] = top;
      }
      let lower: Float32Array;
      if (bottom === top) lower = upper;
      else if (bottomSlot >= 0) lower = slots[bottomSlot]!;
      else {
        const slot = upper === slots[0] ? 1 : 0;
        lower = slots[slot]!;
        interpolateRow(input, source + bottom * inW, cols, colRuns, lower);
        slotRows[slot] = bottom;
      }
      blendRows(upper, lower, wTop, wBottom, output, offset);
    }
  }
  const dims = [...tensor.dims.slice(0, -2), outH, outW];
  return new Tensor('float32', output, dims);
}

import { permute } from '../tensor/layout.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * A [rows, cols] row-major matrix as [cols, rows] (torch's `weight.T` of a Linear: [out, in] -> [in, out]).
 *
 * @example transposeMatrix(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3); // [1, 4, 2, 5, 3, 6]
 */
export function transposeMatrix(data: Float32Array, rows: number, cols: number): Float32Array {
  return permute(new Tensor('float32', data, [rows, cols]), [1, 0]).data;
}

/**
 * Rounds half to even, as numpy's `rint` and ONNX's QuantizeLinear do (Math.round rounds half up).
 *
 * @example [roundHalfEven(2.5), roundHalfEven(3.5), roundHalfEven(-2.5)]; // [2, 4, -2]
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** int8 weights with one scale per output channel: w ≈ values * scale. */
export interface QuantizedMatrix {
  /** [in, out] (the MatMul layout), int8 in [-127, 127]. */
  readonly values: Int8Array;
  /** [out]: max |w| of the channel / 127 (1 for an all-zero channel, whose values are all 0). */
  readonly scales: Float32Array;
}

/**
 * Quantizes a Linear weight [out, in] (as stored by torch) per output channel, symmetrically: scale = max |w| / 127,
 * values = round(w / scale), half to even. -128 is never used, so the range is symmetric and negating a value never
 * overflows. The values come out transposed to [in, out], the layout MatMul and DynamicQuantizeMatMul take.
 *
 * @example
 * const { values, scales } = quantizeLinearWeight(weight, 768, 3072); // Int8Array [3072, 768], Float32Array [768]
 */
export function quantizeLinearWeight(weight: Float32Array, out: number, inFeatures: number): QuantizedMatrix {
  const values = new Int8Array(out * inFeatures);
  const scales = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    const row = o * inFeatures;
    let max = 0;
    for (let i = 0; i < inFeatures; i++) max = Math.max(max, Math.abs(weight[row + i]!));
    const scale = max > 0 ? Math.fround(max / 127) : 1;
    scales[o] = scale;
    for (let i = 0; i < inFeatures; i++) {
      const q = roundHalfEven(weight[row + i]! / scale);
      values[i * out + o] = Math.max(-127, Math.min(127, q));
    }
  }
  return { values, scales };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * One float32 as IEEE half bits, rounded to nearest even (overflow to ±inf, NaN kept, subnormals exact).
 *
 * @example float32ToFloat16Bits(1); // 0x3c00
 */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const halfExponent = exponent - 112;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): the implicit leading 1 joins the mantissa, shifted right by 1 - halfExponent more.
    if (halfExponent < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    const kept = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const round = rest > halfway || (rest === halfway && (kept & 1) === 1) ? 1 : 0;
    return sign | (kept + round);
  }
  const kept = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  const round = rest > 0x1000 || (rest === 0x1000 && (kept & 1) === 1) ? 1 : 0;
  return sign | (kept + round);
}

/**
 * float32 values as IEEE half bits (the `float16` initializer layout).
 *
 * @example toFloat16(Float32Array.of(1, -2)); // Uint16Array [0x3c00, 0xc000]
 */
export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float32ToFloat16Bits(data[i]!);
  return out;
}

/** An eval-mode BatchNorm's parameters, as its state dict holds them. */
export interface BatchNormParams {
  readonly weight: Float32Array;
  readonly bias: Float32Array;
  readonly runningMean: Float32Array;
  readonly runningVar: Float32Array;
  readonly eps: number;
}

/**
 * Folds an eval-mode BatchNorm into the layer before it (a Conv or a Linear whose output channels are the
 * BatchNorm's channels): y = (x·w + b - mean) * gamma / sqrt(var + eps) + beta becomes x·w' + b' with
 * w' = w * s and b' = (b - mean) * s + beta, s = gamma / sqrt(var + eps). `weight` is [channels, ...] (output
 * channel first, as torch stores Conv and Linear weights); the scale is computed in float64 and the results
 * rounded once to float32.
 *
 * @example
 * const folded = foldBatchNorm(convWeight, convBias, { weight, bias, runningMean, runningVar, eps: 1e-5 });
 */
export function foldBatchNorm(
  weight: Float32Array,
  bias: Float32Array | undefined,
  bn: BatchNormParams,
): { weight: Float32Array; bias: Float32Array } {
  const channels = bn.weight.length;
  const perChannel = weight.length / channels;
  const folded = new Float32Array(weight.length);
  const foldedBias = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const scale = bn.weight[c]! / Math.sqrt(bn.runningVar[c]! + bn.eps);
    for (let i = c * perChannel; i < (c + 1) * perChannel; i++) folded[i] = weight[i]! * scale;
    foldedBias[c] = ((bias?.[c] ?? 0) - bn.runningMean[c]!) * scale + bn.bias[c]!;
  }
  return { weight: folded, bias: foldedBias };
}

/**
 * Folds an eval-mode BatchNorm that comes before a Linear (its channels are the Linear's input features, as in
 * LeViT's classification heads) into the Linear: W·((x - mean)·s + beta) + b becomes x·W' + b' with
 * W'[o, i] = W[o, i]·s[i] and b'[o] = b[o] + Σᵢ W[o, i]·(beta[i] - mean[i]·s[i]), s = gamma / sqrt(var + eps).
 * `weight` is [out, in] as torch stores it; sums and scales are computed in float64 and rounded once to float32.
 * (A BatchNorm before a padded Conv cannot be folded this way: the padding would not be normalized.)
 *
 * @example
 * const folded = foldInputBatchNorm(headWeight, headBias, { weight, bias, runningMean, runningVar, eps: 1e-5 });
 */
export function foldInputBatchNorm(
  weight: Float32Array,
  bias: Float32Array | undefined,
  bn: BatchNormParams,
): { weight: Float32Array; bias: Float32Array } {
  const inFeatures = bn.weight.length;
  const out = weight.length / inFeatures;
  const scale = new Float64Array(inFeatures);
  const shift = new Float64Array(inFeatures);
  for (let i = 0; i < inFeatures; i++) {
    scale[i] = bn.weight[i]! / Math.sqrt(bn.runningVar[i]! + bn.eps);
    shift[i] = bn.bias[i]! - bn.runningMean[i]! * scale[i]!;
  }
  const folded = new Float32Array(weight.length);
  const foldedBias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let sum = bias?.[o] ?? 0;
    for (let i = 0; i < inFeatures; i++) {
      const w = weight[o * inFeatures + i]!;
      folded[o * inFeatures + i] = w * scale[i]!;
      sum += w * shift[i]!;
    }
    foldedBias[o] = sum;
  }
  return { weight: folded, bias: foldedBias };
}

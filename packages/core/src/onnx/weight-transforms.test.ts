import { describe, expect, it } from 'vitest';
import {
  float32ToFloat16Bits,
  foldBatchNorm,
  foldInputBatchNorm,
  quantizeLinearWeight,
  roundHalfEven,
  toFloat16,
  transposeMatrix,
} from './weight-transforms.js';

describe('transposeMatrix', () => {
  it('turns a [2, 3] Linear weight into [3, 2]', () => {
    expect([...transposeMatrix(Float32Array.of(1, 2, 3, 4, 5, 6), 2, 3)]).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour and everything else to the nearest', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, -0, -2, -2, 2, 3, -3,
    ]);
  });
});

describe('float32ToFloat16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest half
    [65519.99, 0x7bff], // below the midpoint to infinity: rounds down
    [65520, 0x7c00], // the midpoint rounds to even = infinity
    [1e6, 0x7c00],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half of it: a tie, rounds to even 0
    [3 * 2 ** -25, 0x0002], // 1.5 subnormal steps: a tie, rounds to even 2
    [2 ** -26, 0x0000],
    [-0, 0x8000],
    [1 + 2 ** -11, 0x3c00], // a tie between 1 and 1 + 2^-10: even is 1
    [1 + 3 * 2 ** -11, 0x3c02], // a tie between 1 + 2^-10 and 1 + 2^-9: even is the upper
    [0.333333343, 0x3555],
  ])('%d -> 0x%s', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    const bits = float32ToFloat16Bits(Number.NaN);
    expect(bits & 0x7c00).toBe(0x7c00);
    expect(bits & 0x3ff).not.toBe(0);
  });

  it('converts arrays', () => {
    expect([...toFloat16(Float32Array.of(1, -2, 0.5))]).toEqual([0x3c00, 0xc000, 0x3800]);
  });
});

describe('quantizeLinearWeight', () => {
  it('quantizes each output channel symmetrically and transposes to [in, out]', () => {
    // Two output channels of three inputs, with max |w| 127·2⁻⁷ and 127·2⁻⁹: the scales are exactly 2⁻⁷ and 2⁻⁹,
    // so the divisions are exact and the ties (-63.5, 62.5) really are ties.
    const weight = Float32Array.of(127 / 128, -63.5 / 128, 1 / 128, 62.5 / 512, 127 / 512, -127 / 512);
    const { values, scales } = quantizeLinearWeight(weight, 2, 3);
    expect([...scales]).toEqual([1 / 128, 1 / 512]);
    // [in, out]: one row per input.
    expect([...values]).toEqual([127, 62, -64, 127, 1, -127]);
  });

  it('never uses -128 and keeps every value within half a step of the weight', () => {
    const weight = Float32Array.from({ length: 64 * 48 }, (_, i) => Math.sin(i * 1.37) * (1 + (i % 7)));
    const { values, scales } = quantizeLinearWeight(weight, 64, 48);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(-127);
    for (let o = 0; o < 64; o++) {
      for (let i = 0; i < 48; i++) {
        const error = Math.abs(values[i * 64 + o]! * scales[o]! - weight[o * 48 + i]!);
        expect(error).toBeLessThanOrEqual(scales[o]! / 2 + 1e-7);
      }
    }
  });

  it('gives an all-zero channel zeros and scale 1 instead of dividing by zero', () => {
    const { values, scales } = quantizeLinearWeight(new Float32Array(4), 2, 2);
    expect([...values]).toEqual([0, 0, 0, 0]);
    expect([...scales]).toEqual([1, 1]);
  });
});

describe('foldBatchNorm', () => {
  it('gives the same outputs as the layer followed by the BatchNorm', () => {
    // A Linear 2 -> 2 with bias, then BatchNorm1d(2).
    const weight = Float32Array.of(0.5, -1, 2, 0.25);
    const bias = Float32Array.of(0.1, -0.2);
    const bn = {
      weight: Float32Array.of(1.5, 0.5),
      bias: Float32Array.of(-0.3, 0.7),
      runningMean: Float32Array.of(0.2, -0.4),
      runningVar: Float32Array.of(0.9, 2.5),
      eps: 1e-5,
    };
    const folded = foldBatchNorm(weight, bias, bn);
    const x = [0.7, -1.3];
    for (let c = 0; c < 2; c++) {
      const linear = weight[c * 2]! * x[0]! + weight[c * 2 + 1]! * x[1]! + bias[c]!;
      const expected =
        ((linear - bn.runningMean[c]!) / Math.sqrt(bn.runningVar[c]! + bn.eps)) * bn.weight[c]! + bn.bias[c]!;
      const actual = folded.weight[c * 2]! * x[0]! + folded.weight[c * 2 + 1]! * x[1]! + folded.bias[c]!;
      expect(actual).toBeCloseTo(expected, 6);
    }
  });

  it('treats a missing bias as zero and scales every element of a conv kernel’s channel', () => {
    const kernel = Float32Array.from({ length: 2 * 1 * 2 * 2 }, (_, i) => i + 1);
    const bn = {
      weight: Float32Array.of(2, 1),
      bias: Float32Array.of(0, 1),
      runningMean: Float32Array.of(1, 0),
      runningVar: Float32Array.of(3, 0),
      eps: 1,
    };
    const { weight, bias } = foldBatchNorm(kernel, undefined, bn);
    expect([...weight]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // scales 2/sqrt(4) = 1 and 1/sqrt(1) = 1
    expect([...bias]).toEqual([-1, 1]);
  });
});

describe('foldInputBatchNorm', () => {
  const bn = {
    weight: Float32Array.of(1.5, 0.5, -2),
    bias: Float32Array.of(-0.3, 0.7, 0.1),
    runningMean: Float32Array.of(0.2, -0.4, 1.1),
    runningVar: Float32Array.of(0.9, 2.5, 0.3),
    eps: 1e-5,
  };
  // A Linear 3 -> 2 ([out, in] as torch stores it) after BatchNorm1d(3).
  const weight = Float32Array.of(0.5, -1, 2, 0.25, 3, -0.75);
  const x = [0.7, -1.3, 0.4];
  const normalized = x.map(
    (v, i) =>
      ((v - bn.runningMean[i]!) / Math.sqrt(bn.runningVar[i]! + bn.eps)) * bn.weight[i]! + bn.bias[i]!,
  );

  it.each([
    ['with bias', Float32Array.of(0.1, -0.2)],
    ['without bias', undefined],
  ])('gives the same outputs as the BatchNorm followed by the layer (%s)', (_, bias) => {
    const folded = foldInputBatchNorm(weight, bias, bn);
    for (let o = 0; o < 2; o++) {
      let expected = bias?.[o] ?? 0;
      let actual = folded.bias[o]!;
      for (let i = 0; i < 3; i++) {
        expected += weight[o * 3 + i]! * normalized[i]!;
        actual += folded.weight[o * 3 + i]! * x[i]!;
      }
      expect(actual).toBeCloseTo(expected, 5);
    }
  });
});

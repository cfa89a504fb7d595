import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { compareArrays, compareTensors, describeComparison } from '../testing/compare.js';
import { fixturePath } from '../testing/fixtures.js';
import { loadFixture } from '../testing/manifest.js';
import { readNpy } from '../testing/npy.js';
import { sigmoid } from './activation.js';
import { interpolateBilinear } from './interpolate.js';
import { Tensor } from './tensor.js';

describe('interpolateBilinear', () => {
  it('upsamples 2x2 to 4x4 with half-pixel centres (torch align_corners=False)', () => {
    const t = new Tensor('float32', Float32Array.from([0, 1, 2, 3]), [1, 1, 2, 2]);
    const r = interpolateBilinear(t, [4, 4]);
    expect(r.dims).toEqual([1, 1, 4, 4]);
    // Per axis the weights are 1, 0.75/0.25, 0.25/0.75, 1 (source -0.25 -> 0 clamped, 0.25, 0.75, 1.25 -> edge).
    const row = [0, 0.25, 0.75, 1];
    const expected = [0, 0.5, 1.5, 2].flatMap((top) => row.map((x) => top + x));
    expect(compareArrays(r.data, expected, [16], { atol: 1e-6 }).ok).toBe(true);
  });

  it('downsamples 4 -> 2 by averaging pixel pairs', () => {
    const t = new Tensor('float32', Float32Array.from([0, 2, 4, 6]), [1, 4]);
    // scale 2: source 0.5 and 2.5
    expect(Array.from(interpolateBilinear(t, [1, 2]).data)).toEqual([1, 5]);
  });

  it('refuses a rank-1 tensor and a bad size', () => {
    const t = new Tensor('float32', new Float32Array(4), [4]);
    expect(() => interpolateBilinear(t, [2, 2])).toThrow(InputShapeError);
    const u = new Tensor('float32', new Float32Array(4), [2, 2]);
    expect(() => interpolateBilinear(u, [0, 2])).toThrow(InvalidArgumentError);
  });

  it('gives bit-identical results to the per-pixel formula for up-, down- and mixed resizes of any plane count', () => {
    const f32 = Math.fround;
    // The straightforward kernel (each output pixel from its four neighbours, in float32), to pin the row-cached
    // implementation to it exactly.
    const axis = (input: number, output: number) => {
      const scale = f32(input / output);
      return Array.from({ length: output }, (_, dst) => {
        const source = Math.max(f32(f32(scale * f32(dst + 0.5)) - 0.5), 0);
        const low = Math.floor(source);
        const lambda = Math.min(Math.max(f32(source - low), 0), 1);
        return { low, high: low < input - 1 ? low + 1 : low, lowWeight: f32(1 - lambda), highWeight: lambda };
      });
    };
    const reference = (
      data: Float32Array,
      planes: number,
      inH: number,
      inW: number,
      outH: number,
      outW: number,
    ) => {
      const rows = axis(inH, outH);
      const cols = axis(inW, outW);
      const out = new Float32Array(planes * outH * outW);
      for (let p = 0; p < planes; p++) {
        for (let y = 0; y < outH; y++) {
          const r = rows[y]!;
          const top = p * inH * inW + r.low * inW;
          const bottom = p * inH * inW + r.high * inW;
          for (let x = 0; x < outW; x++) {
            const c = cols[x]!;
            const upper = f32(
              f32(c.lowWeight * data[top + c.low]!) + f32(c.highWeight * data[top + c.high]!),
            );
            const lower = f32(
              f32(c.lowWeight * data[bottom + c.low]!) + f32(c.highWeight * data[bottom + c.high]!),
            );
            out[(p * outH + y) * outW + x] = f32(f32(r.lowWeight * upper) + f32(r.highWeight * lower));
          }
        }
      }
      return out;
    };
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const cases: [leading: number[], inH: number, inW: number, outH: number, outW: number][] = [
      [[4], 35, 35, 108, 192], // CLIPSeg's 352 -> 1080x1920, scaled down
      [[1, 4], 35, 35, 48, 64],
      [[3], 24, 24, 96, 96],
      [[2], 40, 30, 13, 7], // downsample
      [[2], 30, 20, 19, 14], // downsample by less than 2: some source rows shared by two output rows
      [[1], 50, 50, 47, 26],
      [[1], 17, 9, 5, 31], // mixed: down in y, up in x
      [[2], 9, 17, 31, 5], // mixed: up in y, down in x
      [[], 1, 7, 6, 20], // 1xN
      [[], 7, 1, 20, 6], // Nx1
      [[2], 1, 1, 3, 4],
      [[3], 12, 12, 12, 12], // unchanged size
      [[2], 12, 20, 12, 33], // unchanged height
      [[2], 20, 12, 33, 12], // unchanged width
      [[2, 3], 10, 11, 1, 1],
      [[5], 31, 29, 64, 57],
    ];
    for (const [leading, inH, inW, outH, outW] of cases) {
      const planes = leading.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: planes * inH * inW }, () => random() * 20 - 10);
      // Values that a reordered or shortcut formula would not reproduce: -0, infinities, NaN, tiny and huge.
      const specials = [
        -0,
        0,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        Number.NaN,
        1e-40,
        3e38,
        -3e38,
      ];
      for (let i = 0; i < data.length; i += 7) data[i] = specials[Math.floor(random() * specials.length)]!;
      const got = interpolateBilinear(new Tensor('float32', data, [...leading, inH, inW]), [outH, outW]);
      expect(got.dims).toEqual([...leading, outH, outW]);
      const expected = reference(data, planes, inH, inW, outH, outW);
      const mismatch = expected.findIndex((value, i) => !Object.is(value, got.data[i]));
      expect(mismatch, `${[...leading, inH, inW].join('x')} -> ${outH}x${outW} at ${mismatch}`).toBe(-1);
    }
  });

  it("matches torch on clipseg's segment-by-prompts cases (sigmoid then resize to the image)", async () => {
    const { manifest } = await loadFixture(fixturePath('clipseg'));
    const cases = manifest.pipeline.filter((c) => c.task === 'segment-image-by-prompts');
    expect(cases.length).toBeGreaterThan(0);
    for (const testCase of cases) {
      const expected = testCase.expected as Record<string, { npy: string }>;
      const logits = (await readNpy(fixturePath('clipseg', expected.logits!.npy))) as Tensor<'float32'>;
      const masks = await readNpy(fixturePath('clipseg', expected.masks!.npy));
      const [, height, width] = masks.dims as [number, number, number];
      const got = interpolateBilinear(sigmoid(logits), [height, width]);
      const comparison = compareTensors(got, masks, { atol: testCase.atol ?? 0 });
      expect(comparison.ok, `${testCase.name}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

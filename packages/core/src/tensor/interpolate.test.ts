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

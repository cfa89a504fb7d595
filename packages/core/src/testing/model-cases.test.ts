import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from './fixtures.js';
import { loadFixture } from './manifest.js';
import { checkModelCase } from './model-cases.js';
import { readNpy } from './npy.js';

describe('checkModelCase', async () => {
  const { manifest } = await loadFixture(fixturePath('vit-cls'));
  const testCase = manifest.model[0]!;
  const expected = await readNpy(fixturePath('vit-cls', testCase.expected.logits!));

  it('feeds the case inputs and passes outputs equal to the expected ones', async () => {
    let fed: string[] = [];
    const model = {
      forward: async (inputs: Record<string, Tensor>) => {
        fed = Object.keys(inputs);
        return { logits: expected };
      },
    };
    const [result] = await checkModelCase(model, 'vit-cls', testCase);
    expect(fed).toEqual(['pixel_values']);
    expect(result!.output).toBe('logits');
    expect(result!.comparison.ok).toBe(true);
  });

  it('fails on values beyond the tolerance and on a missing output', async () => {
    const shifted = Float32Array.from(expected.data as Float32Array, (v) => v + 0.5);
    const off = await checkModelCase(
      { forward: async () => ({ logits: new Tensor('float32', shifted, expected.dims) }) },
      'vit-cls',
      testCase,
    );
    expect(off[0]!.comparison.ok).toBe(false);
    expect(off[0]!.comparison.worstAbsError).toBeCloseTo(0.5, 5);
    const missing = await checkModelCase({ forward: async () => ({}) }, 'vit-cls', testCase);
    expect(missing[0]!.comparison.shapeMismatch).toBe("no output 'logits' (got nothing)");
  });
});

import { describe, expect, it } from 'vitest';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from './fixtures.js';
import { loadFixture } from './manifest.js';
import { checkGraphModelCases, checkModelCase } from './model-cases.js';
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

describe('checkGraphModelCases', () => {
  it('runs every case of the graph on the given file: the exported graph passes its own cases', async () => {
    const results = await checkGraphModelCases('vit-cls', fixturePath('vit-cls', 'onnx', 'model.onnx'));
    const { manifest } = await loadFixture(fixturePath('vit-cls'));
    expect(results.map((r) => `${r.case} ${r.output}`)).toEqual(
      manifest.model.map((c) => `${c.name} logits`),
    );
    expect(results.every((r) => r.comparison.ok)).toBe(true);
  });

  it('fails the cases on another model’s graph (vit-cls’s 5 logits for vit-digits’s 10)', async () => {
    const results = await checkGraphModelCases('vit-digits', fixturePath('vit-cls', 'onnx', 'model.onnx'));
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => !r.comparison.ok)).toBe(true);
  });

  it('gives no result for a graph key no case targets', async () => {
    expect(
      await checkGraphModelCases('vit-cls', fixturePath('vit-cls', 'onnx', 'model.onnx'), 'onnx/x.onnx'),
    ).toEqual([]);
  });
});

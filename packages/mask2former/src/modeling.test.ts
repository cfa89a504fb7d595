import { InputShapeError, Tensor } from '@ortvision/core';
import { compareTensors, describeComparison, fixturePath, readNpy } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURE, manifest } from './__fixtures__/cases.js';
import { Mask2FormerConfig } from './config.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';

const model = await Mask2FormerForUniversalSegmentation.fromPretrained(fixturePath(FIXTURE));
afterAll(() => model.dispose());
const cases = (await manifest()).model;

// Every model case through forward: both outputs within the case's atol/rtol of PyTorch.
describe('Mask2FormerForUniversalSegmentation on mask2former model cases', () => {
  it('has cases', () => expect(cases.length).toBe(4));
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const pixelValues = (await readNpy(
      fixturePath(FIXTURE, testCase.feeds.pixel_values!),
    )) as Tensor<'float32'>;
    const outputs = await model.forward({ pixel_values: pixelValues });
    for (const [name, file] of Object.entries(testCase.expected)) {
      const expected = await readNpy(fixturePath(FIXTURE, file));
      const actual = outputs[name as keyof typeof outputs];
      const comparison = compareTensors(actual, expected, {
        atol: testCase.atol ?? 0,
        rtol: testCase.rtol ?? 0,
      });
      expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
    }
  });

  it('ignores pixel_mask (the graph has no such input)', async () => {
    const pixel_values = new Tensor('float32', new Float32Array(3 * 32 * 48).fill(0.5), [1, 3, 32, 48]);
    const pixel_mask = new Tensor('int64', new BigInt64Array(32 * 48), [1, 32, 48]);
    const a = await model.forward({ pixel_values });
    const b = await model.forward({ pixel_values, pixel_mask });
    expect(Array.from(b.masks_queries_logits.data)).toEqual(Array.from(a.masks_queries_logits.data));
    expect(a.masks_queries_logits.dims).toEqual([1, 8, 8, 12]);
    expect(a.class_queries_logits.dims).toEqual([1, 8, 7]);
  });

  it('rejects pixel_values that are not a float32 [b, 3, h, w] tensor', async () => {
    await expect(model.forward({} as never)).rejects.toThrow(InputShapeError);
    await expect(
      model.forward({ pixel_values: new Tensor('float32', new Float32Array(12), [3, 2, 2]) }),
    ).rejects.toThrow(/pixel_values/);
  });
});

describe('Mask2FormerConfig', () => {
  it('reads the fixture config with its backbone and fills defaults', async () => {
    const config = await Mask2FormerConfig.fromPretrained(fixturePath(FIXTURE));
    expect(config.num_queries).toBe(8);
    expect(config.backbone_config?.model_type).toBe('swin');
    expect(config.labelOf(5)).toBe('sky');
    expect(new Mask2FormerConfig({ model_type: 'mask2former' }).num_queries).toBe(100);
  });
});

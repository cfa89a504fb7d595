import {
  checkImageProcessorCase,
  describeComparison,
  fixturePath,
  imageProcessorCases,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { ViTImageProcessor } from './image-processing.js';

// Every processor case of these fixtures that has images: pixel_values (and CLIPSeg's conditional_pixel_values)
// bit-exact for PNG; JPEG cases within their atol (0.04 where the manifest states none, as fixtures/README.md says).
// Text inputs, where a case has them, are the tokenizer's part and are not checked here.
describe.each(['vit-cls'])('ViTImageProcessor on %s processor cases', async (name) => {
  const processor = await ViTImageProcessor.fromPretrained(fixturePath(name));
  const cases = await imageProcessorCases(name);
  it('has image cases', () => expect(cases.length).toBeGreaterThan(0));
  it.each(cases)('%s', async (_caseName, testCase) => {
    for (const { output, comparison } of await checkImageProcessorCase(processor, name, testCase)) {
      expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

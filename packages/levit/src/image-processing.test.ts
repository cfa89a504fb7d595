import { preprocessOptionsFromKwargs } from '@ortvision/core';
import {
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { LevitImageProcessor } from './image-processing.js';

// Every processor case of these fixtures that has images: pixel_values (and CLIPSeg's conditional_pixel_values)
// bit-exact for PNG; JPEG cases within their atol (0.04 where the manifest states none, as fixtures/README.md says).
// Text inputs, where a case has them, are the tokenizer's part and are not checked here.
describe.each(['levit-cls', 'levit-teacher', 'levit-base'])(
  'LevitImageProcessor on %s processor cases',
  async (name) => {
    const fixture = await loadFixture(fixturePath(name));
    const processor = await LevitImageProcessor.fromPretrained(fixturePath(name));
    const cases = fixture.manifest.processor.filter((c) => c.inputs.images !== undefined);
    it('has image cases', () => expect(cases.length).toBeGreaterThan(0));
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_caseName, testCase) => {
      const options = preprocessOptionsFromKwargs(imageKwargs(testCase.kwargs));
      const streams: [string, unknown][] = [['pixel_values', testCase.inputs.images]];
      if (testCase.inputs.visual_prompt !== undefined) {
        streams.push(['conditional_pixel_values', testCase.inputs.visual_prompt]);
      }
      for (const [output, names] of streams) {
        const files = names as string[];
        const { pixel_values } = await processor.preprocess(files.map(fixtureImagePath), options);
        const expected = await readNpy(fixturePath(name, testCase.outputs[output]!));
        const atol = testCase.atol ?? (files.some((f) => f.endsWith('.jpg')) ? 0.04 : 0);
        const comparison = compareTensors(pixel_values, expected, { atol });
        expect(comparison.ok, `${output}: ${describeComparison(comparison)}`).toBe(true);
      }
    });
  },
);

/** Drops the tokenizer's kwargs (padding, truncation, max_length) of processor cases that also take text. */
function imageKwargs(kwargs: Record<string, unknown>): Record<string, unknown> {
  const textOnly = new Set(['padding', 'truncation', 'max_length']);
  return Object.fromEntries(Object.entries(kwargs).filter(([key]) => !textOnly.has(key)));
}

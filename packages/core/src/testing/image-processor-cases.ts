import type { PreprocessOptions } from '../image/image-processor.js';
import { preprocessOptionsFromKwargs } from '../image/kwargs.js';
import type { NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { splitTokenizerKwargs } from '../text/kwargs.js';
import { type Comparison, compareTensors } from './compare.js';
import { fixtureImagePath, fixturePath } from './fixtures.js';
import { type ProcessorCase, loadFixture } from './manifest.js';
import { readNpy } from './npy.js';

/** Anything with an image processor's `preprocess` (the core base class and every model's subclass). */
export interface ImagePreprocessor {
  preprocess(images: string[], options: PreprocessOptions): Promise<{ pixel_values: Tensor }>;
}

/** The image inputs a processor case may have, and the output each becomes. */
export const imageInputOutputs: Readonly<Record<string, string>> = {
  images: 'pixel_values',
  visual_prompt: 'conditional_pixel_values',
  query_images: 'query_pixel_values',
};

/**
 * Runs the image part of a processor case: each image input (names under the fixtures' images/) through
 * `preprocess` with the case's Python kwargs as camelCase overrides. Text inputs and tokenizer kwargs are left to
 * the caller.
 */
export async function preprocessCaseImages(
  processor: ImagePreprocessor,
  testCase: ProcessorCase,
  imagePath: (name: string) => string = fixtureImagePath,
): Promise<NamedTensors> {
  const options = preprocessOptionsFromKwargs(splitTokenizerKwargs(testCase.kwargs).rest);
  const outputs: NamedTensors = {};
  for (const [input, output] of Object.entries(imageInputOutputs)) {
    const names = testCase.inputs[input];
    if (names === undefined || names === null) continue;
    const files = (Array.isArray(names) ? names : [names]).map((name) => imagePath(String(name)));
    outputs[output] = (await processor.preprocess(files, options)).pixel_values;
  }
  return outputs;
}

/** A fixture's processor cases that have image inputs, as `[name, case]` rows for `it.each`. */
export async function imageProcessorCases(fixture: string): Promise<[string, ProcessorCase][]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  return manifest.processor
    .filter((c) => Object.keys(imageInputOutputs).some((input) => c.inputs[input] !== undefined))
    .map((c) => [c.name, c]);
}

/**
 * Compares the image outputs of a processor case with the fixture: exact for PNG, the case's atol otherwise
 * (0.04 for JPEG cases that state none, as fixtures/README.md says of vit-cls's EXIF JPEG).
 */
export async function checkImageProcessorCase(
  processor: ImagePreprocessor,
  fixture: string,
  testCase: ProcessorCase,
): Promise<{ output: string; comparison: Comparison }[]> {
  const outputs = await preprocessCaseImages(processor, testCase);
  const hasJpeg = JSON.stringify(testCase.inputs).match(/\.jpe?g"/i) !== null;
  const atol = testCase.atol ?? (hasJpeg ? 0.04 : 0);
  const results: { output: string; comparison: Comparison }[] = [];
  for (const [output, actual] of Object.entries(outputs)) {
    const expected = await readNpy(fixturePath(fixture, testCase.outputs[output]!));
    results.push({
      output,
      comparison: compareTensors(actual, expected, { atol, rtol: testCase.rtol ?? 0 }),
    });
  }
  return results;
}

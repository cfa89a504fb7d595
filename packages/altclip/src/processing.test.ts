import { InvalidArgumentError, type Tensor } from '@ortvision/core';
import {
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { AltCLIPProcessor, processorOptionsFromKwargs } from './processing.js';

const dir = fixturePath('altclip');
const { manifest } = await loadFixture(dir);
const processor = await AltCLIPProcessor.fromPretrained(dir);

describe('AltCLIPProcessor on every processor case of fixture altclip', () => {
  it('has image, text and mixed cases', () => {
    expect(manifest.processor.some((c) => c.inputs.text !== undefined && c.inputs.images !== undefined)).toBe(
      true,
    );
    expect(manifest.processor.filter((c) => c.inputs.text !== undefined).length).toBeGreaterThanOrEqual(7);
  });

  it.each(manifest.processor.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const text = testCase.inputs.text as string[] | undefined;
    const images = (testCase.inputs.images as string[] | undefined)?.map((name) => fixtureImagePath(name));
    // A case noted as "a single string" was called with the string itself, not a list of one.
    const single = text !== undefined && text.length === 1 && testCase.note?.includes('single string');
    const outputs: Record<string, Tensor | undefined> = await processor.process({
      ...(text !== undefined ? { text: single ? text[0]! : text } : {}),
      ...(images !== undefined ? { images } : {}),
      ...processorOptionsFromKwargs(testCase.kwargs),
    });
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(testCase.outputs).sort());
    const atol = testCase.atol ?? 0;
    for (const [name, file] of Object.entries(testCase.outputs)) {
      const comparison = compareTensors(outputs[name]!, await readNpy(`${dir}/${file}`), { atol, rtol: 0 });
      expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
    }
  });
});

describe('AltCLIPProcessor.batchDecode', () => {
  const cases = manifest.postprocess.filter((c) => c.call === 'AltCLIPProcessor.batch_decode');
  it.each(cases.map((c) => [c.name, c] as const))('postprocess case %s', async (_name, testCase) => {
    const ids = (await readNpy(`${dir}/${testCase.inputs.input_ids as string}`)) as Tensor<'int64'>;
    const skipSpecialTokens = testCase.kwargs.skip_special_tokens as boolean;
    expect(processor.batchDecode(ids, { skipSpecialTokens })).toEqual(testCase.expected);
  });

  it('round-trips multilingual text the vocabulary covers', async () => {
    const { input_ids } = await processor.process({ text: ['a photo of a cat', '猫の写真'], padding: true });
    const decoded = processor.batchDecode(input_ids, { skipSpecialTokens: true });
    expect(decoded[0]).toBe('a photo of a cat');
    expect(processor.decode([0, 2], { skipSpecialTokens: true })).toBe('');
  });
});

describe('AltCLIPProcessor input checks', () => {
  it('needs text or images', async () => {
    await expect(processor.process({})).rejects.toThrow(InvalidArgumentError);
    await expect(processor.process({})).rejects.toThrow(/text or images/);
  });

  it('rejects an empty image list and non-string texts', async () => {
    await expect(processor.process({ images: [] })).rejects.toThrow(InvalidArgumentError);
    await expect(processor.process({ text: [1 as unknown as string] })).rejects.toThrow(
      /text\[0\] must be a string/,
    );
  });

  it('rejects unknown Python kwargs instead of ignoring them', () => {
    expect(() => processorOptionsFromKwargs({ return_tensors: 'pt' })).toThrow(/return_tensors/);
  });

  it('passes tokenizer options to the tokenizer and image options to the image processor', async () => {
    const out = await processor.process({
      text: 'a cat',
      images: fixtureImagePath('cats.png'),
      padding: 'max_length',
      maxLength: 10,
      cropSize: { height: 20, width: 24 },
    });
    expect(out.input_ids.dims).toEqual([1, 10]);
    expect(out.pixel_values.dims).toEqual([1, 3, 20, 24]);
  });
});

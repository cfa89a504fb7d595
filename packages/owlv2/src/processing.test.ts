import { InputShapeError, InvalidArgumentError, type Tensor } from '@ortvision/core';
import { compareTensors, describeComparison } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { dir, image, manifest, npy } from './__fixtures__/owlv2-cases.js';
import { Owlv2Processor, type Owlv2TextInput, flattenQueries } from './processing.js';

const processor = await Owlv2Processor.fromPretrained(dir);
const textCases = manifest.processor.filter((c) => c.call === 'Owlv2Processor' || c.call === 'CLIPTokenizer');

describe('owlv2 Owlv2Processor and CLIPTokenizer processor cases', () => {
  it('has the text and query-image cases', () => expect(textCases.length).toBe(5));

  it.each(textCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const { text, images, query_images } = testCase.inputs as Record<string, unknown>;
    const { truncation, padding } = testCase.kwargs as { truncation?: boolean; padding?: boolean };
    const paths = (names: unknown) => (names as string[]).map(image);
    const outputs: Record<string, Tensor | undefined> =
      testCase.call === 'CLIPTokenizer'
        ? { ...processor.tokenizer.encode(text as string[], { padding }) }
        : {
            ...(await processor.process(
              {
                ...(text !== undefined ? { text: text as Owlv2TextInput } : {}),
                ...(images !== undefined ? { images: paths(images) } : {}),
                ...(query_images !== undefined ? { queryImages: paths(query_images) } : {}),
              },
              { truncation },
            )),
          };
    expect(Object.keys(outputs).sort()).toEqual(Object.keys(testCase.outputs).sort());
    for (const [name, file] of Object.entries(testCase.outputs)) {
      const expected = await npy(file);
      const actual = outputs[name]!;
      if (expected.dtype === 'int64') {
        expect(actual.dims).toEqual(expected.dims);
        expect(actual.toNumbers(), name).toEqual(expected.toNumbers());
      } else {
        const comparison = compareTensors(actual, expected, { atol: testCase.atol ?? 0, rtol: 0 });
        expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
      }
    }
  });
});

describe('Owlv2Processor input checks', () => {
  it('pads shorter per-image query lists with " ", image-major', () => {
    expect(flattenQueries([['a', 'b', 'c'], ['d']])).toEqual({
      queries: ['a', 'b', 'c', 'd', ' ', ' '],
      perImage: 3,
    });
    expect(flattenQueries('a cat')).toEqual({ queries: ['a cat'], perImage: 1 });
  });

  it('refuses as many query lists as images when they differ', async () => {
    await expect(
      processor.process({
        text: [['a cat'], ['a dog'], ['a bird']],
        images: [image('cats.png'), image('chelsea.png')],
      }),
    ).rejects.toThrow(/3 lists of text queries for 2 images/);
  });

  it('refuses mixed or empty text', () => {
    expect(() => flattenQueries(['a', ['b']] as unknown as string[])).toThrow(InvalidArgumentError);
    expect(() => flattenQueries([])).toThrow(InvalidArgumentError);
    expect(() => flattenQueries([[], []])).toThrow(/only empty query lists/);
  });

  it('refuses queries longer than 16 tokens unless truncated', () => {
    const long = 'cat remote control couch '.repeat(6);
    expect(() => processor.tokenize([long])).toThrow(InputShapeError);
    expect(() => processor.tokenize([long])).toThrow(/truncation: true/);
    expect(processor.tokenize([long], { truncation: true }).input_ids.dims).toEqual([1, 16]);
  });

  it('needs at least one input', async () => {
    await expect(processor.process({})).rejects.toThrow(InvalidArgumentError);
  });
});

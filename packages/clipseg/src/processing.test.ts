import { join } from 'node:path';
import { InvalidArgumentError, type Padding, type Tensor, type Truncation } from '@ortvision/core';
import {
  type JsonValue,
  type ProcessorCase,
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import { CLIPSegProcessor } from './processing.js';

const dir = fixturePath('clipseg');
const { manifest } = await loadFixture(dir);
const processor = await CLIPSegProcessor.fromPretrained(dir);

const images = (value: JsonValue | undefined) =>
  value === undefined ? undefined : (value as string[]).map((name) => fixtureImagePath(name));

/** The Python kwargs of a case as tokenizer options; any other kwarg fails the case rather than being ignored. */
function tokenizerOptions(kwargs: Record<string, JsonValue>) {
  const options: {
    padding?: Padding;
    truncation?: Truncation;
    maxLength?: number;
    addSpecialTokens?: boolean;
  } = {};
  for (const [key, value] of Object.entries(kwargs)) {
    if (key === 'padding') options.padding = value as Padding;
    else if (key === 'truncation') options.truncation = value as Truncation;
    else if (key === 'max_length') options.maxLength = value as number;
    else if (key === 'add_special_tokens') options.addSpecialTokens = value as boolean;
    else throw new Error(`unhandled kwarg ${key}`);
  }
  return options;
}

async function run(testCase: ProcessorCase): Promise<Record<string, Tensor | undefined>> {
  const text = testCase.inputs.text as string[] | undefined;
  if (testCase.call === 'CLIPTokenizer') {
    return { ...processor.tokenizer.encode(text!, tokenizerOptions(testCase.kwargs)) };
  }
  expect(testCase.call).toBe('CLIPSegProcessor');
  return {
    ...(await processor.process({
      text,
      images: images(testCase.inputs.images),
      visualPrompt: images(testCase.inputs.visual_prompt),
      ...tokenizerOptions(testCase.kwargs),
    })),
  };
}

describe('every processor case through CLIPSegProcessor (tokenizer cases through its tokenizer)', () => {
  it('has cases of both calls', () => {
    expect(new Set(manifest.processor.map((c) => c.call))).toEqual(
      new Set(['CLIPSegProcessor', 'CLIPTokenizer']),
    );
  });

  it.each(manifest.processor.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const outputs = await run(testCase);
    // Exactly the outputs Python returned, no more.
    expect(
      Object.keys(outputs)
        .filter((k) => outputs[k] !== undefined)
        .sort(),
    ).toEqual(Object.keys(testCase.outputs).sort());
    const jpeg = /\.jpe?g"/i.test(JSON.stringify(testCase.inputs));
    for (const [name, file] of Object.entries(testCase.outputs)) {
      const comparison = compareTensors(outputs[name]!, await readNpy(join(dir, file)), {
        atol: testCase.atol ?? (jpeg ? 0.04 : 0),
      });
      expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
      if (name !== 'pixel_values' && name !== 'conditional_pixel_values')
        expect(outputs[name]!.dtype).toBe('int64');
    }
  });

  const tokenization = manifest.pipeline.filter((c) => c.task === 'tokenization');
  it.each(tokenization.map((c) => [c.name, c] as const))('pipeline case %s', (_name, testCase) => {
    const texts = testCase.inputs.text as string[];
    const expected = testCase.expected as number[][];
    expect(texts.length).toBe(expected.length);
    const options = tokenizerOptions(testCase.kwargs);
    const actual = texts.map((text) => processor.tokenizer.encode(text, options).input_ids.toNumbers());
    expect(actual).toEqual(expected);
  });
});

describe('CLIPSegProcessor input checks', () => {
  it('refuses a call with nothing to process', async () => {
    await expect(processor.process({})).rejects.toThrow(InvalidArgumentError);
    await expect(processor.process({})).rejects.toThrow(
      'needs text, visualPrompt or images: all three are missing',
    );
  });

  it('refuses text and image prompts together, as Python does', async () => {
    await expect(
      processor.process({ text: 'a cat', visualPrompt: fixtureImagePath('cats.png') }),
    ).rejects.toThrow('takes one kind of prompt: text or visualPrompt, not both');
  });

  it('tokenizes text alone, and decodes it back', async () => {
    const { input_ids, attention_mask, pixel_values } = await processor.process({
      text: ['a cat', 'a remote control'],
      padding: true,
    });
    expect(pixel_values).toBeUndefined();
    expect(input_ids!.dims).toEqual(attention_mask!.dims);
    expect(processor.batchDecode(input_ids!, { skipSpecialTokens: true })).toEqual([
      'a cat',
      'a remote control',
    ]);
  });
});

describe('CLIPSegProcessor output types', () => {
  it('makes the outputs of given inputs required, so they feed the model directly', async () => {
    const inputs = await processor.process({ text: ['a cat'], images: fixtureImagePath('cats.png') });
    // Type-level: these assignments compile only because the fields are not optional.
    const ids: Tensor<'int64'> = inputs.input_ids;
    const pixels: Tensor<'float32'> = inputs.pixel_values;
    expect([ids.dims, pixels.dims]).toEqual([
      [1, 4],
      [1, 3, 48, 48],
    ]);
    const maybe = (
      await processor.process({ visualPrompt: fixtureImagePath('cats.png') as string | undefined })
    ).conditional_pixel_values;
    expect(maybe?.dims).toEqual([1, 3, 48, 48]);
    // @ts-expect-error an input that may be undefined leaves its output optional
    const surely: Tensor<'float32'> = maybe;
    expect(surely).toBeDefined();
  });
});

describe('CLIPSegProcessor options', () => {
  it('passes addSpecialTokens to the tokenizer and names a misspelled input', async () => {
    const processor = await CLIPSegProcessor.fromPretrained(dir);
    const withSpecial = await processor.process({ text: ['a cat'] });
    const without = await processor.process({ text: ['a cat'], addSpecialTokens: false });
    expect(without.input_ids.dims[1]).toBe(withSpecial.input_ids.dims[1]! - 2);
    await expect(processor.process({ text: ['a cat'], paddding: true } as never)).rejects.toThrowError(
      new InvalidArgumentError(
        "unknown option 'paddding' for CLIPSegProcessor.process (did you mean 'padding'?)",
      ),
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/tensor.js';
import { fixturePath } from '../testing/fixtures.js';
import { type JsonValue, type ProcessorCase, loadFixture } from '../testing/manifest.js';
import { readNpy } from '../testing/npy.js';
import { encodeOptionsFromKwargs } from './kwargs.js';
import type { EncodeOptions } from './tokenizer.js';
import { Tokenizer } from './tokenizer.js';

// Every tokenizer and text-processor case of the fixtures whose text tower reads a tokenizer.json: the ids, padding
// and truncation must equal transformers' exactly.
const fixtureNames = ['clipseg', 'owlv2', 'altclip'] as const;
const fixtures = await Promise.all(
  fixtureNames.map(async (name) => {
    const dir = fixturePath(name);
    return { name, dir, fixture: await loadFixture(dir), tokenizer: await Tokenizer.fromPretrained(dir) };
  }),
);

/** Python call kwargs -> encode options over the processor's defaults; an unknown kwarg fails the case. */
function encodeOptions(kwargs: { [key: string]: JsonValue }, defaults: EncodeOptions = {}): EncodeOptions {
  return { ...defaults, ...encodeOptionsFromKwargs(kwargs) };
}

/**
 * The text a processor case hands its tokenizer, and the tokenizer options the processor adds. Owlv2Processor
 * pads every query to max_length by default, and pads each image's list of queries with " " to the longest list
 * before tokenizing them image by image; since all rows are padded to one length, tokenizing the flattened list
 * gives the same [images * queries, 16] ids. (The real nested-query handling belongs to the owlv2 package.)
 */
function processorText(testCase: ProcessorCase): { text: string | string[]; defaults: EncodeOptions } {
  const text = testCase.inputs.text;
  const defaults: EncodeOptions = testCase.call === 'Owlv2Processor' ? { padding: 'max_length' } : {};
  if (typeof text === 'string') return { text, defaults };
  if (!Array.isArray(text)) throw new Error(`case ${testCase.name}: text is ${JSON.stringify(text)}`);
  if (text.every((t) => typeof t === 'string')) return { text: text as string[], defaults };
  const lists = text as string[][];
  const queries = Math.max(...lists.map((l) => l.length));
  return { text: lists.flatMap((l) => [...l, ...Array<string>(queries - l.length).fill(' ')]), defaults };
}

function expectSameIds(actual: Tensor, expected: Tensor): void {
  expect(actual.dtype).toBe('int64');
  expect(expected.dtype).toBe('int64');
  expect(actual.dims).toEqual(expected.dims);
  expect(actual.toNumbers()).toEqual(expected.toNumbers());
}

describe.each(fixtures)('$name tokenizer', ({ dir, fixture, tokenizer }) => {
  const textCases = fixture.manifest.processor.filter((c) => c.inputs.text !== undefined);

  it('has text processor cases to check', () => {
    expect(textCases.length).toBeGreaterThan(0);
  });

  it.each(textCases.map((c) => [c.name, c] as const))('processor case %s', async (_name, testCase) => {
    const { text, defaults } = processorText(testCase);
    const encoding = tokenizer.encode(text, encodeOptions(testCase.kwargs, defaults));
    // image outputs (pixel_values) belong to the image processor's tests
    expect(testCase.outputs.input_ids).toBeDefined();
    expect(testCase.outputs.attention_mask).toBeDefined();
    expectSameIds(encoding.input_ids, await readNpy(`${dir}/${testCase.outputs.input_ids}`));
    expectSameIds(encoding.attention_mask, await readNpy(`${dir}/${testCase.outputs.attention_mask}`));
  });

  const tokenization = fixture.manifest.pipeline.filter((c) => c.task === 'tokenization');
  it.each(tokenization.map((c) => [c.name, c] as const))(
    'pipeline case %s: every string alone',
    (_name, testCase) => {
      const texts = testCase.inputs.text as string[];
      const expected = testCase.expected as number[][];
      expect(texts.length).toBe(expected.length);
      const options = encodeOptions(testCase.kwargs);
      const got = texts.map((text) => tokenizer.encode(text, options).input_ids.toNumbers());
      expect(got).toEqual(expected);
    },
  );

  it.each(tokenization.map((c) => [c.name, c] as const))(
    'pipeline case %s: as one padded batch',
    (_name, testCase) => {
      const texts = testCase.inputs.text as string[];
      const expected = testCase.expected as number[][];
      const { input_ids, attention_mask } = tokenizer.encode(texts, {
        ...encodeOptions(testCase.kwargs),
        padding: true,
      });
      const seq = Math.max(...expected.map((ids) => ids.length));
      expect(input_ids.dims).toEqual([texts.length, seq]);
      const ids = input_ids.toNumbers();
      const mask = attention_mask.toNumbers();
      expected.forEach((row, i) => {
        const pad = seq - row.length;
        expect(ids.slice(i * seq, (i + 1) * seq)).toEqual([
          ...row,
          ...Array<number>(pad).fill(tokenizer.padTokenId!),
        ]);
        expect(mask.slice(i * seq, (i + 1) * seq)).toEqual([
          ...Array<number>(row.length).fill(1),
          ...Array<number>(pad).fill(0),
        ]);
      });
    },
  );

  const decodeCases = fixture.manifest.postprocess.filter((c) => c.call.endsWith('.batch_decode'));
  it.each(decodeCases.map((c) => [c.name, c] as const))('postprocess case %s', async (_name, testCase) => {
    const ids = await readNpy(`${dir}/${testCase.inputs.input_ids as string}`);
    expect(ids.dtype).toBe('int64');
    const skipSpecialTokens = testCase.kwargs.skip_special_tokens as boolean;
    expect(tokenizer.batchDecode(ids as Tensor<'int64'>, { skipSpecialTokens })).toEqual(testCase.expected);
  });
});

describe('the fixtures hold the cases the issue names', () => {
  it('counts text processor, tokenization and decode cases', () => {
    const counts = Object.fromEntries(
      fixtures.map(({ name, fixture: { manifest } }) => [
        name,
        [
          manifest.processor.filter((c) => c.inputs.text !== undefined).length,
          manifest.pipeline.filter((c) => c.task === 'tokenization').length,
          manifest.postprocess.filter((c) => c.call.endsWith('.batch_decode')).length,
        ],
      ]),
    );
    expect(counts).toEqual({ clipseg: [4, 1, 0], owlv2: [4, 1, 0], altclip: [7, 0, 1] });
  });
});

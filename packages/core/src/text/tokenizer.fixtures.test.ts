import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tensor } from '../tensor/tensor.js';
import { fixturePath, fixtureVariant } from '../testing/fixtures.js';
import { type JsonValue, type PipelineCase, type ProcessorCase, loadFixture } from '../testing/manifest.js';
import { readNpy } from '../testing/npy.js';
import { encodeOptionsFromKwargs } from './kwargs.js';
import { readTokenizerFiles } from './tokenizer-files.js';
import type { EncodeOptions } from './tokenizer.js';
import { Tokenizer } from './tokenizer.js';

// Every tokenizer and text-processor case of the fixtures with a text tower: the ids, padding, truncation and
// decoded text must equal transformers' exactly, both with the fixture's tokenizer.json and with a copy of the
// fixture without it, where the tokenizer is built from the slow files the original Hub repositories ship
// (clipseg, owlv2: vocab.json + merges.txt; altclip: sentencepiece.bpe.model).
const fixtureNames = ['clipseg', 'owlv2', 'altclip'] as const;
const slowFolders = await mkdtemp(join(tmpdir(), 'ortvision-slow-tokenizers-'));
afterAll(() => rm(slowFolders, { recursive: true, force: true }));
const fixtures = (
  await Promise.all(
    fixtureNames.map(async (name) => {
      const dir = fixturePath(name);
      const fixture = await loadFixture(dir);
      const withoutJson = await fixtureVariant(name, join(slowFolders, name), { 'tokenizer.json': null });
      const fromJson = await readTokenizerFiles(dir);
      const fromSlowFiles = await readTokenizerFiles(withoutJson);
      return [
        { name, from: fromJson.tokenizerJsonFrom!, dir, fixture, tokenizer: new Tokenizer(fromJson) },
        {
          name,
          from: fromSlowFiles.tokenizerJsonFrom!,
          dir,
          fixture,
          tokenizer: new Tokenizer(fromSlowFiles),
        },
      ];
    }),
  )
).flat();

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

describe.each(fixtures)('$name tokenizer from $from', ({ dir, fixture, tokenizer }) => {
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

/**
 * The texts a pipeline case hands the tokenizer: CLIPSeg's prompts, OWLv2's candidate labels (queried as they are)
 * and AltCLIP's candidate labels put into the hypothesis template (transformers' default "This is a photo of {}.").
 */
function pipelineTexts(testCase: PipelineCase): string[] {
  const { text, candidate_labels } = testCase.inputs;
  if (Array.isArray(text)) return text as string[];
  if (Array.isArray(candidate_labels)) return candidate_labels as string[];
  const labels = testCase.kwargs.candidate_labels;
  if (!Array.isArray(labels)) return [];
  const template = (testCase.kwargs.hypothesis_template as string | undefined) ?? 'This is a photo of {}.';
  return (labels as string[]).map((label) => template.replace('{}', label));
}

// No Python ids are recorded for these; both tokenizers giving the same ids and masks means the pipeline results,
// which the package tests compare with transformers', do not depend on which files the tokenizer came from.
describe.each(fixtureNames)('%s pipeline inputs', (name) => {
  const [fromJson, fromSlowFiles] = fixtures.filter((f) => f.name === name) as [
    (typeof fixtures)[number],
    (typeof fixtures)[number],
  ];
  const cases = fromJson.fixture.manifest.pipeline
    .filter((c) => c.task !== 'tokenization')
    .map((c) => [c.name, pipelineTexts(c)] as const)
    .filter(([, texts]) => texts.length > 0);

  it('has pipeline cases with text', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.each(cases)('pipeline case %s: the same ids and masks from both sources', (_name, texts) => {
    const expected = fromJson.tokenizer.encode(texts, { padding: true });
    const actual = fromSlowFiles.tokenizer.encode(texts, { padding: true });
    expectSameIds(actual.input_ids, expected.input_ids);
    expectSameIds(actual.attention_mask, expected.attention_mask);
  });

  // Only altclip records Python's decoded text (postprocess case batch-decode, checked above for both sources); the
  // ids of every text processor case must decode the same from both sources too.
  const idFiles = fromJson.fixture.manifest.processor
    .filter((c) => c.outputs.input_ids !== undefined)
    .map((c) => [c.name, `${fromJson.dir}/${c.outputs.input_ids}`] as const);
  it.each(idFiles)(
    'processor case %s: its ids decode to the same text from both sources',
    async (_name, file) => {
      const ids = (await readNpy(file)) as Tensor<'int64'>;
      for (const skipSpecialTokens of [false, true]) {
        expect(fromSlowFiles.tokenizer.batchDecode(ids, { skipSpecialTokens })).toEqual(
          fromJson.tokenizer.batchDecode(ids, { skipSpecialTokens }),
        );
      }
    },
  );
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortedError, InputShapeError, InvalidArgumentError, type Tensor, loadImage } from '@ortvision/core';
import {
  type JsonValue,
  type PipelineCase,
  assertJsonClose,
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  fixtureVariant,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildFixtureFolder } from './__fixtures__/built-fixture.js';
import type { PerceiverFixture } from './__fixtures__/fixture-classes.js';
import { PerceiverConfig } from './config.js';
import { PerceiverForMaskedLM, PerceiverForSequenceClassification } from './modeling.js';
import { computeGridIndices } from './optical-flow.js';
import {
  type FillMaskOptions,
  type FillMaskOutput,
  type FillMaskResult,
  fillMask,
  imageClassification,
  multimodalAutoencoding,
  opticalFlow,
  textClassification,
} from './tasks.js';
import { PerceiverTokenizer } from './tokenization.js';

/** A result against a manifest's expected JSON, with the fixture's npy files for `{ npy }` values. */
const expectJson = (actual: unknown, expected: JsonValue, atol: number, fixture: string) =>
  assertJsonClose(actual, expected, atol, (path) => readNpy(fixturePath(fixture, path)));

const builtRoot = await mkdtemp(join(tmpdir(), 'ortvision-perceiver-tasks-'));
afterAll(() => rm(builtRoot, { recursive: true, force: true }));
const built = new Map<string, Promise<string>>();

/**
 * Where the task helpers load a fixture's model from: the fixture itself (its exported graphs), or a copy whose
 * onnx/ holds the graphs its class builds from the fixture's checkpoint. Every pipeline case runs on both.
 */
const sources: [string, (name: PerceiverFixture) => Promise<string>][] = [
  ['exported graphs', async (name) => fixturePath(name)],
  [
    'graphs built from its checkpoint',
    (name) => {
      let folder = built.get(name);
      if (!folder) {
        const path = join(builtRoot, name);
        folder = buildFixtureFolder(name, path).then(() => path);
        built.set(name, folder);
      }
      return folder;
    },
  ],
];

const fixtureCases = async (name: string, task: string) =>
  (await loadFixture(fixturePath(name))).manifest.pipeline
    .filter((c) => c.task === task)
    .map((c) => [c.name, c] as const);

describe.each(sources)('fill-mask pipeline cases of perceiver-mlm (%s)', async (_source, folderOf) => {
  const fill = await fillMask(await folderOf('perceiver-mlm'));
  afterAll(() => fill.dispose());

  it.each(await fixtureCases('perceiver-mlm', 'fill-mask'))('%s', async (_name, testCase) => {
    const { top_k, targets, ...rest } = testCase.kwargs;
    expect(rest).toEqual({});
    const options: FillMaskOptions = {};
    if (top_k !== undefined) options.topK = top_k as number;
    if (targets !== undefined) options.targets = targets as string[];
    const [text] = testCase.inputs.text as string[];
    await expectJson(await fill(text!, options), testCase.expected, testCase.atol ?? 0, 'perceiver-mlm');
  });

  it('fills every text of a list and refuses texts without a mask', async () => {
    // a list of texts gives one output per text (each text has one mask, so each output is one list)
    const both = (await fill(['a[MASK]c', 'x[MASK]'], { topK: 2 })) as FillMaskOutput[];
    expect(both).toHaveLength(2);
    expect(both[1]).toHaveLength(2);
    await expect(fill('no mask here')).rejects.toThrowError(
      new InvalidArgumentError('no mask token ([MASK]) found in "no mask here"'),
    );
    await expect(fill('[MASK]', { targets: [''] })).rejects.toThrowError(/at least one non-empty target/);
    await expect(fill('[MASK]', { topK: 0 })).rejects.toThrowError(InvalidArgumentError);
    // targets are deduplicated and a multi-byte target falls back to its first UTF-8 byte
    const hits = (await fill('[MASK]', { targets: ['ab', 'a', '€'] })) as { token: number }[];
    expect(hits.map((h) => h.token).sort((a, b) => a - b)).toEqual([103, 232]);
  });
});

describe('fillMask and textClassification: truncation, signal, and a tokenizer that fails to load', () => {
  it('fillMask cuts a text longer than the positions only with truncation: true', async () => {
    const fill = await fillMask(fixturePath('perceiver-mlm'));
    const long = `[MASK]${'a'.repeat(200)}`;
    await expect(fill(long)).rejects.toThrow(
      /more than max_position_embeddings 64: encode with truncation: true/,
    );
    const filled = (await fill(long, { truncation: true, topK: 1 })) as FillMaskResult[];
    expect(filled).toHaveLength(1);
    await expect(fill(long, { truncation: 'yes' as never })).rejects.toThrowError(
      new InvalidArgumentError("truncation must be true or false, got 'yes'"),
    );
    await expect(fill('[MASK]', { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    await fill.dispose();
  });

  it.each([
    ['fillMask', 'perceiver-mlm', fillMask, PerceiverForMaskedLM],
    ['textClassification', 'perceiver-seq-cls', textClassification, PerceiverForSequenceClassification],
  ] as const)(
    '%s releases the model it loaded when the tokenizer fails to load',
    async (_name, fixture, task, ModelClass) => {
      const folder = await fixtureVariant(
        fixture,
        await mkdtemp(join(tmpdir(), 'ortvision-perceiver-tok-')),
        {
          'tokenizer_config.json': '{ not json',
        },
      );
      const dispose = vi.spyOn(ModelClass.prototype, 'dispose');
      try {
        await expect(task(folder)).rejects.toThrow(/tokenizer_config\.json/);
        expect(dispose).toHaveBeenCalledTimes(1);
      } finally {
        dispose.mockRestore();
        await rm(folder, { recursive: true, force: true });
      }
    },
  );
});

describe.each(sources)(
  'the PerceiverForMaskedLM docs example (masked-span) through the public classes (%s)',
  async (_source, folderOf) => {
    const [[, testCase]] = (await fixtureCases('perceiver-mlm', 'fill-mask-span')) as [
      [string, PipelineCase],
    ];
    it('masks bytes, predicts them and decodes them as PyTorch did', async () => {
      const tokenizer = await PerceiverTokenizer.fromPretrained(fixturePath('perceiver-mlm'));
      const model = await PerceiverForMaskedLM.fromPretrained(await folderOf('perceiver-mlm'));
      const {
        mask_start: start,
        mask_end: end,
        padding,
      } = testCase.kwargs as Record<string, number | string>;
      const encoding = tokenizer.encode(testCase.inputs.text as string[], {
        padding: padding as 'max_length',
      });
      encoding.input_ids.data.fill(BigInt(tokenizer.maskTokenId), start as number, end as number);
      const { logits } = await model.forward(encoding);
      const vocab = logits.dims[2]!;
      const predicted: number[] = [];
      for (let p = start as number; p < (end as number); p++) {
        const row = logits.data.subarray(p * vocab, (p + 1) * vocab);
        predicted.push(row.indexOf(Math.max(...row)));
      }
      await expectJson(
        {
          masked_input_ids: Array.from(encoding.input_ids.data, Number),
          predicted_token_ids: predicted,
          predicted_text: tokenizer.decode(predicted),
        },
        testCase.expected,
        0,
        'perceiver-mlm',
      );
      await model.dispose();
    });
  },
);

describe.each(sources)(
  'text-classification pipeline cases of perceiver-seq-cls (%s)',
  async (_source, folderOf) => {
    const classify = await textClassification(await folderOf('perceiver-seq-cls'));
    afterAll(() => classify.dispose());

    it.each(await fixtureCases('perceiver-seq-cls', 'text-classification'))('%s', async (_name, testCase) => {
      const texts = testCase.inputs.text as string[];
      const options: Record<string, unknown> = {};
      if ('top_k' in testCase.kwargs) options.topK = testCase.kwargs.top_k;
      if ('function_to_apply' in testCase.kwargs) options.functionToApply = testCase.kwargs.function_to_apply;
      const result = await classify(texts.length === 1 ? texts[0]! : texts, options);
      await expectJson(result, testCase.expected, testCase.atol ?? 0, 'perceiver-seq-cls');
    });

    it('gives a list per text with topK, and refuses long texts unless asked to truncate', async () => {
      const lists = await classify(['a', 'bb'], { topK: 2 });
      expect(lists.map((l) => l.length)).toEqual([2, 2]);
      const best = await classify(['a', 'bb']);
      expect(best.map((r) => typeof r.label)).toEqual(['string', 'string']);
      const long = 'x'.repeat(100);
      await expect(classify(long)).rejects.toThrowError(InputShapeError);
      expect(await classify(long, { truncation: true })).toHaveLength(1);
      await expect(classify([])).rejects.toThrowError(InvalidArgumentError);
      await expect(classify('a', { topk: 2 } as never)).rejects.toThrow("(did you mean 'topK'?)");
    });
  },
);

describe.each(
  sources.flatMap(([source, folderOf]) =>
    (['perceiver-cls-learned', 'perceiver-cls-fourier', 'perceiver-cls-conv'] as const).map(
      (name) => [name, source, folderOf] as const,
    ),
  ),
)('image-classification pipeline cases of %s (%s)', async (name, _source, folderOf) => {
  const classify = await imageClassification(await folderOf(name));
  afterAll(() => classify.dispose());
  it.each(await fixtureCases(name, 'image-classification'))('%s', async (_name, testCase) => {
    const [image] = (testCase.inputs.images as string[]).map(fixtureImagePath);
    const result = await classify(image!, { topK: testCase.kwargs.top_k as number });
    await expectJson(result, testCase.expected, testCase.atol ?? 0, name);
  });
});

describe.each(sources)('optical-flow pipeline case of perceiver-flow (%s)', async (_source, folderOf) => {
  const flowOf = await opticalFlow(await folderOf('perceiver-flow'));
  afterAll(() => flowOf.dispose());

  it.each(await fixtureCases('perceiver-flow', 'optical-flow'))('%s', async (_name, testCase) => {
    const crops = testCase.inputs.crops as [number, number, number, number][];
    const [frame1, frame2] = await Promise.all(
      (testCase.inputs.images as string[]).map(async (file, i) => {
        const [y, x, h, w] = crops[i]!;
        return (await loadImage(fixtureImagePath(file))).crop(x, y, w, h);
      }),
    );
    const flow = await flowOf(frame1!, frame2!, {
      minOverlap: testCase.kwargs.min_overlap as number,
      flowScaleFactor: testCase.kwargs.flow_scale_factor as number,
    });
    expect(flow.dims).toEqual([crops[0]![2], crops[0]![3], 2]);
    const expected = testCase.expected as { flow: JsonValue; grid_indices: JsonValue };
    // the notebook keeps a batch axis: [1, H, W, 2]
    await expectJson(flow.reshape([1, ...flow.dims]), expected.flow, testCase.atol ?? 0, 'perceiver-flow');
    const config = await PerceiverConfig.fromPretrained(fixturePath('perceiver-flow'));
    const grid = computeGridIndices(
      [crops[0]![2], crops[0]![3]],
      config.train_size as [number, number],
      testCase.kwargs.min_overlap as number,
    );
    expect(grid).toEqual(expected.grid_indices);
  });
});

describe.each(sources)(
  'multimodal-autoencoding pipeline cases of perceiver-multimodal (%s)',
  async (_source, folderOf) => {
    const autoencode = await multimodalAutoencoding(await folderOf('perceiver-multimodal'));
    afterAll(() => autoencode.dispose());

    it.each(await fixtureCases('perceiver-multimodal', 'multimodal-autoencoding'))(
      '%s',
      async (_name, testCase) => {
        const input = (key: string) =>
          readNpy(
            fixturePath('perceiver-multimodal', (testCase.inputs[key] as { npy: string }).npy),
          ) as Promise<Tensor<'float32'>>;
        const result = await autoencode(await input('images'), await input('audio'), {
          nchunks: testCase.kwargs.nchunks as number,
          topK: testCase.kwargs.top_k as number,
        });
        const { topK, label, ...rest } = result;
        await expectJson(
          { ...rest, label: label.toNested(), top_k: topK },
          testCase.expected,
          testCase.atol ?? 0,
          'perceiver-multimodal',
        );
      },
    );

    it('gives the same values for any chunking, including chunks that do not divide the points', async () => {
      const images = (await readNpy(
        fixturePath('perceiver-multimodal', 'reference/pipe-autoencode-nchunks4-in.images.npy'),
      )) as Tensor<'float32'>;
      const audio = (await readNpy(
        fixturePath('perceiver-multimodal', 'reference/pipe-autoencode-nchunks4-in.audio.npy'),
      )) as Tensor<'float32'>;
      const one = await autoencode(images, audio);
      const odd = await autoencode(images, audio, { nchunks: 7 });
      expect(compareTensors(odd.image, one.image, { atol: 1e-5 }).ok).toBe(true);
      expect(compareTensors(odd.audio, one.audio, { atol: 1e-5 }).ok).toBe(true);
    });
  },
);

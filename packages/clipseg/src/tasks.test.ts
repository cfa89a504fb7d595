import { join } from 'node:path';
import { AbortedError, InvalidArgumentError, ModelNotFoundError, Tensor, loadImage } from '@ortvision/core';
import {
  type PipelineCase,
  compareArrays,
  compareTensors,
  describeComparison,
  fixtureImagePath,
  fixturePath,
  isNpyReference,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { textOnlyFolder } from './__fixtures__/text-only-folder.js';
import { CLIPSegForImageSegmentation } from './modeling.js';
import { CLIPSegProcessor } from './processing.js';
import { type PromptSegment, type SegmentationPrompt, promptSegmentation } from './tasks.js';

const dir = fixturePath('clipseg');
const { manifest } = await loadFixture(dir);
const load = { sessionOptions: { intraOpNumThreads: 1 } };

/** The prompts of a pipeline case: text, or the visual_prompt images as `{ image }` prompts. */
function promptsOf(testCase: PipelineCase): SegmentationPrompt[] {
  if (testCase.inputs.text) return testCase.inputs.text as string[];
  return (testCase.inputs.visual_prompt as string[]).map((name) => ({ image: fixtureImagePath(name) }));
}

/** Per-prompt [h, w] tensors stacked to [prompts, h, w]. */
function stack(tensors: Tensor<'float32'>[]): Tensor<'float32'> {
  const size = tensors[0]!.size;
  const data = new Float32Array(tensors.length * size);
  tensors.forEach((t, i) => data.set(t.data, i * size));
  return new Tensor('float32', data, [tensors.length, ...tensors[0]!.dims]);
}

async function expectMatches(testCase: PipelineCase, results: PromptSegment[]): Promise<void> {
  const expected = testCase.expected as Record<string, unknown>;
  const atol = testCase.atol ?? 0;
  expect(results.map((r) => r.prompt)).toEqual(promptsOf(testCase));
  const actual = {
    masks: stack(results.map((r) => r.mask)),
    logits: stack(results.map((r) => r.logits!)),
  };
  for (const name of ['masks', 'logits'] as const) {
    const reference = expected[name];
    if (!isNpyReference(reference)) throw new Error(`${testCase.name}: ${name} is not an npy reference`);
    let wanted = await readNpy(join(dir, reference.npy));
    // The fixture keeps HF's squeezed logits ([H, W] for one prompt).
    if (wanted.rank === 2) wanted = wanted.reshape([1, ...wanted.dims]);
    const comparison = compareTensors(actual[name], wanted, { atol });
    expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
  }
}

const segmentCases = manifest.pipeline.filter((c) => c.task.startsWith('segment-image-by-'));

describe('promptSegmentation on every segment-* pipeline case', () => {
  let segment: Awaited<ReturnType<typeof promptSegmentation>>;
  beforeAll(async () => {
    segment = await promptSegmentation(dir, load);
  });
  afterAll(async () => {
    await segment.dispose();
  });

  it('has text and image prompt cases', () => {
    expect(new Set(segmentCases.map((c) => c.task))).toEqual(
      new Set(['segment-image-by-prompts', 'segment-image-by-image-prompt']),
    );
  });

  it.each(segmentCases.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const [image] = testCase.inputs.images as string[];
    const results = await segment(fixtureImagePath(image!), promptsOf(testCase), { returnLogits: true });
    const picture = await loadImage(fixtureImagePath(image!));
    for (const { mask } of results) expect(mask.dims).toEqual([picture.height, picture.width]);
    await expectMatches(testCase, results);
    // Asked again, text prompts come from the embedding cache: the same masks.
    const again = await segment(picture, promptsOf(testCase));
    expect(again.map((r) => r.logits)).toEqual(again.map(() => undefined));
    again.forEach((r, i) => expect(r.mask.data).toEqual(results[i]!.mask.data));
  });

  it('segment-by-image-prompt: the conditional embeddings of the prompt image', async () => {
    const testCase = manifest.pipeline.find((c) => c.name === 'segment-by-image-prompt-noise_37x53')!;
    const model = await CLIPSegForImageSegmentation.fromPretrained(dir, { ...load, loading: 'lazy' });
    try {
      const processor = await CLIPSegProcessor.fromPretrained(dir);
      const { conditional_pixel_values } = await processor.process({
        visualPrompt: fixtureImagePath((testCase.inputs.visual_prompt as string[])[0]!),
      });
      const embeddings = await model.getConditionalEmbeddings({
        conditional_pixel_values: conditional_pixel_values!,
      });
      const expected = (testCase.expected as { conditional_embeddings: number[][] }).conditional_embeddings;
      const comparison = compareArrays(embeddings.data, expected.flat(), embeddings.dims, {
        atol: testCase.atol ?? 0,
      });
      expect(comparison.ok, describeComparison(comparison)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('mixes text and image prompts in one call, each as if asked alone', async () => {
    const image = fixtureImagePath('noise_37x53.png');
    const prompts: SegmentationPrompt[] = [
      'a cat',
      { image: fixtureImagePath('chelsea.png') },
      'something blue',
    ];
    const mixed = await segment(image, prompts);
    expect(mixed.map((r) => r.prompt)).toEqual(prompts);
    for (const [i, prompt] of prompts.entries()) {
      const [alone] = await segment(image, [prompt]);
      const comparison = compareTensors(mixed[i]!.mask, alone!.mask, { atol: 1e-6 });
      expect(comparison.ok, `prompt ${i}: ${describeComparison(comparison)}`).toBe(true);
    }
  });

  it('takes an Image as an image prompt and a repeated text prompt', async () => {
    const chelsea = await loadImage(fixtureImagePath('chelsea.png'));
    const results = await segment(fixtureImagePath('palette_color.png'), [chelsea, 'wood', 'wood']);
    expect(results[0]!.prompt).toBe(chelsea);
    expect(results[1]!.mask.data).toEqual(results[2]!.mask.data);
  });

  it('refuses prompts that are not a non-empty list of strings and images', async () => {
    const image = fixtureImagePath('noise_37x53.png');
    await expect(segment(image, [])).rejects.toThrow(InvalidArgumentError);
    await expect(segment(image, [])).rejects.toThrow('prompts must be a non-empty array');
    await expect(segment(image, 'a cat' as never)).rejects.toThrow(
      'the string "a cat" (wrap it in an array)',
    );
    await expect(segment(image, ['a cat', 3 as never])).rejects.toThrow(
      'prompts[1] must be a string (text prompt) or an image prompt, got number',
    );
  });
});

describe('the text embedding cache', () => {
  it.each([
    [256, 1],
    [0, 2],
  ])(
    'with textEmbeddingCacheSize %i runs the text tower %i time(s) for a prompt asked twice',
    async (size, runs) => {
      const model = await CLIPSegForImageSegmentation.fromPretrained(dir, load);
      const embed = vi.spyOn(model, 'getConditionalEmbeddings');
      const segment = await promptSegmentation(model, { textEmbeddingCacheSize: size });
      try {
        const image = fixtureImagePath('noise_37x53.png');
        const first = await segment(image, ['a cat']);
        const second = await segment(image, ['a cat']);
        expect(embed).toHaveBeenCalledTimes(runs);
        expect(second[0]!.mask.data).toEqual(first[0]!.mask.data);
      } finally {
        await segment.dispose();
        await model.dispose();
      }
    },
  );
});

describe('promptSegmentation with only onnx/model.onnx', () => {
  let textOnly: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: textOnly, remove } = await textOnlyFolder());
  });
  afterAll(() => remove());

  it('segments by text prompts (the text case matches) and refuses image prompts', async () => {
    const model = await CLIPSegForImageSegmentation.fromPretrained(textOnly, load);
    const segment = await promptSegmentation(model);
    try {
      const testCase = manifest.pipeline.find((c) => c.name === 'segment-by-prompts-noise_37x53')!;
      const image = fixtureImagePath((testCase.inputs.images as string[])[0]!);
      await expectMatches(testCase, await segment(image, promptsOf(testCase), { returnLogits: true }));
      const attempt = segment(image, ['a cat', { image: fixtureImagePath('chelsea.png') }]);
      await expect(attempt).rejects.toThrow(ModelNotFoundError);
      await expect(attempt).rejects.toThrow(
        'image prompts need onnx/vision_model.onnx and onnx/conditional_model.onnx',
      );
    } finally {
      await segment.dispose();
      // The pipeline does not own a model it was given.
      expect(model.disposed).toBe(false);
      await model.dispose();
    }
  });
});

describe('promptSegmentation batches, truncation, options and signal', () => {
  let segment: Awaited<ReturnType<typeof promptSegmentation>>;
  beforeAll(async () => {
    segment = await promptSegmentation(dir, load);
  });
  afterAll(() => segment.dispose());

  it('a list of images gives one list of results per image, each as the image alone gives it', async () => {
    const images = [fixtureImagePath('noise_37x53.png'), fixtureImagePath('cats.png')];
    const prompts: SegmentationPrompt[] = ['a cat', { image: fixtureImagePath('chelsea.png') }];
    const perImage: PromptSegment[][] = await segment(images, prompts);
    expect(perImage).toHaveLength(2);
    for (const [i, image] of images.entries()) {
      const alone: PromptSegment[] = await segment(image, prompts);
      alone.forEach((result, p) => expect(perImage[i]![p]!.mask.data).toEqual(result.mask.data));
    }
    await expect(segment([], ['a cat'])).rejects.toThrowError(
      new InvalidArgumentError('promptSegmentation got an empty list: give at least one image'),
    );
  });

  it('an over-long text prompt fails with advice unless truncation: true cuts it', async () => {
    const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
    const image = fixtureImagePath('noise_37x53.png');
    await expect(segment(image, [long])).rejects.toThrow(/truncation: true/);
    const [cut] = await segment(image, [long], { truncation: true });
    expect(cut!.mask.dims).toEqual([53, 37]);
    // the cut prompt's embedding is cached apart: without truncation it still fails
    await expect(segment(image, [long])).rejects.toThrow(/truncation: true/);
  });

  it('refuses misspelled options and bad settings, and stops on an aborted signal', async () => {
    const image = fixtureImagePath('noise_37x53.png');
    await expect(segment(image, ['a cat'], { returnLogit: true } as never)).rejects.toThrowError(
      new InvalidArgumentError(
        "unknown option 'returnLogit' for the promptSegmentation call (did you mean 'returnLogits'?)",
      ),
    );
    await expect(segment(image, ['a cat'], { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
    await expect(promptSegmentation(dir, { textCacheSize: 4 } as never)).rejects.toThrow(
      "unknown option 'textCacheSize' for promptSegmentation",
    );
    const dispose = vi.spyOn(CLIPSegForImageSegmentation.prototype, 'dispose');
    try {
      await expect(promptSegmentation(dir, { ...load, textEmbeddingCacheSize: -1 })).rejects.toThrowError(
        new InvalidArgumentError('textEmbeddingCacheSize must be an integer >= 0, got -1'),
      );
      // the model it loaded is released when a setting is refused
      expect(dispose).toHaveBeenCalledTimes(1);
    } finally {
      dispose.mockRestore();
    }
  });
});

describe('promptSegmentation with only onnx/model.onnx: truncation', () => {
  it('cuts an over-long text prompt on the whole-graph route too', async () => {
    const { dir: textOnly, remove } = await textOnlyFolder();
    const segment = await promptSegmentation(textOnly, load);
    try {
      const long = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
      const image = fixtureImagePath('noise_37x53.png');
      await expect(segment(image, [long, 'a cat'])).rejects.toThrow(/truncation: true/);
      const results = await segment([image, image], [long, 'a cat'], { truncation: true });
      expect(results.map((r) => r.length)).toEqual([2, 2]);
    } finally {
      await segment.dispose();
      await remove();
    }
  });
});

import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
  type NamedTensors,
  Tensor,
} from '@ortvision/core';
import {
  type ModelCase,
  compareTensors,
  describeComparison,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOnlyFolder } from './__fixtures__/text-only-folder.js';
import {
  CLIPSegForImageSegmentation,
  CLIPSegModel,
  CLIPSegTextModel,
  CLIPSegVisionModel,
} from './modeling.js';

const dir = fixturePath('clipseg');
const { manifest } = await loadFixture(dir);
const load = { sessionOptions: { intraOpNumThreads: 1 } };

async function feedsOf(testCase: ModelCase): Promise<Record<string, Tensor>> {
  const entries = Object.entries(testCase.feeds).map(async ([name, file]) => [
    name,
    await readNpy(join(dir, file)),
  ]);
  return Object.fromEntries(await Promise.all(entries));
}

/** The fixture stores HF's squeezed logits ([H, W] at batch 1); the model returns [batch, H, W] always. */
async function expectedOf(testCase: ModelCase, name: string): Promise<Tensor> {
  const expected = await readNpy(join(dir, testCase.expected[name]!));
  return name === 'logits' && expected.rank === 2 ? expected.reshape([1, ...expected.dims]) : expected;
}

async function expectCase(testCase: ModelCase, outputs: NamedTensors): Promise<void> {
  for (const name of Object.keys(testCase.expected)) {
    const actual = outputs[name];
    expect(actual, `${testCase.name}: output ${name}`).toBeDefined();
    if (name === 'logits') expect(actual!.rank).toBe(3);
    const comparison = compareTensors(actual!, await expectedOf(testCase, name), {
      atol: testCase.atol ?? 0,
      rtol: testCase.rtol ?? 0,
    });
    expect(comparison.ok, `${testCase.name}.${name}: ${describeComparison(comparison)}`).toBe(true);
  }
}

describe('every model case through the model classes', () => {
  let segmenter: CLIPSegForImageSegmentation;
  let clip: CLIPSegModel;
  beforeAll(async () => {
    segmenter = await CLIPSegForImageSegmentation.fromPretrained(dir, load);
    clip = await CLIPSegModel.fromPretrained(dir, load);
  });
  afterAll(async () => {
    await segmenter.dispose();
    await clip.dispose();
  });

  it('has the four graphs of the fixture', () => {
    expect(new Set(manifest.model.map((c) => c.graph))).toEqual(
      new Set([
        'onnx/model.onnx',
        'onnx/text_model.onnx',
        'onnx/vision_model.onnx',
        'onnx/conditional_model.onnx',
      ]),
    );
  });

  const byGraph = (graph: string) =>
    manifest.model.filter((c) => c.graph === graph).map((c) => [c.name, c] as const);

  it.each(byGraph('onnx/model.onnx'))(
    '%s: forward(input_ids) through model.onnx',
    async (_name, testCase) => {
      const { input_ids, attention_mask, pixel_values } = await feedsOf(testCase);
      const outputs = await segmenter.forward(
        {
          pixel_values: pixel_values as Tensor<'float32'>,
          input_ids: input_ids as Tensor<'int64'>,
          attention_mask: attention_mask as Tensor<'int64'>,
        },
        { textRoute: 'model' },
      );
      expect(outputs.conditional_embeddings).toBeUndefined();
      await expectCase(testCase, outputs);
    },
  );

  it.each(byGraph('onnx/model.onnx'))(
    '%s: forward(input_ids) through text_model + conditional_model (the default with split graphs)',
    async (_name, testCase) => {
      const { input_ids, attention_mask, pixel_values } = await feedsOf(testCase);
      const outputs = await segmenter.forward({
        pixel_values: pixel_values as Tensor<'float32'>,
        input_ids: input_ids as Tensor<'int64'>,
        attention_mask: attention_mask as Tensor<'int64'>,
      });
      expect(outputs.conditional_embeddings?.dims).toEqual([input_ids!.dims[0], 16]);
      await expectCase(testCase, outputs);
    },
  );

  it.each(byGraph('onnx/conditional_model.onnx'))(
    '%s: forward(conditional_embeddings)',
    async (_name, testCase) => {
      const { pixel_values, conditional_embeddings } = await feedsOf(testCase);
      const outputs = await segmenter.forward({
        pixel_values: pixel_values as Tensor<'float32'>,
        conditional_embeddings: conditional_embeddings as Tensor<'float32'>,
      });
      expect(outputs.conditional_embeddings).toBe(conditional_embeddings);
      await expectCase(testCase, outputs);
    },
  );

  it.each(byGraph('onnx/text_model.onnx'))('%s: CLIPSegModel.getTextFeatures', async (_name, testCase) => {
    const { input_ids, attention_mask } = await feedsOf(testCase);
    const text_embeds = await clip.getTextFeatures({
      input_ids: input_ids as Tensor<'int64'>,
      attention_mask: attention_mask as Tensor<'int64'>,
    });
    await expectCase(testCase, { text_embeds });
  });

  it.each(byGraph('onnx/vision_model.onnx'))('%s: CLIPSegModel.getImageFeatures', async (_name, testCase) => {
    const { pixel_values } = await feedsOf(testCase);
    const image_embeds = await clip.getImageFeatures({ pixel_values: pixel_values as Tensor<'float32'> });
    await expectCase(testCase, { image_embeds });
  });

  it('conditional-from-image: forward(conditional_pixel_values) = vision_model -> conditional_model', async () => {
    const testCase = manifest.model.find((c) => c.name === 'conditional-from-image')!;
    const pixel_values = (await feedsOf(testCase)).pixel_values as Tensor<'float32'>;
    const prompts = manifest.model.find((c) => c.name === 'image-embeds')!;
    const conditional_pixel_values = (await feedsOf(prompts)).pixel_values as Tensor<'float32'>;
    const outputs = await segmenter.forward({ pixel_values, conditional_pixel_values });
    await expectCase(testCase, outputs);
    await expectCase(prompts, { image_embeds: outputs.conditional_embeddings! });
  });

  it('embeds once and segments many: one prompt broadcast over a batch of images', async () => {
    const testCase = manifest.model.find((c) => c.name === 'conditional-from-text')!;
    const { pixel_values, conditional_embeddings } = await feedsOf(testCase);
    const expected = await expectedOf(testCase, 'logits');
    const first = new Tensor(
      'float32',
      (conditional_embeddings as Tensor<'float32'>).data.slice(0, 16),
      [1, 16],
    );
    const { logits } = await segmenter.forward({
      pixel_values: pixel_values as Tensor<'float32'>,
      conditional_embeddings: first,
    });
    expect(logits.dims).toEqual([3, 48, 48]);
    // Image 0 with prompt 0 is in the fixture; the three images are the same picture, so every row matches it.
    const row0 = new Tensor('float32', expected.data.slice(0, 48 * 48) as Float32Array, [48, 48]);
    for (let i = 0; i < 3; i++) {
      const row = new Tensor('float32', logits.data.slice(i * 48 * 48, (i + 1) * 48 * 48), [48, 48]);
      const comparison = compareTensors(row, row0, { atol: 1e-4, rtol: 1e-3 });
      expect(comparison.ok, describeComparison(comparison)).toBe(true);
    }
  });

  it('computes text embeddings with getConditionalEmbeddings (= CLIPSegModel.get_text_features)', async () => {
    const testCase = manifest.model.find((c) => c.name === 'text-embeds')!;
    const feeds = await feedsOf(testCase);
    const text_embeds = await segmenter.getConditionalEmbeddings({
      input_ids: feeds.input_ids as Tensor<'int64'>,
      attention_mask: feeds.attention_mask as Tensor<'int64'>,
    });
    await expectCase(testCase, { text_embeds });
  });
});

describe('CLIPSegTextModel and CLIPSegVisionModel', () => {
  it('run text_model.onnx and vision_model.onnx alone', async () => {
    const text = await CLIPSegTextModel.fromPretrained(dir, load);
    const vision = await CLIPSegVisionModel.fromPretrained(dir, load);
    try {
      const textCase = manifest.model.find((c) => c.name === 'text-embeds-5')!;
      const { input_ids, attention_mask } = await feedsOf(textCase);
      await expectCase(
        textCase,
        await text.forward({
          input_ids: input_ids as Tensor<'int64'>,
          attention_mask: attention_mask as Tensor<'int64'>,
        }),
      );
      const imageCase = manifest.model.find((c) => c.name === 'image-embeds')!;
      const { pixel_values } = await feedsOf(imageCase);
      await expectCase(imageCase, await vision.forward({ pixel_values: pixel_values as Tensor<'float32'> }));
    } finally {
      await text.dispose();
      await vision.dispose();
    }
  });

  it('fills a missing attention_mask with ones', async () => {
    const text = await CLIPSegTextModel.fromPretrained(dir, load);
    try {
      const testCase = manifest.model.find((c) => c.name === 'text-batch1')!;
      const { input_ids, attention_mask } = await feedsOf(testCase);
      expect(attention_mask!.toNumbers().every((v) => v === 1)).toBe(true);
      const withMask = await text.forward({
        input_ids: input_ids as Tensor<'int64'>,
        attention_mask: attention_mask as Tensor<'int64'>,
      });
      const without = await text.forward({ input_ids: input_ids as Tensor<'int64'> });
      expect(without.text_embeds.toNumbers()).toEqual(withMask.text_embeds.toNumbers());
    } finally {
      await text.dispose();
    }
  });
});

describe('a folder with only onnx/model.onnx (as Hub ONNX repos ship it)', () => {
  let textOnly: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir: textOnly, remove } = await textOnlyFolder());
  });
  afterAll(() => remove());

  it('loads eagerly and segments by text through model.onnx', async () => {
    const model = await CLIPSegForImageSegmentation.fromPretrained(textOnly, load);
    try {
      expect(await model.supportsTextEmbeddings()).toBe(false);
      expect(await model.supportsImagePrompts()).toBe(false);
      const testCase = manifest.model.find((c) => c.name === 'text-batch3-image1')!;
      const { input_ids, attention_mask, pixel_values } = await feedsOf(testCase);
      await expectCase(
        testCase,
        await model.forward({
          pixel_values: pixel_values as Tensor<'float32'>,
          input_ids: input_ids as Tensor<'int64'>,
          attention_mask: attention_mask as Tensor<'int64'>,
        }),
      );
    } finally {
      await model.dispose();
    }
  });

  it('refuses image prompts and embeddings, naming the graphs they need', async () => {
    const model = await CLIPSegForImageSegmentation.fromPretrained(textOnly, { ...load, loading: 'lazy' });
    try {
      const pixel_values = Tensor.zeros('float32', [1, 3, 48, 48]);
      const attempt = model.forward({ pixel_values, conditional_pixel_values: pixel_values });
      await expect(attempt).rejects.toThrow(ModelNotFoundError);
      await expect(attempt).rejects.toThrow(
        'image prompts need onnx/vision_model.onnx and onnx/conditional_model.onnx, but',
      );
      await expect(attempt).rejects.toThrow('(onnx/model.onnx takes text prompts only)');
      await expect(
        model.forward({ pixel_values, conditional_embeddings: Tensor.zeros('float32', [1, 16]) }),
      ).rejects.toThrow('segmentation from conditional_embeddings needs onnx/conditional_model.onnx');
    } finally {
      await model.dispose();
    }
  });

  it('refuses a folder with no segmentation graph', async () => {
    const empty = join(textOnly, 'empty');
    await mkdir(empty);
    await symlink(join(dir, 'config.json'), join(empty, 'config.json'));
    const attempt = CLIPSegForImageSegmentation.fromPretrained(empty, load);
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow('has no CLIPSeg segmentation graphs: expected onnx/model.onnx');
  });
});

describe('bad input', () => {
  let model: CLIPSegForImageSegmentation;
  beforeAll(async () => {
    model = await CLIPSegForImageSegmentation.fromPretrained(dir, { ...load, loading: 'lazy' });
  });
  afterAll(async () => {
    await model.dispose();
  });
  const pixel_values = Tensor.zeros('float32', [2, 3, 48, 48]);

  it('wants exactly one kind of prompt', async () => {
    await expect(model.forward({ pixel_values })).rejects.toThrow(
      'takes exactly one kind of prompt (input_ids, conditional_pixel_values or conditional_embeddings), got none',
    );
    const both = model.forward({
      pixel_values,
      input_ids: Tensor.zeros('int64', [2, 3]),
      conditional_embeddings: Tensor.zeros('float32', [2, 16]),
    });
    await expect(both).rejects.toThrow(InvalidArgumentError);
    await expect(both).rejects.toThrow('got input_ids and conditional_embeddings');
  });

  it('checks ranks, dtypes and batch sizes before ONNX Runtime', async () => {
    await expect(
      model.forward({
        pixel_values: Tensor.zeros('float32', [3, 48, 48]),
        conditional_embeddings: Tensor.zeros('float32', [1, 16]),
      }),
    ).rejects.toThrow(
      'pixel_values must be a float32 Tensor [batch, 3, height, width], got float32 [3, 48, 48]',
    );
    await expect(
      model.forward({ pixel_values, input_ids: Tensor.zeros('int32', [2, 3]) as unknown as Tensor<'int64'> }),
    ).rejects.toThrow(InputShapeError);
    await expect(
      model.forward({ pixel_values, conditional_embeddings: Tensor.zeros('float32', [3, 16]) }),
    ).rejects.toThrow('got 2 images and 3 prompts: pass one image per prompt');
    await expect(
      model.forward({ pixel_values, conditional_embeddings: Tensor.zeros('float32', [2, 8]) }),
    ).rejects.toThrow(
      'conditional_embeddings must be a float32 Tensor [prompts, 16] (config projection_dim), got float32 [2, 8]',
    );
    await expect(
      model.forward({
        pixel_values,
        input_ids: Tensor.zeros('int64', [2, 3]),
        attention_mask: Tensor.zeros('int64', [2, 4]),
      }),
    ).rejects.toThrow(
      'attention_mask must be an int64 Tensor shaped like input_ids [2, 3], got int64 [2, 4]',
    );
    await expect(
      model.forward(
        { pixel_values, input_ids: Tensor.zeros('int64', [2, 3]) },
        { textRoute: 'fast' as 'model' },
      ),
    ).rejects.toThrow(`textRoute must be 'split' or 'model', got "fast"`);
  });

  it('names what getConditionalEmbeddings needs', async () => {
    await expect(model.getConditionalEmbeddings({} as never)).rejects.toThrow(
      'getConditionalEmbeddings needs input_ids (text prompts) or conditional_pixel_values (image prompts)',
    );
  });
});

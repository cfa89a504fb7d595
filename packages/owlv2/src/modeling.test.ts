import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputShapeError, ModelNotFoundError, type NamedTensors, Tensor, loadImage } from '@ortvision/core';
import { HubServer, type JsonValue, compareTensors, describeComparison } from '@ortvision/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { dir, expectJsonClose, image, manifest, npy, pythonSelections } from './__fixtures__/owlv2-cases.js';
import { Owlv2ForObjectDetection, Owlv2Model, Owlv2TextModel, Owlv2VisionModel } from './modeling.js';
import { Owlv2Processor } from './processing.js';

type Float = Tensor<'float32'>;
type Int = Tensor<'int64'>;

const detector = await Owlv2ForObjectDetection.fromPretrained(dir);
const textModel = await Owlv2TextModel.fromPretrained(dir);
const visionModel = await Owlv2VisionModel.fromPretrained(dir);
const processor = await Owlv2Processor.fromPretrained(dir);
afterAll(() => Promise.all([detector.dispose(), textModel.dispose(), visionModel.dispose()]));

async function feedsOf(feeds: Record<string, string>): Promise<NamedTensors> {
  return Object.fromEntries(
    await Promise.all(Object.entries(feeds).map(async ([k, f]) => [k, await npy(f)])),
  );
}

function expectClose(actual: NamedTensors, expected: Record<string, string>, atol: number, rtol: number) {
  return Promise.all(
    Object.entries(expected).map(async ([name, file]) => {
      expect(actual[name], `${name} missing`).toBeDefined();
      const comparison = compareTensors(actual[name]!, await npy(file), { atol, rtol });
      expect(comparison.ok, `${name}: ${describeComparison(comparison)}`).toBe(true);
    }),
  );
}

async function runCase(graph: string, feeds: NamedTensors): Promise<NamedTensors> {
  switch (graph) {
    case 'onnx/model.onnx':
      return detector.forward(feeds as { input_ids: Int; attention_mask: Int; pixel_values: Float });
    case 'onnx/text_model.onnx':
      return textModel.forward(feeds as { input_ids: Int; attention_mask: Int });
    case 'onnx/vision_model.onnx':
      return visionModel.forward(feeds as { pixel_values: Float });
    case 'onnx/class_head.onnx':
      return detector.classPredictor(
        feeds.image_embeds as Float,
        feeds.query_embeds as Float,
        feeds.query_mask as Tensor<'bool'>,
      );
    default:
      throw new Error(`no class for ${graph}`);
  }
}

describe('owlv2 model cases through the model classes', () => {
  it('has a case for every graph', () => {
    expect(new Set(manifest.model.map((c) => c.graph)).size).toBe(4);
  });

  it.each(manifest.model.map((c) => [c.name, c] as const))('%s', async (_name, testCase) => {
    const outputs = await runCase(testCase.graph, await feedsOf(testCase.feeds));
    await expectClose(outputs, testCase.expected, testCase.atol ?? 0, testCase.rtol ?? 0);
  });
});

describe('Owlv2ForObjectDetection on the split graphs', () => {
  const batch2 = manifest.model.find((c) => c.name === 'nested-batch2')!;

  it('forwardSplit (text_model + vision_model + class_head) equals model.onnx (case nested-batch2)', async () => {
    const feeds = (await feedsOf(batch2.feeds)) as {
      input_ids: Int;
      attention_mask: Int;
      pixel_values: Float;
    };
    const outputs = await detector.forwardSplit(feeds);
    await expectClose(outputs, batch2.expected, batch2.atol!, batch2.rtol!);
    expect(outputs.image_embeds!.dims).toEqual([2, 6, 6, 32]);
  });

  it('embeds an image once and queries it many times through class_head alone', async () => {
    const inputs = await processor.process({
      images: image('cats.png'),
      text: ['cat', 'remote control', 'couch', 'a photo of a dog'],
    });
    const reference = await detector.forward(
      inputs as { input_ids: Int; attention_mask: Int; pixel_values: Float },
    );
    const embedded = await detector.embedImage(inputs.pixel_values!);
    for (const queries of [
      ['cat', 'remote control'],
      ['couch', 'a photo of a dog'],
    ]) {
      const offset = queries[0] === 'cat' ? 0 : 2;
      const out = await detector.detect(embedded, await detector.embedText(processor.tokenize(queries)));
      expect(out.logits.dims).toEqual([1, 36, 2]);
      for (let n = 0; n < 36; n++) {
        for (let q = 0; q < 2; q++) {
          expect(out.logits.data[n * 2 + q]).toBeCloseTo(reference.logits.data[n * 4 + offset + q]!, 4);
        }
      }
    }
  });

  it('runs the image-guided pipeline case: query selection, logits and boxes as Python', async () => {
    const testCase = manifest.pipeline.find((c) => c.name === 'image-guided-detection')!;
    const images = await Promise.all((testCase.inputs.images as string[]).map((n) => loadImage(image(n))));
    const inputs = await processor.process({
      images,
      queryImages: (testCase.inputs.query_images as string[]).map(image),
    });
    const out = await detector.imageGuidedDetection(inputs.pixel_values!, inputs.query_pixel_values!);
    const expected = testCase.expected as Record<string, JsonValue>;
    await expectJsonClose(pythonSelections(out.selections), expected.embed_image_query!, 1e-4);
    for (const key of ['query_embeds', 'logits', 'target_pred_boxes', 'query_pred_boxes'] as const) {
      await expectJsonClose(out[key], expected[key]!, 1e-4, key);
    }
    const results = processor.postProcessImageGuidedDetection(out, {
      threshold: testCase.kwargs.threshold as number,
      nmsThreshold: testCase.kwargs.nms_threshold as number,
      targetSizes: images.map((i) => [Math.max(i.height, i.width), Math.max(i.height, i.width)]),
    });
    const want = expected.results as unknown as { scores: number[]; boxes: JsonValue }[];
    expect(results.length).toBe(want.length);
    for (const [i, result] of results.entries()) {
      expect(result.labels).toBeNull();
      await expectJsonClose(result.scores, want[i]!.scores, 1e-4, `results[${i}].scores`);
      // The boxes are ONNX Runtime's pred_boxes (within 2.1e-7 of PyTorch's, case vision-batch2) times the
      // padded side (640 px): ~1.2e-4 px apart, within the case's atol (1e-3 px, set for exactly this).
      expect(testCase.atol).toBe(1e-3);
      await expectJsonClose(result.boxes, want[i]!.boxes, testCase.atol!, `results[${i}].boxes`);
    }
  });
});

describe('graph loading', () => {
  const made: string[] = [];
  afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

  async function folderWith(graphs: string[]): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'owlv2-graphs-'));
    made.push(folder);
    await mkdir(join(folder, 'onnx'));
    await symlink(join(dir, 'config.json'), join(folder, 'config.json'));
    for (const g of graphs) await symlink(join(dir, 'onnx', `${g}.onnx`), join(folder, 'onnx', `${g}.onnx`));
    return folder;
  }

  it('loads a Hub-style folder with only model.onnx; image-guided detection then says what is missing', async () => {
    const model = await Owlv2ForObjectDetection.fromPretrained(await folderWith(['model']));
    try {
      const pixels = new Tensor('float32', new Float32Array(3 * 48 * 48), [1, 3, 48, 48]);
      await expect(model.imageGuidedDetection(pixels, pixels)).rejects.toThrow(ModelNotFoundError);
      await expect(model.imageGuidedDetection(pixels, pixels)).rejects.toThrow(/export recipe/);
    } finally {
      await model.dispose();
    }
  });

  it('falls back to the split graphs when model.onnx is missing', async () => {
    const model = await Owlv2ForObjectDetection.fromPretrained(
      await folderWith(['text_model', 'vision_model', 'class_head']),
    );
    try {
      const testCase = manifest.model.find((c) => c.name === 'single-image')!;
      const outputs = await model.forward(
        (await feedsOf(testCase.feeds)) as { input_ids: Int; attention_mask: Int; pixel_values: Float },
      );
      await expectClose(
        outputs,
        { logits: testCase.expected.logits!, pred_boxes: testCase.expected.pred_boxes! },
        1e-4,
        1e-3,
      );
    } finally {
      await model.dispose();
    }
  });

  it('on a Hub repository with split graphs only, forward asks the Hub nothing: which graphs exist was decided at load', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'owlv2-hub-split-'));
    made.push(folder);
    await mkdir(join(folder, 'onnx'));
    await copyFile(join(dir, 'config.json'), join(folder, 'config.json'));
    for (const g of ['text_model', 'vision_model', 'class_head'])
      await copyFile(join(dir, 'onnx', `${g}.onnx`), join(folder, 'onnx', `${g}.onnx`));
    const server = await HubServer.start({ repoId: 'ortvision-test/owlv2-split', folder });
    const model = await Owlv2ForObjectDetection.fromPretrained('ortvision-test/owlv2-split', {
      endpoint: server.endpoint,
      cacheDir: join(folder, 'hub-cache'),
    });
    try {
      const testCase = manifest.model.find((c) => c.name === 'single-image')!;
      const feeds = (await feedsOf(testCase.feeds)) as {
        input_ids: Int;
        attention_mask: Int;
        pixel_values: Float;
      };
      const before = server.requests.length;
      for (let call = 0; call < 2; call++) {
        const outputs = await model.forward(feeds);
        await expectClose(outputs, { logits: testCase.expected.logits! }, 1e-4, 1e-3);
      }
      expect(server.requests.slice(before)).toEqual([]);
      expect(await model.hasGraph('model')).toBe(false);
      expect(server.requests.slice(before)).toEqual([]);
    } finally {
      await model.dispose();
      await server.close();
    }
  });

  it('refuses a folder without a usable set of graphs, naming them', async () => {
    const folder = await folderWith(['vision_model']);
    await expect(Owlv2ForObjectDetection.fromPretrained(folder)).rejects.toThrow(ModelNotFoundError);
    await expect(Owlv2ForObjectDetection.fromPretrained(folder)).rejects.toThrow(/onnx\/model\.onnx, or/);
    await expect(Owlv2Model.fromPretrained(folder)).rejects.toThrow(/text_model/);
  });
});

describe('model input checks', () => {
  it('refuses queries that do not split evenly over the images', async () => {
    const ids = new Tensor('int64', new BigInt64Array(3 * 16).fill(1n), [3, 16]);
    const pixels = new Tensor('float32', new Float32Array(2 * 3 * 48 * 48), [2, 3, 48, 48]);
    await expect(
      detector.forward({ input_ids: ids, attention_mask: ids, pixel_values: pixels }),
    ).rejects.toThrow(/3 queries, which does not split evenly over 2 images/);
  });

  it('refuses class-head inputs with different batch sizes', async () => {
    const image = new Tensor('float32', new Float32Array(2 * 36 * 32), [2, 36, 32]);
    const query = new Tensor('float32', new Float32Array(16), [1, 1, 16]);
    await expect(detector.classPredictor(image, query)).rejects.toThrow(InputShapeError);
  });

  it('refuses different numbers of target and query images', async () => {
    const one = new Tensor('float32', new Float32Array(3 * 48 * 48), [1, 3, 48, 48]);
    const two = new Tensor('float32', new Float32Array(2 * 3 * 48 * 48), [2, 3, 48, 48]);
    await expect(detector.imageGuidedDetection(two, one)).rejects.toThrow(
      /2 target images but 1 query images/,
    );
  });
});

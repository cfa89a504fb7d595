import { type NamedTensors, Tensor, loadImage } from '@ortvision/core';
import {
  type CheckpointFolders,
  type ClassModelCases,
  type ModelCase,
  checkClassModelCases,
  checkModelCases,
  checkPipelineCases,
  checkpointFolders,
  classModelCases,
  compareJson,
  compareTensors,
  describeComparison,
  failedCases,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageGuidedDetections, pythonSelections } from './__fixtures__/owlv2-cases.js';
import {
  type Owlv2DetectionInputs,
  Owlv2ForObjectDetection,
  type Owlv2Model,
  type Owlv2TextModel,
  type Owlv2VisionModel,
  modelClasses,
} from './modeling.js';
import { Owlv2Processor } from './processing.js';
import { imageGuidedObjectDetection, zeroShotObjectDetection } from './tasks.js';

// Issue 19, done when: every task helper and class of @ortvision/owlv2 works on a folder holding only config,
// processor/tokenizer files and the checkpoint (model.safetensors, as google/owlv2-base-patch16-ensemble holds it;
// no onnx/), image-guided detection and embed once, query many included: model, text_model, vision_model and
// class_head are all built from the one checkpoint at load and answer every case.

const FIXTURE = 'owlv2';

// A copy of the fixture without onnx/, and a graph cache of this file's own.
let folders: CheckpointFolders;
let folder: string;
beforeAll(async () => {
  folders = await checkpointFolders('owlv2');
  folder = await folders.folder(FIXTURE);
});
afterAll(() => folders.remove());

type Float = Tensor<'float32'>;

/** How each class runs each of its graphs on a model case's feeds. */
const classCases: Record<keyof typeof modelClasses, ClassModelCases> = {
  Owlv2TextModel: classModelCases(modelClasses.Owlv2TextModel, (model: Owlv2TextModel) => ({
    text_model: (feeds: NamedTensors) => model.forward(feeds as never),
  })),
  Owlv2VisionModel: classModelCases(modelClasses.Owlv2VisionModel, (model: Owlv2VisionModel) => ({
    vision_model: (feeds: NamedTensors) => model.forward(feeds as never),
  })),
  Owlv2Model: classModelCases(modelClasses.Owlv2Model, (model: Owlv2Model) => ({
    text_model: async (feeds: NamedTensors) => ({ text_embeds: await model.getTextFeatures(feeds as never) }),
    vision_model: (feeds: NamedTensors) => model.getImageFeatures(feeds.pixel_values as Float),
  })),
  Owlv2ForObjectDetection: classModelCases(
    modelClasses.Owlv2ForObjectDetection,
    (model: Owlv2ForObjectDetection) => ({
      model: (feeds: NamedTensors) => model.forward(feeds as Owlv2DetectionInputs),
      // One query set of one image: the query rows are the texts.
      text_model: async (feeds: NamedTensors) => {
        const { query_embeds } = await model.embedText(feeds as never);
        return { text_embeds: query_embeds.reshape(query_embeds.dims.slice(1)) };
      },
      vision_model: (feeds: NamedTensors) => model.embedImage(feeds.pixel_values as Float),
      class_head: (feeds: NamedTensors) =>
        model.classPredictor(
          feeds.image_embeds as Float,
          feeds.query_embeds as Float,
          feeds.query_mask as Tensor<'bool'>,
        ),
    }),
  ),
};

async function modelCase(name: string): Promise<ModelCase> {
  const { manifest } = await loadFixture(fixturePath(FIXTURE));
  return manifest.model.find((c) => c.name === name)!;
}

/** Column `q` of logits [batch, boxes, queries], as [batch, boxes, 1]. */
function queryColumn(logits: Float, q: number): Float {
  const [batch, boxes, queries] = logits.dims as [number, number, number];
  const data = new Float32Array(batch * boxes);
  for (let i = 0; i < batch * boxes; i++) data[i] = logits.data[i * queries + q]!;
  return new Tensor('float32', data, [batch, boxes, 1]);
}

describe('an OWLv2 folder with the checkpoint (model.safetensors) and no onnx/', () => {
  it.each(Object.keys(classCases) as (keyof typeof classCases)[])(
    '%s builds its graphs and answers every model case of each',
    async (name) => {
      const results = await checkClassModelCases(FIXTURE, classCases[name], folder, folders.options);
      expect(failedCases(results)).toEqual([]);
    },
  );

  describe('Owlv2ForObjectDetection through the split graphs built from the checkpoint', () => {
    let model: Owlv2ForObjectDetection;
    beforeAll(async () => {
      model = await Owlv2ForObjectDetection.fromPretrained(folder, folders.options);
    });
    afterAll(() => model.dispose());

    it('forwardSplit (text_model + vision_model + class_head) gives model.onnx’s outputs', async () => {
      const split = { forward: (feeds: NamedTensors) => model.forwardSplit(feeds as Owlv2DetectionInputs) };
      expect(failedCases(await checkModelCases(split, FIXTURE, 'onnx/model.onnx'))).toEqual([]);
    });

    it('embed once, query many: one embedded image asked every query at once, then each query alone', async () => {
      const testCase = await modelCase('single-image');
      const feed = (name: string) => readNpy(fixturePath(FIXTURE, testCase.feeds[name]!));
      const expected = async (name: string) => readNpy(fixturePath(FIXTURE, testCase.expected[name]!));
      const close = (actual: Tensor, wanted: Tensor, what: string) => {
        const comparison = compareTensors(actual, wanted, { atol: testCase.atol, rtol: testCase.rtol });
        expect(comparison.ok, `${what}: ${describeComparison(comparison)}`).toBe(true);
      };
      const embedded = await model.embedImage((await feed('pixel_values')) as Float);
      const ids = (await feed('input_ids')) as Tensor<'int64'>;
      const mask = (await feed('attention_mask')) as Tensor<'int64'>;
      const all = await model.detect(
        embedded,
        await model.embedText({ input_ids: ids, attention_mask: mask }),
      );
      for (const output of ['logits', 'pred_boxes', 'objectness_logits', 'class_embeds'] as const)
        close(all[output]!, await expected(output), output);
      const logits = (await expected('logits')) as Float;
      const [queries, seq] = ids.dims as [number, number];
      for (let q = 0; q < queries; q++) {
        const row = (t: Tensor<'int64'>) =>
          new Tensor('int64', t.data.slice(q * seq, (q + 1) * seq), [1, seq]);
        const one = await model.detect(
          embedded,
          await model.embedText({ input_ids: row(ids), attention_mask: row(mask) }),
        );
        close(one.logits, queryColumn(logits, q), `query ${q} alone`);
      }
    });

    it('image-guided detection answers its pipeline case, the target embedded once', async () => {
      const processor = await Owlv2Processor.fromPretrained(folder);
      const results = await checkPipelineCases(
        FIXTURE,
        'image-guided-object-detection',
        async (testCase, targets) => {
          const images = await Promise.all(targets.map((path) => loadImage(path)));
          const queryImages = (testCase.inputs.query_images as string[]).map((n) => fixtureImagePath(n));
          const { pixel_values, query_pixel_values } = await processor.process({ images, queryImages });
          const out = await model.imageGuidedDetection(
            await model.embedImage(pixel_values!),
            query_pixel_values!,
          );
          const { threshold, nms_threshold } = testCase.kwargs as Record<string, number>;
          const found = processor.postProcessImageGuidedDetection(out, {
            threshold,
            nmsThreshold: nms_threshold,
            // target_sizes of the case: the padded squares of the targets.
            targetSizes: images.map(({ height, width }) => [
              Math.max(height, width),
              Math.max(height, width),
            ]),
          });
          return {
            embed_image_query: pythonSelections(out.selections),
            query_embeds: out.query_embeds,
            logits: out.logits,
            target_pred_boxes: out.target_pred_boxes,
            query_pred_boxes: out.query_pred_boxes,
            results: found,
          };
        },
      );
      expect(failedCases(results)).toEqual([]);
    });
  });

  it('zeroShotObjectDetection answers every zero-shot pipeline case', async () => {
    const detect = await zeroShotObjectDetection(folder, folders.options);
    try {
      const results = await checkPipelineCases(FIXTURE, 'zero-shot-object-detection', (testCase, images) => {
        const { threshold, top_k } = testCase.kwargs as { threshold: number; top_k?: number };
        expect(images).toHaveLength(1);
        return detect(images[0]!, testCase.inputs.candidate_labels as string[], {
          threshold,
          ...(top_k !== undefined && { topK: top_k }),
        });
      });
      expect(failedCases(results)).toEqual([]);
    } finally {
      await detect.dispose();
    }
  });

  it('imageGuidedObjectDetection finds what the image-guided pipeline case finds (best first, int boxes)', async () => {
    const { manifest } = await loadFixture(fixturePath(FIXTURE));
    const testCase = manifest.pipeline.find((c) => c.task === 'image-guided-object-detection')!;
    const [target] = testCase.inputs.images as string[];
    const [query] = testCase.inputs.query_images as string[];
    const { threshold, nms_threshold } = testCase.kwargs as Record<string, number>;
    const wanted = imageGuidedDetections(testCase);
    expect(wanted.length).toBeGreaterThan(0);
    const find = await imageGuidedObjectDetection(folder, folders.options);
    try {
      const found = await find(fixtureImagePath(target!), fixtureImagePath(query!), {
        threshold,
        nmsThreshold: nms_threshold,
      });
      const { ok, mismatch } = await compareJson(found as never, wanted, testCase.atol ?? 0, (file) =>
        readNpy(fixturePath(FIXTURE, file)),
      );
      expect(ok, mismatch).toBe(true);
    } finally {
      await find.dispose();
    }
  });
});

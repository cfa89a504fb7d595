import { type NamedTensors, Tensor } from '@ortvision/core';
import {
  type CheckpointFolders,
  type ClassModelCases,
  checkClassModelCases,
  checkModelCases,
  checkPipelineCases,
  checkpointFolders,
  classModelCases,
  failedCases,
  fixtureImagePath,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLIPSegForImageSegmentation,
  type CLIPSegModel,
  type CLIPSegSegmentationInputs,
  type CLIPSegTextModel,
  type CLIPSegVisionModel,
  modelClasses,
} from './modeling.js';
import { CLIPSegProcessor } from './processing.js';
import { promptSegmentation } from './tasks.js';

// Issue 19, done when: every task helper and class of @ortvision/clipseg works on a folder holding only config,
// processor/tokenizer files and the checkpoint (pytorch_model.bin, as CIDAS/clipseg-rd64-refined holds it; no
// onnx/), image prompts included: the four graphs are built from the checkpoint at load and answer every case.

const FIXTURE = 'clipseg';

// A copy of the fixture without onnx/, and a graph cache of this file's own.
let folders: CheckpointFolders;
let folder: string;
beforeAll(async () => {
  folders = await checkpointFolders('clipseg');
  folder = await folders.folder(FIXTURE);
});
afterAll(() => folders.remove());

/** The fixture keeps HF's squeezed logits: [H, W] for one prompt; the model returns [1, H, W]. */
function squeezed(logits: Tensor<'float32'>): Tensor<'float32'> {
  return logits.dims[0] === 1 ? logits.reshape(logits.dims.slice(1)) : logits;
}

/** Per-prompt tensors stacked to [prompts, ...]. */
function stacked(tensors: Tensor<'float32'>[]): Tensor<'float32'> {
  const size = tensors[0]!.size;
  const data = new Float32Array(tensors.length * size);
  tensors.forEach((t, i) => data.set(t.data, i * size));
  return new Tensor('float32', data, [tensors.length, ...tensors[0]!.dims]);
}

type Segmenter = CLIPSegForImageSegmentation;
const segmentation = (route: 'model' | 'split') => async (model: Segmenter, feeds: NamedTensors) => {
  const { logits } = await model.forward(feeds as CLIPSegSegmentationInputs, { textRoute: route });
  return { logits: squeezed(logits) };
};

/** How each class runs each of its graphs on a model case's feeds. */
const classCases: Record<keyof typeof modelClasses, ClassModelCases> = {
  CLIPSegTextModel: classModelCases(modelClasses.CLIPSegTextModel, (model: CLIPSegTextModel) => ({
    text_model: (feeds: NamedTensors) => model.forward(feeds as never),
  })),
  CLIPSegVisionModel: classModelCases(modelClasses.CLIPSegVisionModel, (model: CLIPSegVisionModel) => ({
    vision_model: (feeds: NamedTensors) => model.forward(feeds as never),
  })),
  CLIPSegModel: classModelCases(modelClasses.CLIPSegModel, (model: CLIPSegModel) => ({
    text_model: async (feeds: NamedTensors) => ({ text_embeds: await model.getTextFeatures(feeds as never) }),
    vision_model: async (feeds: NamedTensors) => ({
      image_embeds: await model.getImageFeatures(feeds as never),
    }),
  })),
  CLIPSegForImageSegmentation: classModelCases(
    modelClasses.CLIPSegForImageSegmentation,
    (model: Segmenter) => ({
      model: (feeds: NamedTensors) => segmentation('model')(model, feeds),
      conditional_model: (feeds: NamedTensors) => segmentation('split')(model, feeds),
      text_model: async (feeds: NamedTensors) => ({
        text_embeds: await model.getConditionalEmbeddings(feeds as never),
      }),
      // An image prompt's embeddings: the case's pixel_values as conditional_pixel_values.
      vision_model: async (feeds: NamedTensors) => ({
        image_embeds: await model.getConditionalEmbeddings({
          conditional_pixel_values: feeds.pixel_values as Tensor<'float32'>,
        }),
      }),
    }),
  ),
};

describe('a CLIPSeg folder with the checkpoint (pytorch_model.bin) and no onnx/', () => {
  it.each(Object.keys(classCases) as (keyof typeof classCases)[])(
    '%s builds its graphs and answers every model case of each',
    async (name) => {
      const results = await checkClassModelCases(FIXTURE, classCases[name], folder, folders.options);
      expect(failedCases(results)).toEqual([]);
    },
  );

  it('CLIPSegForImageSegmentation: text prompts through the split graphs give model.onnx’s logits', async () => {
    const model = await CLIPSegForImageSegmentation.fromPretrained(folder, folders.options);
    try {
      expect(await model.supportsImagePrompts()).toBe(true);
      expect(await model.supportsTextEmbeddings()).toBe(true);
      const split = { forward: (feeds: NamedTensors) => segmentation('split')(model, feeds) };
      expect(failedCases(await checkModelCases(split, FIXTURE, 'onnx/model.onnx'))).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  it('promptSegmentation answers every pipeline case: text prompts and image prompts', async () => {
    const segment = await promptSegmentation(folder, folders.options);
    const model = await CLIPSegForImageSegmentation.fromPretrained(folder, folders.options);
    const processor = await CLIPSegProcessor.fromPretrained(folder);
    try {
      const run = async (testCase: { inputs: Record<string, unknown> }, images: string[]) => {
        expect(images).toHaveLength(1);
        const visual = testCase.inputs.visual_prompt as string[] | undefined;
        const imagePrompts = visual?.map((name) => fixtureImagePath(name));
        const prompts = imagePrompts?.map((image) => ({ image })) ?? (testCase.inputs.text as string[]);
        const results = await segment(images[0]!, prompts, { returnLogits: true });
        const output: Record<string, unknown> = {
          masks: stacked(results.map((r) => r.mask)),
          logits: squeezed(stacked(results.map((r) => r.logits!))),
        };
        if (imagePrompts) {
          // The image prompts' embeddings, from the checkpoint's vision tower.
          const { conditional_pixel_values } = await processor.process({ visualPrompt: imagePrompts });
          const embeddings = await model.getConditionalEmbeddings({
            conditional_pixel_values: conditional_pixel_values!,
          });
          output.conditional_embeddings = embeddings.toNested();
        }
        return output;
      };
      const text = await checkPipelineCases(FIXTURE, 'segment-image-by-prompts', run);
      const image = await checkPipelineCases(FIXTURE, 'segment-image-by-image-prompt', run);
      expect(failedCases(text)).toEqual([]);
      expect(failedCases(image)).toEqual([]);
    } finally {
      await Promise.all([segment.dispose(), model.dispose()]);
    }
  });
});

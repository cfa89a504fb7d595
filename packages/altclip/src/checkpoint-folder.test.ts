import type { NamedTensors, Tensor } from '@ortvision/core';
import {
  type CheckpointFolders,
  type ClassModelCases,
  type ModelCase,
  checkClassModelCases,
  checkPipelineCases,
  checkpointFolders,
  classModelCases,
  compareTensors,
  describeComparison,
  failedCases,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AltCLIPInputs,
  type AltCLIPModel,
  type AltCLIPTextModel,
  type AltCLIPVisionModel,
  modelClasses,
} from './modeling.js';
import { embedImage, embedText, similarity, zeroShotImageClassification } from './tasks.js';

// Issue 19, done when: every task helper and class of @ortvision/altclip works on a folder holding only config,
// processor/tokenizer files and the checkpoint (pytorch_model.bin, as BAAI/AltCLIP holds it; no onnx/), tower
// embeddings included: the joint graph and the towers are built from the checkpoint at load and answer every case.

const FIXTURE = 'altclip';

// A copy of the fixture without onnx/, and a graph cache of this file's own.
let folders: CheckpointFolders;
let folder: string;
beforeAll(async () => {
  folders = await checkpointFolders('altclip');
  folder = await folders.folder(FIXTURE);
});
afterAll(() => folders.remove());

/** How each class runs each of its graphs on a model case's feeds. */
const classCases: Record<keyof typeof modelClasses, ClassModelCases> = {
  AltCLIPModel: classModelCases(modelClasses.AltCLIPModel, (model: AltCLIPModel) => ({
    model: async (feeds: NamedTensors) => ({ ...(await model.forward(feeds as AltCLIPInputs)) }),
    text_model: async (feeds: NamedTensors) => ({
      text_embeds: await model.getTextFeatures(feeds as AltCLIPInputs),
    }),
    vision_model: async (feeds: NamedTensors) => ({
      image_embeds: await model.getImageFeatures(feeds as AltCLIPInputs),
    }),
  })),
  AltCLIPTextModel: classModelCases(modelClasses.AltCLIPTextModel, (model: AltCLIPTextModel) => ({
    text_model: async (feeds: NamedTensors) => model.forward(feeds as AltCLIPInputs),
  })),
  AltCLIPVisionModel: classModelCases(modelClasses.AltCLIPVisionModel, (model: AltCLIPVisionModel) => ({
    vision_model: async (feeds: NamedTensors) => model.forward(feeds as AltCLIPInputs),
  })),
};

/** A model case's expected output. */
async function expected(name: string, output: string): Promise<{ tensor: Tensor; testCase: ModelCase }> {
  const { manifest } = await loadFixture(fixturePath(FIXTURE));
  const testCase = manifest.model.find((c) => c.name === name)!;
  return { tensor: await readNpy(fixturePath(FIXTURE, testCase.expected[output]!)), testCase };
}

function expectClose(actual: Tensor, { tensor, testCase }: { tensor: Tensor; testCase: ModelCase }): void {
  const comparison = compareTensors(actual, tensor, { atol: testCase.atol, rtol: testCase.rtol });
  expect(comparison.ok, `${testCase.name}: ${describeComparison(comparison)}`).toBe(true);
}

// The texts and images the model cases were fed (their ids and pixels are the processor cases text-en,
// text-multilingual and text-and-images of the manifest).
const ENGLISH = ['a photo of a cat', 'a photo of a dog', 'two cats on a couch with remotes'];
const MULTILINGUAL = [
  '这是一张猫的照片。',
  'これは犬の写真です',
  '一只猫 a cat 一匹の猫',
  'ＡＬＴＣＬＩＰ\u3000ｍｏｄｅｌ！',
  '  extra   spaces\tand\ttabs  ',
];
const IMAGES = ['cats.png', 'chelsea.png'].map((name) => fixtureImagePath(name));

describe('an AltCLIP folder with the checkpoint (pytorch_model.bin) and no onnx/', () => {
  it.each(Object.keys(classCases) as (keyof typeof classCases)[])(
    '%s builds its graphs and answers every model case of each',
    async (name) => {
      const results = await checkClassModelCases(FIXTURE, classCases[name], folder, folders.options);
      expect(failedCases(results)).toEqual([]);
    },
  );

  it('zeroShotImageClassification answers every pipeline case', async () => {
    const classify = await zeroShotImageClassification(folder, folders.options);
    try {
      const results = await checkPipelineCases(
        FIXTURE,
        'zero-shot-image-classification',
        (testCase, images) => {
          const { candidate_labels, hypothesis_template, top_k, ...rest } = testCase.kwargs;
          expect(rest).toEqual({});
          return classify(images.length === 1 ? images[0]! : images, candidate_labels as string[], {
            ...(hypothesis_template !== undefined && { hypothesisTemplate: hypothesis_template as string }),
            ...(top_k !== undefined && top_k !== null && { topK: top_k as number }),
          });
        },
      );
      expect(failedCases(results)).toEqual([]);
    } finally {
      await classify.dispose();
    }
  });

  it('tower embeddings: embedText and embedImage give the normalized embeddings of model.onnx’s cases', async () => {
    const [embedT, embedI] = await Promise.all([
      embedText(folder, folders.options),
      embedImage(folder, folders.options),
    ]);
    try {
      expectClose(await embedT(ENGLISH), await expected('full-2img-3txt', 'text_embeds'));
      expectClose(await embedT(MULTILINGUAL), await expected('full-3img-5txt-multilingual', 'text_embeds'));
      expectClose(await embedI(IMAGES), await expected('full-2img-3txt', 'image_embeds'));
    } finally {
      await Promise.all([embedT.dispose(), embedI.dispose()]);
    }
  });

  it('similarity gives model.onnx’s logits (its logit_scale measured on the built graph)', async () => {
    const score = await similarity(folder, folders.options);
    try {
      const result = await score(IMAGES, ENGLISH);
      expectClose(result.logits_per_image, await expected('full-2img-3txt', 'logits_per_image'));
      expectClose(result.logits_per_text, await expected('full-2img-3txt', 'logits_per_text'));
    } finally {
      await score.dispose();
    }
  });
});

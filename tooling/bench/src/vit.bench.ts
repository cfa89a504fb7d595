import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyLogits, defaultSessionOptions, toOrtTensor } from '@ortvision/core';
import { fixtureImagePath } from '@ortvision/core/testing';
import { ViTForImageClassification, ViTImageProcessor, imageClassification } from '@ortvision/vit';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { type Suite, type SuiteResult, type Variant, compare } from './harness.js';

// ViT-B/16 end to end on the full-size architecture (models/google/vit-base-patch16-224, from
// shared/bench-models: real compute, regenerated weights): ortvision's task helper, the same split into preprocess / session.run / post-process,
// transformers.js's pipeline on the same graph and image, and the floor (onnxruntime-node session.run on a ready
// tensor). Every ONNX Runtime session gets the same options, so thread counts match.

const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');
// Bench models are stored under their Hub ids so that transformers.js finds them through env.localModelPath.
const modelId = 'google/vit-base-patch16-224';
const modelDir = join(modelsDir, modelId);
const sessionOptions = defaultSessionOptions();

interface TransformersJs {
  pipe: (image: unknown, options?: object) => Promise<unknown>;
  readImage: (bytes: Buffer) => Promise<unknown>;
  preprocess: (image: unknown) => Promise<unknown>;
  dispose: () => Promise<void>;
}

async function transformersJs(): Promise<TransformersJs | undefined> {
  const moduleName = '@huggingface/transformers';
  // biome-ignore lint/suspicious/noExplicitAny: transformers.js is an optional, untyped-at-this-boundary dependency
  let tjs: any;
  try {
    tjs = await import(moduleName);
  } catch {
    return undefined;
  }
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = `${modelsDir}/`;
  const pipe = await tjs.pipeline('image-classification', modelId, {
    device: 'cpu',
    dtype: 'fp32',
    session_options: sessionOptions,
  });
  return {
    pipe: (image, options) => pipe(image, options),
    readImage: (bytes) => tjs.RawImage.fromBlob(new Blob([bytes])),
    preprocess: (image) => pipe.processor(image),
    dispose: () => pipe.dispose(),
  };
}

async function photos(quick: boolean): Promise<{ name: string; bytes: Buffer }[]> {
  const photo640 = await sharp(fixtureImagePath('cats.png')).jpeg({ quality: 90 }).toBuffer();
  if (quick) return [{ name: '640x480 JPEG', bytes: photo640 }];
  const photo1080 = await sharp(fixtureImagePath('chelsea.png'))
    .resize(1920, 1080, { fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return [
    { name: '640x480 JPEG', bytes: photo640 },
    { name: '1920x1080 JPEG', bytes: photo1080 },
  ];
}

export const run: Suite = async ({ quick }) => {
  const classify = await imageClassification(modelDir, { sessionOptions });
  const model = await ViTForImageClassification.fromPretrained(modelDir, { sessionOptions });
  const processor = await ViTImageProcessor.fromPretrained(modelDir);
  const floor = await ort.InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), sessionOptions);
  const tjs = await transformersJs();
  const options = { warmup: quick ? 1 : 2, iterations: quick ? 3 : 10 };
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const { pixel_values } = await processor.preprocess(photo.bytes);
      const ready = toOrtTensor(pixel_values);
      const { logits } = await model.forward({ pixel_values });
      const endToEnd: Variant[] = [
        { name: 'ortvision end to end', run: () => classify(photo.bytes, { topK: 5 }) },
        { name: 'floor: session.run on a ready tensor', run: () => floor.run({ pixel_values: ready }) },
      ];
      if (tjs) {
        endToEnd.push({
          name: 'transformers.js end to end',
          run: async () => tjs.pipe(await tjs.readImage(photo.bytes), { top_k: 5 }),
        });
      }
      results.push(await compare('vit', `ViT-B/16 ${photo.name}: end to end`, endToEnd, options));

      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.preprocess(photo.bytes) },
        { name: 'ortvision session.run (forward)', run: () => model.forward({ pixel_values }) },
        { name: 'ortvision post-process', run: () => classifyLogits(logits, model.config, { topK: 5 }) },
      ];
      if (tjs) {
        split.push({
          name: 'transformers.js decode+preprocess',
          run: async () => tjs.preprocess(await tjs.readImage(photo.bytes)),
        });
      }
      results.push(await compare('vit', `ViT-B/16 ${photo.name}: split`, split, options));
    }
  } finally {
    await classify.dispose();
    await model.dispose();
    await floor.release();
    await tjs?.dispose();
  }
  return results;
};

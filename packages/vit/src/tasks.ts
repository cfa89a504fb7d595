import {
  type ClassifyOptions,
  type FeatureExtractionOptions,
  type ImagesInput,
  type LabelScore,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  type Tensor,
  classifyImages,
  extractImageFeatures,
  makePipeline,
  resolveModel,
} from '@ortvision/core';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification, ViTModel } from './modeling.js';

export interface ViTTaskOptions extends PretrainedOptions {
  /** The image processor; by default read from the model's folder or Hub id. */
  processor?: ViTImageProcessor;
}

/**
 * The image-classification pipeline: image(s) -> `[{ label, score }]` best first, exactly as transformers'
 * pipeline (softmax, or sigmoid for multi-label models; `topK` default 5, clipped to the label count). A list of
 * images gives one list per image.
 *
 * @example
 * ```ts
 * import { imageClassification } from '@ortvision/vit';
 * const classify = await imageClassification('google/vit-base-patch16-224', { device: 'auto' });
 * console.log(await classify('cat.png', { topK: 3 })); // [{ label: 'tabby, tabby cat', score: 0.93 }, ...]
 * await classify.dispose();
 * ```
 */
export async function imageClassification(
  model: ModelSource<ViTForImageClassification>,
  { processor, ...options }: ViTTaskOptions = {},
): Promise<
  Pipeline<(images: ImagesInput, options?: ClassifyOptions) => Promise<LabelScore[] | LabelScore[][]>>
> {
  const loaded = await resolveModel(
    model,
    (id, o) => ViTForImageClassification.fromPretrained(id, o),
    options,
  );
  const imageProcessor =
    processor ?? (await ViTImageProcessor.fromPretrained(loaded.model.nameOrPath, options));
  return makePipeline(
    (images: ImagesInput, classify?: ClassifyOptions) =>
      classifyImages(loaded.model, imageProcessor, images, classify),
    async () => {
      if (loaded.owned) await loaded.model.dispose();
    },
  );
}

/**
 * Image features from a `ViTModel`: `pooler_output` [batch, hidden] by default, or `last_hidden_state`
 * [batch, tokens, hidden] with `pool: false`.
 *
 * @example
 * ```ts
 * import { imageFeatureExtraction } from '@ortvision/vit';
 * const embed = await imageFeatureExtraction('google/vit-base-patch16-224-in21k');
 * const features = await embed(['a.png', 'b.png']); // Tensor [2, 768]
 * ```
 */
export async function imageFeatureExtraction(
  model: ModelSource<ViTModel>,
  { processor, ...options }: ViTTaskOptions = {},
): Promise<
  Pipeline<(images: ImagesInput, options?: FeatureExtractionOptions) => Promise<Tensor<'float32'>>>
> {
  const loaded = await resolveModel(model, (id, o) => ViTModel.fromPretrained(id, o), options);
  const imageProcessor =
    processor ?? (await ViTImageProcessor.fromPretrained(loaded.model.nameOrPath, options));
  return makePipeline(
    (images: ImagesInput, extract?: FeatureExtractionOptions) =>
      extractImageFeatures(loaded.model, imageProcessor, images, extract),
    async () => {
      if (loaded.owned) await loaded.model.dispose();
    },
  );
}

import {
  type ImageClassificationTask,
  type ImageFeatureExtractionTask,
  imageClassificationTask,
  imageFeatureExtractionTask,
} from '@ortvision/core';
import { ViTImageProcessor } from './image-processing.js';
import { ViTForImageClassification, ViTModel } from './modeling.js';

/**
 * The image-classification pipeline: image(s) -> `[{ label, score }]` best first, exactly as transformers'
 * pipeline (softmax, or sigmoid for multi-label models; `topK` default 5, clipped to the label count). A list of
 * images gives one list per image. Pass a Hub id or folder (the pipeline owns the model) or a loaded model (you
 * keep it), and optionally `processor`.
 *
 * @example
 * ```ts
 * import { imageClassification } from '@ortvision/vit';
 * const classify = await imageClassification('google/vit-base-patch16-224', { device: 'auto' });
 * console.log(await classify('cat.png', { topK: 3 })); // [{ label: 'tabby, tabby cat', score: 0.93 }, ...]
 * await classify.dispose();
 * ```
 */
export const imageClassification: ImageClassificationTask<ViTForImageClassification, ViTImageProcessor> =
  imageClassificationTask(
    (id, options) => ViTForImageClassification.fromPretrained(id, options),
    (id, options) => ViTImageProcessor.fromPretrained(id, options),
  );

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
export const imageFeatureExtraction: ImageFeatureExtractionTask<ViTModel, ViTImageProcessor> =
  imageFeatureExtractionTask(
    (id, options) => ViTModel.fromPretrained(id, options),
    (id, options) => ViTImageProcessor.fromPretrained(id, options),
  );

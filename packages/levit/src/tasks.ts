import {
  type ImageClassificationTask,
  type ImageFeatureExtractionTask,
  fromPretrainedByArchitecture,
  imageClassificationTask,
  imageFeatureExtractionTask,
} from '@ortvision/core';
import { LevitImageProcessor } from './image-processing.js';
import {
  LevitForImageClassification,
  LevitForImageClassificationWithTeacher,
  LevitModel,
} from './modeling.js';

/** Either classification head: with a teacher, `logits` is already the mean of both heads. */
export type LevitClassifier = LevitForImageClassification | LevitForImageClassificationWithTeacher;

/**
 * The image-classification pipeline for LeViT: image -> `[{ label, score }]` best first, as transformers' pipeline
 * (`topK` default 5); a list of images gives one such list per image. A Hub id or folder loads
 * `LevitForImageClassificationWithTeacher` when config.json's `architectures` says so,
 * `LevitForImageClassification` otherwise (both graphs output `logits`). Every call takes `{ signal }`.
 *
 * @example
 * ```ts
 * import { imageClassification } from '@ortvision/levit';
 * const classify = await imageClassification('facebook/levit-256');
 * console.log(await classify('cat.png', { topK: 3 }));
 * await classify.dispose();
 * ```
 */
export const imageClassification: ImageClassificationTask<LevitClassifier, LevitImageProcessor> =
  imageClassificationTask(
    (id, options) =>
      fromPretrainedByArchitecture<LevitClassifier>(
        id,
        options,
        { LevitForImageClassification, LevitForImageClassificationWithTeacher },
        'LevitForImageClassification',
      ),
    (id, options) => LevitImageProcessor.fromPretrained(id, options),
  );

/**
 * Image features from a `LevitModel`: `pooler_output` [batch, hidden_sizes[-1]] by default, or
 * `last_hidden_state` [batch, tokens, hidden] with `pool: false`.
 *
 * @example
 * ```ts
 * import { imageFeatureExtraction } from '@ortvision/levit';
 * const embed = await imageFeatureExtraction('./levit-base');
 * const features = await embed('cat.png'); // Tensor [1, hidden]
 * ```
 */
export const imageFeatureExtraction: ImageFeatureExtractionTask<LevitModel, LevitImageProcessor> =
  imageFeatureExtractionTask(
    (id, options) => LevitModel.fromPretrained(id, options),
    (id, options) => LevitImageProcessor.fromPretrained(id, options),
  );

import { InputShapeError } from '../errors.js';
import type { ResolveOptions } from '../hub/resolve.js';
import type { ImageProcessorOutput, PreprocessOptions } from '../image/image-processor.js';
import type { Image } from '../image/image.js';
import type { ImageInput } from '../image/load.js';
import {
  CLASSIFY_OPTIONS,
  type ClassificationConfig,
  type ClassifyOptions,
  type LabelScore,
  classifyLogits,
} from '../post-processing/classification.js';
import type { NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { optionNames } from '../validation/option-names.js';
import {
  type BatchedTaskFunction,
  type Loader,
  type TaskFunction,
  type TaskHelper,
  type TaskLoadOptions,
  batchedTaskCall,
  defineTask,
  imageInputs,
  prepareInputs,
  taskCall,
} from './task.js';

/** One image, or several (the result then has one entry per image, in order). */
export type ImagesInput = ImageInput | readonly ImageInput[];

/** What the shared image tasks need of an image processor. */
export interface ImagePreprocessing {
  preprocess(images: ImageInput | ImageInput[], options?: PreprocessOptions): Promise<ImageProcessorOutput>;
}

/** What the shared image tasks need of a model: a config and a forward pass on pixel_values. */
export interface PixelModel {
  readonly config: ClassificationConfig;
  forward(inputs: { pixel_values: Tensor<'float32'> }): Promise<NamedTensors>;
}

/** A model that task helpers can load and release. */
export interface LoadablePixelModel extends PixelModel {
  readonly nameOrPath: string;
  dispose(): Promise<void>;
}

/**
 * Image classification as transformers' pipeline computes it on decoded images: preprocess, forward, rank
 * `logits` with `classifyLogits` (softmax or sigmoid, stable sort, topK). One list of `{ label, score }` per image.
 */
export async function classifyImages(
  model: PixelModel,
  processor: ImagePreprocessing,
  images: Image[],
  options: ClassifyOptions = {},
): Promise<LabelScore[][]> {
  const { pixel_values } = await processor.preprocess(images);
  const { logits } = await model.forward({ pixel_values });
  if (!logits || logits.dtype !== 'float32') {
    throw new InputShapeError(
      "the model returned no float32 'logits' output: is it a model for image classification?",
    );
  }
  return classifyLogits(logits as Tensor<'float32'>, model.config, options);
}

export interface FeatureExtractionOptions {
  /** Pooled features [batch, hidden] (`pooler_output`, default) or per-token features (`last_hidden_state`). */
  pool?: boolean;
}

/** The keys of `FeatureExtractionOptions`. */
export const FEATURE_EXTRACTION_OPTIONS = optionNames<FeatureExtractionOptions>({ pool: true });

/**
 * Image features: preprocess, forward, and `pooler_output` ([batch, hidden]) or, with `pool: false`,
 * `last_hidden_state` ([batch, tokens, hidden]).
 */
export async function extractImageFeatures(
  model: PixelModel,
  processor: ImagePreprocessing,
  images: Image[],
  { pool = true }: FeatureExtractionOptions = {},
): Promise<Tensor<'float32'>> {
  const { pixel_values } = await processor.preprocess(images);
  const outputs = await model.forward({ pixel_values });
  const name = pool ? 'pooler_output' : 'last_hidden_state';
  const features = outputs[name];
  if (!features) {
    throw new InputShapeError(
      `the model's graph has no ${name} output (it has: ${Object.keys(outputs).join(', ')})${pool ? '; use pool: false for per-token features' : ''}`,
    );
  }
  return features as Tensor<'float32'>;
}

/** The parts an image task loads beside its model. */
export interface ImageTaskParts<P> {
  /** The image processor; by default read from the model's folder or Hub id. */
  processor: P;
}

/** A task helper's loading options with an optional ready-made `processor`. */
export type ImageTaskOptions<P> = TaskLoadOptions<ImageTaskParts<P>>;

/** The classification function: one image gives `LabelScore[]`, a list gives one `LabelScore[]` per image. */
export type ImageClassificationFunction = BatchedTaskFunction<ImageInput, [], ClassifyOptions, LabelScore[]>;

/** The feature-extraction function: one image or a list in, one tensor [batch, ...] out. */
export type ImageFeatureExtractionFunction = TaskFunction<
  [images: ImagesInput],
  FeatureExtractionOptions,
  Tensor<'float32'>
>;

/** The classification task helper a model package exports, for any image classification model class. */
export type ImageClassificationTask<M, P> = TaskHelper<
  M,
  ImageTaskParts<P>,
  object,
  ImageClassificationFunction
>;

/** The feature-extraction task helper a model package exports. */
export type ImageFeatureExtractionTask<M, P> = TaskHelper<
  M,
  ImageTaskParts<P>,
  object,
  ImageFeatureExtractionFunction
>;

/**
 * Builds a package's `imageClassification` task helper from its model and processor loaders, so that every
 * image classification model ranks labels the same way (`classifyImages`).
 *
 * @example
 * export const imageClassification = imageClassificationTask(
 *   (id, options) => ViTForImageClassification.fromPretrained(id, options),
 *   (id, options) => ViTImageProcessor.fromPretrained(id, options),
 * );
 */
export function imageClassificationTask<M extends LoadablePixelModel, P extends ImagePreprocessing>(
  loadModel: Loader<M>,
  loadProcessor: Loader<P, ResolveOptions>,
): ImageClassificationTask<M, P> {
  return defineTask({
    name: 'imageClassification',
    model: loadModel,
    parts: { processor: loadProcessor },
    create: ({ model, parts }) =>
      batchedTaskCall({
        name: 'imageClassification',
        input: imageInputs,
        arity: 0,
        options: CLASSIFY_OPTIONS,
        run: (images, _args, options) => classifyImages(model, parts.processor, images, options),
      }),
  });
}

/**
 * Builds a package's `imageFeatureExtraction` task helper from its model and processor loaders.
 *
 * @example
 * export const imageFeatureExtraction = imageFeatureExtractionTask(
 *   (id, options) => ViTModel.fromPretrained(id, options),
 *   (id, options) => ViTImageProcessor.fromPretrained(id, options),
 * );
 */
export function imageFeatureExtractionTask<M extends LoadablePixelModel, P extends ImagePreprocessing>(
  loadModel: Loader<M>,
  loadProcessor: Loader<P, ResolveOptions>,
): ImageFeatureExtractionTask<M, P> {
  return defineTask({
    name: 'imageFeatureExtraction',
    model: loadModel,
    parts: { processor: loadProcessor },
    create: ({ model, parts }) =>
      taskCall({
        name: 'imageFeatureExtraction',
        arity: 1,
        options: FEATURE_EXTRACTION_OPTIONS,
        run: async ([images]: [ImagesInput], options, context) => {
          const { items } = await prepareInputs(imageInputs, images, context, 'imageFeatureExtraction');
          return extractImageFeatures(model, parts.processor, items, options);
        },
      }),
  });
}

import { InputShapeError } from '../errors.js';
import type { ModelRepo } from '../hub/model-repo.js';
import type { ImageProcessorOutput, PreprocessOptions } from '../image/image-processor.js';
import type { ImageInput } from '../image/load.js';
import {
  type ClassificationConfig,
  type ClassifyOptions,
  type LabelScore,
  classifyLogits,
} from '../post-processing/classification.js';
import type { NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ModelSource, type Pipeline, makePipeline, resolveModel } from './pipeline.js';
import type { PretrainedOptions } from './pretrained-model.js';

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

function asList(images: ImagesInput): { list: ImageInput[]; single: boolean } {
  const single = !Array.isArray(images);
  const list = single ? [images as ImageInput] : [...(images as readonly ImageInput[])];
  if (list.length === 0) throw new InputShapeError('expected at least one image, got an empty list');
  return { list, single };
}

/**
 * Image classification as transformers' pipeline computes it: preprocess, forward, rank `logits` with
 * `classifyLogits` (softmax or sigmoid, stable sort, topK). One image gives a list of `{ label, score }`; a list of
 * images gives one such list per image.
 */
export async function classifyImages(
  model: PixelModel,
  processor: ImagePreprocessing,
  images: ImagesInput,
  options: ClassifyOptions = {},
): Promise<LabelScore[] | LabelScore[][]> {
  const { list, single } = asList(images);
  const { pixel_values } = await processor.preprocess(list);
  const { logits } = await model.forward({ pixel_values });
  if (!logits || logits.dtype !== 'float32') {
    throw new InputShapeError(
      "the model returned no float32 'logits' output: is it a model for image classification?",
    );
  }
  const ranked = classifyLogits(logits as Tensor<'float32'>, model.config, options);
  return single ? ranked[0]! : ranked;
}

export interface FeatureExtractionOptions {
  /** Pooled features [batch, hidden] (`pooler_output`, default) or per-token features (`last_hidden_state`). */
  pool?: boolean;
}

/**
 * Image features: preprocess, forward, and `pooler_output` ([batch, hidden]) or, with `pool: false`,
 * `last_hidden_state` ([batch, tokens, hidden]).
 */
export async function extractImageFeatures(
  model: PixelModel,
  processor: ImagePreprocessing,
  images: ImagesInput,
  { pool = true }: FeatureExtractionOptions = {},
): Promise<Tensor<'float32'>> {
  const { list } = asList(images);
  const { pixel_values } = await processor.preprocess(list);
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

/** A model that task helpers can load and release. */
export interface LoadablePixelModel extends PixelModel {
  readonly nameOrPath: string;
  /** The files it was loaded from, so that its processor comes from the same snapshot. */
  readonly repo?: ModelRepo | undefined;
  dispose(): Promise<void>;
}

export interface ImageTaskOptions<P> extends PretrainedOptions {
  /** The image processor; by default read from the model's folder or Hub id. */
  processor?: P;
}

type Loader<T> = (idOrPath: string, options: PretrainedOptions) => Promise<T>;

/** The classification task function a model package exports, for any image classification model class. */
export type ImageClassificationTask<M, P> = (
  model: ModelSource<M>,
  options?: ImageTaskOptions<P>,
) => Promise<
  Pipeline<(images: ImagesInput, options?: ClassifyOptions) => Promise<LabelScore[] | LabelScore[][]>>
>;

/** The feature-extraction task function a model package exports. */
export type ImageFeatureExtractionTask<M, P> = (
  model: ModelSource<M>,
  options?: ImageTaskOptions<P>,
) => Promise<
  Pipeline<(images: ImagesInput, options?: FeatureExtractionOptions) => Promise<Tensor<'float32'>>>
>;

async function loadModelAndProcessor<M extends LoadablePixelModel, P>(
  source: ModelSource<M>,
  loadModel: Loader<M>,
  loadProcessor: Loader<P>,
  { processor, ...options }: ImageTaskOptions<P>,
) {
  const loaded = await resolveModel(source, loadModel, options);
  try {
    // From the model's own snapshot: the same commit, and no second question to the Hub.
    const imageProcessor =
      processor ?? (await loadProcessor(loaded.model.nameOrPath, { ...options, repo: loaded.model.repo }));
    return {
      ...loaded,
      imageProcessor,
      release: async () => (loaded.owned ? loaded.model.dispose() : undefined),
    };
  } catch (error) {
    if (loaded.owned) await loaded.model.dispose();
    throw error;
  }
}

/** A task helper over one of the shared image functions: load the model and its processor, wrap `run`. */
function imageTask<M extends LoadablePixelModel, P extends ImagePreprocessing, O, R>(
  loadModel: Loader<M>,
  loadProcessor: Loader<P>,
  run: (model: M, processor: P, images: ImagesInput, options?: O) => Promise<R>,
) {
  return async (source: ModelSource<M>, options: ImageTaskOptions<P> = {}) => {
    const { model, imageProcessor, release } = await loadModelAndProcessor(
      source,
      loadModel,
      loadProcessor,
      options,
    );
    return makePipeline(
      (images: ImagesInput, callOptions?: O) => run(model, imageProcessor, images, callOptions),
      release,
    );
  };
}

/**
 * Builds a package's `imageClassification` task helper from its model and processor loaders, so that every
 * image classification model ranks labels the same way (`classifyImages`).
 */
export function imageClassificationTask<M extends LoadablePixelModel, P extends ImagePreprocessing>(
  loadModel: Loader<M>,
  loadProcessor: Loader<P>,
): ImageClassificationTask<M, P> {
  return imageTask(loadModel, loadProcessor, classifyImages);
}

/** Builds a package's `imageFeatureExtraction` task helper from its model and processor loaders. */
export function imageFeatureExtractionTask<M extends LoadablePixelModel, P extends ImagePreprocessing>(
  loadModel: Loader<M>,
  loadProcessor: Loader<P>,
): ImageFeatureExtractionTask<M, P> {
  return imageTask(loadModel, loadProcessor, extractImageFeatures);
}

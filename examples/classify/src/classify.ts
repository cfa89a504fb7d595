import {
  type DeviceOption,
  type ImageClassificationFunction,
  ModelNotFoundError,
  type Pipeline,
  PretrainedConfig,
  type PretrainedOptions,
} from '@ortvision/core';

type Classifier = Pipeline<ImageClassificationFunction>;
type ClassifierLoader = (idOrPath: string, options: PretrainedOptions) => Promise<Classifier>;

// One entry per package with an image classification task; each is imported only when its model is asked for.
const packages: Record<string, () => Promise<ClassifierLoader>> = {
  vit: async () => (await import('@ortvision/vit')).imageClassification,
  levit: async () => (await import('@ortvision/levit')).imageClassification,
  perceiver: async () => (await import('@ortvision/perceiver')).imageClassification,
};

/** Loads the image classifier of whatever package handles the model's `model_type`. */
export async function loadClassifier(
  idOrPath: string,
  options: PretrainedOptions & { device?: DeviceOption },
): Promise<{ classify: Classifier; modelType: string }> {
  const config = await PretrainedConfig.fromPretrained(idOrPath, options);
  const load = packages[config.model_type];
  if (!load) {
    throw new ModelNotFoundError(
      `${idOrPath} is a '${config.model_type}' model; this example classifies with ${Object.keys(packages).join(', ')}`,
    );
  }
  return { classify: await (await load())(idOrPath, options), modelType: config.model_type };
}

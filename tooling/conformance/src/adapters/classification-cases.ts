import {
  type ClassifyOptions,
  type ImagesInput,
  type LabelScore,
  type NamedTensors,
  type Tensor,
  classifyOptionsFromKwargs,
} from '@ortvision/core';
import type { ModelCase, PipelineCase, ResultValue } from '@ortvision/core/testing';
import type { CaseContext } from '../adapter.js';

/** A model class's `fromPretrained` + `forward`, as every image model package has them. */
interface ModelClass {
  fromPretrained(
    idOrPath: string,
  ): Promise<{ forward(inputs: never): Promise<NamedTensors>; dispose(): Promise<void> }>;
}

/**
 * Runs a model case through the package's model class (picked by the graph's `describes`), so that the
 * conformance runner exercises `fromPretrained` + `forward` rather than a bare session.
 */
export async function runModelCase(
  classes: Record<string, ModelClass>,
  testCase: ModelCase,
  context: CaseContext,
): Promise<NamedTensors> {
  const describes = context.fixture.manifest.graphs[testCase.graph]?.describes ?? '';
  const ModelClass = classes[describes];
  if (!ModelClass) throw new Error(`no model class for graph ${testCase.graph} (describes ${describes})`);
  const model = await ModelClass.fromPretrained(context.fixture.dir);
  try {
    const feeds: Record<string, Tensor> = {};
    for (const [name, file] of Object.entries(testCase.feeds)) feeds[name] = await context.readNpy(file);
    return await model.forward(feeds as never);
  } finally {
    await model.dispose();
  }
}

type Classify = (images: ImagesInput, options?: ClassifyOptions) => Promise<LabelScore[] | LabelScore[][]>;

/** Runs an image-classification pipeline case through a task helper loaded on the fixture folder. */
export async function runClassificationCase(
  load: (idOrPath: string) => Promise<Classify & { dispose(): Promise<void> }>,
  testCase: PipelineCase,
  context: CaseContext,
): Promise<ResultValue> {
  const classify = await load(context.fixture.dir);
  try {
    const images = (testCase.inputs.images as string[]).map(context.imagePath);
    return (await classify(
      images.length === 1 ? images[0]! : images,
      classifyOptionsFromKwargs(testCase.kwargs),
    )) as unknown as ResultValue;
  } finally {
    await classify.dispose();
  }
}

import { type NamedTensors, Tensor } from '@ortvision/core';
import type { JsonValue, PostprocessCase, ResultValue } from '@ortvision/core/testing';
import {
  Mask2FormerForUniversalSegmentation,
  Mask2FormerImageProcessor,
  type Mask2FormerOutputs,
  type Segment,
  imageSegmentation,
  imageSegmentationOptionsFromKwargs,
  preprocessOptionsFromKwargs,
  segmentationOptionsFromKwargs,
} from '@ortvision/mask2former';
import { type CaseContext, type ConformanceAdapter, UnsupportedCaseError } from '../adapter.js';

// Loaded once per fixture folder and reused across its cases; released by `dispose`.
const models = new Map<string, Promise<Mask2FormerForUniversalSegmentation>>();
const processors = new Map<string, Promise<Mask2FormerImageProcessor>>();

function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value;
}

const modelOf = (context: CaseContext) =>
  once(models, context.fixture.dir, () =>
    Mask2FormerForUniversalSegmentation.fromPretrained(context.fixture.dir),
  );
const processorOf = (context: CaseContext) =>
  once(processors, context.fixture.dir, () => Mask2FormerImageProcessor.fromPretrained(context.fixture.dir));

function imageNames(value: JsonValue | undefined): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new UnsupportedCaseError(`images must be a list of file names, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

async function caseOutputs(testCase: PostprocessCase, context: CaseContext): Promise<Mask2FormerOutputs> {
  const read = async (name: string) => {
    const file = testCase.inputs[name];
    if (typeof file !== 'string') throw new UnsupportedCaseError(`post-process case without input ${name}`);
    return (await context.readNpy(file)) as Tensor<'float32'>;
  };
  return {
    class_queries_logits: await read('class_queries_logits'),
    masks_queries_logits: await read('masks_queries_logits'),
  };
}

/** Pipeline segments as JSON: masks as uint8 [H, W] tensors (the manifest stores them as .npy). */
function segmentsJson(segments: Segment[]): ResultValue {
  return segments.map(({ score, label, mask }) => ({
    score,
    label,
    mask: new Tensor('uint8', mask.data, [mask.height, mask.width]),
  }));
}

/** mask2former fixtures: every processor, model, post-process and pipeline case through @ortvision/mask2former. */
const adapter: ConformanceAdapter = {
  processor: {
    Mask2FormerImageProcessor: async (testCase, context) => {
      const processor = await processorOf(context);
      const images = imageNames(testCase.inputs.images).map((name) => context.imagePath(name));
      const { pixel_values, pixel_mask } = await processor.preprocess(
        images,
        preprocessOptionsFromKwargs(testCase.kwargs),
      );
      return { pixel_values, pixel_mask };
    },
  },
  model: async (testCase, context) => {
    const model = await modelOf(context);
    const file = testCase.feeds.pixel_values;
    if (file === undefined)
      throw new UnsupportedCaseError('Mask2Former model cases need a pixel_values feed');
    const outputs = await model.forward({
      pixel_values: (await context.readNpy(file)) as Tensor<'float32'>,
    });
    return outputs as NamedTensors;
  },
  postprocess: {
    'Mask2FormerImageProcessor.post_process_semantic_segmentation': async (testCase, context) =>
      (await processorOf(context)).postProcessSemanticSegmentation(
        await caseOutputs(testCase, context),
        segmentationOptionsFromKwargs(testCase.kwargs),
      ) as unknown as JsonValue,
    'Mask2FormerImageProcessor.post_process_instance_segmentation': async (testCase, context) =>
      (await processorOf(context)).postProcessInstanceSegmentation(
        await caseOutputs(testCase, context),
        segmentationOptionsFromKwargs(testCase.kwargs),
      ) as unknown as JsonValue,
    'Mask2FormerImageProcessor.post_process_panoptic_segmentation': async (testCase, context) =>
      (await processorOf(context)).postProcessPanopticSegmentation(
        await caseOutputs(testCase, context),
        segmentationOptionsFromKwargs(testCase.kwargs),
      ) as unknown as JsonValue,
  },
  pipeline: {
    'image-segmentation': async (testCase, context) => {
      const [image, ...more] = imageNames(testCase.inputs.images);
      if (image === undefined || more.length > 0) {
        throw new UnsupportedCaseError('image-segmentation cases take one image');
      }
      const segment = await imageSegmentation(await modelOf(context));
      return segmentsJson(
        await segment(context.imagePath(image), imageSegmentationOptionsFromKwargs(testCase.kwargs)),
      ) as JsonValue;
    },
  },
  async dispose() {
    const loaded = [...models.values()];
    models.clear();
    processors.clear();
    await Promise.all(loaded.map(async (model) => (await model).dispose()));
  },
};

export default adapter;

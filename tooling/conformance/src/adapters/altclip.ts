import {
  AltCLIPModel,
  AltCLIPProcessor,
  CLIPImageProcessor,
  modelClasses,
  processorOptionsFromKwargs,
  similarityFromEmbeddings,
  zeroShotImageClassification,
} from '@ortvision/altclip';
import type { NamedTensors, Tensor } from '@ortvision/core';
import type { JsonValue } from '@ortvision/core/testing';
import { type CaseContext, type ConformanceAdapter, UnsupportedCaseError } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

// Loaded once per fixture folder and reused across its cases; released by `dispose`.
const models = new Map<string, Promise<AltCLIPModel>>();
const processors = new Map<string, Promise<AltCLIPProcessor>>();
const classifiers = new Map<string, ReturnType<typeof zeroShotImageClassification>>();

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
    AltCLIPModel.fromPretrained(context.fixture.dir, { ...context.modelOptions, loading: 'lazy' }),
  );
const processorOf = (context: CaseContext) =>
  once(processors, context.fixture.dir, () => AltCLIPProcessor.fromPretrained(context.fixture.dir));

function strings(value: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${what} must be a list of strings, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

function checkInputNames(names: readonly string[], testCase: { inputs: Record<string, JsonValue> }): void {
  const unknown = Object.keys(testCase.inputs).filter((k) => !names.includes(k));
  if (unknown.length > 0) throw new UnsupportedCaseError(`unknown inputs ${unknown.join(', ')}`);
}

/** altclip fixtures: every processor, model, post-process and pipeline case through @ortvision/altclip. */
const adapter: ConformanceAdapter = {
  classes: modelClasses,
  processor: {
    AltCLIPProcessor: async (testCase, context) => {
      const processor = await processorOf(context);
      const { text, images, ...rest } = testCase.inputs;
      if (Object.keys(rest).length > 0) {
        throw new UnsupportedCaseError(`AltCLIPProcessor has no input ${Object.keys(rest).join(', ')}`);
      }
      const outputs = await processor.process({
        ...(text !== undefined ? { text: strings(text, 'text') } : {}),
        ...(images !== undefined
          ? { images: strings(images, 'images').map((name) => context.imagePath(name)) }
          : {}),
        ...processorOptionsFromKwargs(testCase.kwargs),
      });
      return outputs as NamedTensors;
    },
    CLIPImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await CLIPImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
  },

  model: async (testCase, context): Promise<NamedTensors> => {
    const model = await modelOf(context);
    const feeds: Record<string, Tensor> = {};
    for (const [name, file] of Object.entries(testCase.feeds)) feeds[name] = await context.readNpy(file);
    const { input_ids, attention_mask, pixel_values } = feeds as {
      input_ids: Tensor<'int64'>;
      attention_mask?: Tensor<'int64'>;
      pixel_values: Tensor<'float32'>;
    };
    switch (testCase.graph) {
      case 'onnx/model.onnx':
        return { ...(await model.forward({ input_ids, attention_mask, pixel_values })) };
      case 'onnx/text_model.onnx':
        return { text_embeds: await model.getTextFeatures({ input_ids, attention_mask }) };
      case 'onnx/vision_model.onnx':
        return { image_embeds: await model.getImageFeatures({ pixel_values }) };
      default:
        throw new UnsupportedCaseError(`AltCLIPModel has no graph ${testCase.graph}`);
    }
  },

  postprocess: {
    altclip_similarity: async (testCase, context) => {
      checkInputNames(['text_embeds', 'image_embeds'], testCase);
      const text = await context.readNpy(testCase.inputs.text_embeds as string);
      const image = await context.readNpy(testCase.inputs.image_embeds as string);
      const logitScale = testCase.kwargs.logit_scale;
      if (typeof logitScale !== 'number') throw new Error('altclip_similarity needs kwargs.logit_scale');
      const result = similarityFromEmbeddings(text as Tensor<'float32'>, image as Tensor<'float32'>, {
        logitScale,
      });
      // nested lists, as the manifest writes matrices
      return Object.fromEntries(Object.entries(result).map(([name, tensor]) => [name, tensor.toNested()]));
    },
    'AltCLIPProcessor.batch_decode': async (testCase, context) => {
      checkInputNames(['input_ids'], testCase);
      const { skip_special_tokens = false, ...rest } = testCase.kwargs;
      if (Object.keys(rest).length > 0)
        throw new UnsupportedCaseError(`unknown kwargs ${Object.keys(rest).join(', ')}`);
      const ids = (await context.readNpy(testCase.inputs.input_ids as string)) as Tensor<'int64'>;
      return (await processorOf(context)).batchDecode(ids, {
        skipSpecialTokens: skip_special_tokens as boolean,
      });
    },
  },

  pipeline: {
    'zero-shot-image-classification': async (testCase, context) => {
      const { candidate_labels, hypothesis_template, top_k, ...rest } = testCase.kwargs;
      if (Object.keys(rest).length > 0)
        throw new UnsupportedCaseError(`unknown kwargs ${Object.keys(rest).join(', ')}`);
      const classify = await once(classifiers, context.fixture.dir, async () =>
        zeroShotImageClassification(await modelOf(context), { processor: await processorOf(context) }),
      );
      const images = strings(testCase.inputs.images, 'images').map((name) => context.imagePath(name));
      const options = {
        ...(hypothesis_template !== undefined ? { hypothesisTemplate: hypothesis_template as string } : {}),
        ...(top_k !== undefined && top_k !== null ? { topK: top_k as number } : {}),
      };
      const labels = strings(candidate_labels, 'candidate_labels');
      // One image file is the pipeline's single-image call (a flat list); several give one list per image.
      const result = await classify(images.length === 1 ? images[0]! : images, labels, options);
      return result as unknown as JsonValue;
    },
  },

  async dispose() {
    const pending = [...classifiers.values()];
    const loaded = [...models.values()];
    classifiers.clear();
    models.clear();
    processors.clear();
    await Promise.allSettled(pending.map(async (p) => (await p).dispose()));
    await Promise.allSettled(loaded.map(async (m) => (await m).dispose()));
  },
};

export default adapter;

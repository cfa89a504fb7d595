import {
  type ImageInput,
  type NamedTensors,
  type Tensor,
  loadImage,
  preprocessOptionsFromKwargs,
} from '@ortvision/core';
import type { JsonValue, ProcessorCase, ResultValue } from '@ortvision/core/testing';
import {
  Owlv2ForObjectDetection,
  Owlv2ImageProcessor,
  type Owlv2ProcessOptions,
  Owlv2Processor,
  type Owlv2TextInput,
  Owlv2TextModel,
  Owlv2VisionModel,
  type TargetSizes,
  zeroShotObjectDetection,
} from '@ortvision/owlv2';
import { type CaseContext, type ConformanceAdapter, UnsupportedCaseError } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

// Loaded once per fixture folder and reused across its cases; released by `dispose`.
const cache = new Map<string, Promise<{ dispose?(): Promise<void> } | object>>();

function once<T extends object>(key: string, load: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = load();
    cache.set(key, value);
  }
  return value as Promise<T>;
}

const lazy = { loading: 'lazy' } as const;
const detectorOf = (c: CaseContext) =>
  once(`det:${c.fixture.dir}`, () => Owlv2ForObjectDetection.fromPretrained(c.fixture.dir, lazy));
const processorOf = (c: CaseContext) =>
  once(`proc:${c.fixture.dir}`, () => Owlv2Processor.fromPretrained(c.fixture.dir));

function strings(value: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${what} must be a list of strings, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

function rejectUnknown(what: string, record: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(record).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new UnsupportedCaseError(`${what}: unknown ${unknown.join(', ')}`);
}

/** Python processor kwargs -> `process` options: tokenizer ones by name, the rest as image-processor overrides. */
function processOptions(kwargs: Record<string, JsonValue>): Owlv2ProcessOptions {
  const { padding, truncation, max_length, ...imageKwargs } = kwargs;
  return {
    ...preprocessOptionsFromKwargs(imageKwargs),
    ...(padding !== undefined ? { padding: padding as Owlv2ProcessOptions['padding'] } : {}),
    ...(truncation !== undefined ? { truncation: truncation as Owlv2ProcessOptions['truncation'] } : {}),
    ...(max_length !== undefined ? { maxLength: max_length as number } : {}),
  };
}

async function owlv2Processor(testCase: ProcessorCase, context: CaseContext): Promise<NamedTensors> {
  rejectUnknown('Owlv2Processor inputs', testCase.inputs, ['text', 'images', 'query_images']);
  const { text, images, query_images } = testCase.inputs;
  const paths = (value: JsonValue | undefined, what: string) =>
    value === undefined ? undefined : strings(value, what).map((n) => context.imagePath(n) as ImageInput);
  const outputs = await (await processorOf(context)).process(
    {
      ...(text !== undefined ? { text: text as Owlv2TextInput } : {}),
      ...(images !== undefined ? { images: paths(images, 'images') } : {}),
      ...(query_images !== undefined ? { queryImages: paths(query_images, 'query_images') } : {}),
    },
    processOptions(testCase.kwargs),
  );
  return outputs as NamedTensors;
}

async function feedsOf(
  testCase: { feeds: Record<string, string> },
  context: CaseContext,
): Promise<NamedTensors> {
  const feeds: NamedTensors = {};
  for (const [name, file] of Object.entries(testCase.feeds)) feeds[name] = await context.readNpy(file);
  return feeds;
}

type Float = Tensor<'float32'>;
type Int = Tensor<'int64'>;

function targetSizes(value: JsonValue | undefined): TargetSizes {
  if (value === undefined || value === null) return null;
  return value as number[][];
}

async function detectionPost(
  testCase: { inputs: Record<string, JsonValue>; kwargs: Record<string, JsonValue> },
  context: CaseContext,
  guided: boolean,
): Promise<ResultValue> {
  const boxes = guided ? 'target_pred_boxes' : 'pred_boxes';
  rejectUnknown('inputs', testCase.inputs, ['logits', boxes]);
  rejectUnknown('kwargs', testCase.kwargs, [
    'threshold',
    'target_sizes',
    ...(guided ? ['nms_threshold'] : []),
  ]);
  const processor = await processorOf(context);
  const outputs = {
    logits: await context.readNpy(testCase.inputs.logits as string),
    [boxes]: await context.readNpy(testCase.inputs[boxes] as string),
  };
  const { threshold, target_sizes, nms_threshold } = testCase.kwargs;
  const options = {
    ...(threshold !== undefined ? { threshold: threshold as number } : {}),
    targetSizes: targetSizes(target_sizes),
  };
  const results = guided
    ? processor.postProcessImageGuidedDetection(outputs, {
        ...options,
        ...(nms_threshold !== undefined ? { nmsThreshold: nms_threshold as number } : {}),
      })
    : processor.postProcessObjectDetection(outputs, options);
  return results as unknown as ResultValue;
}

/** owlv2 fixtures: every processor, model, post-process and pipeline case through @ortvision/owlv2. */
const adapter: ConformanceAdapter = {
  processor: {
    Owlv2ImageProcessor: async (testCase, context) =>
      runImageProcessorCase(await Owlv2ImageProcessor.fromPretrained(context.fixture.dir), testCase, context),
    Owlv2Processor: owlv2Processor,
    CLIPTokenizer: async (testCase, context) => {
      rejectUnknown('CLIPTokenizer inputs', testCase.inputs, ['text']);
      const { padding, truncation, max_length, ...rest } = testCase.kwargs;
      rejectUnknown('CLIPTokenizer kwargs', rest, []);
      const { tokenizer } = await processorOf(context);
      return {
        ...tokenizer.encode(strings(testCase.inputs.text, 'text'), {
          ...(padding !== undefined ? { padding: padding as Owlv2ProcessOptions['padding'] } : {}),
          ...(truncation !== undefined
            ? { truncation: truncation as Owlv2ProcessOptions['truncation'] }
            : {}),
          ...(max_length !== undefined ? { maxLength: max_length as number } : {}),
        }),
      };
    },
  },

  model: async (testCase, context): Promise<NamedTensors> => {
    const feeds = await feedsOf(testCase, context);
    switch (testCase.graph) {
      case 'onnx/model.onnx': {
        const { input_ids, attention_mask, pixel_values } = feeds;
        return (await detectorOf(context)).forward({
          input_ids: input_ids as Int,
          attention_mask: attention_mask as Int,
          pixel_values: pixel_values as Float,
        });
      }
      case 'onnx/text_model.onnx': {
        const model = await once(`text:${context.fixture.dir}`, () =>
          Owlv2TextModel.fromPretrained(context.fixture.dir, lazy),
        );
        return model.forward({
          input_ids: feeds.input_ids as Int,
          attention_mask: feeds.attention_mask as Int,
        });
      }
      case 'onnx/vision_model.onnx': {
        const model = await once(`vision:${context.fixture.dir}`, () =>
          Owlv2VisionModel.fromPretrained(context.fixture.dir, lazy),
        );
        return model.forward({ pixel_values: feeds.pixel_values as Float });
      }
      case 'onnx/class_head.onnx':
        return (await detectorOf(context)).classPredictor(
          feeds.image_embeds as Float,
          feeds.query_embeds as Float,
          feeds.query_mask as Tensor<'bool'>,
        );
      default:
        throw new UnsupportedCaseError(`Owlv2ForObjectDetection has no graph ${testCase.graph}`);
    }
  },

  postprocess: {
    'Owlv2Processor.post_process_object_detection': (c, ctx) => detectionPost(c, ctx, false),
    'Owlv2ImageProcessor.post_process_object_detection': (c, ctx) => detectionPost(c, ctx, false),
    'Owlv2Processor.post_process_image_guided_detection': (c, ctx) => detectionPost(c, ctx, true),
    'Owlv2ImageProcessor.post_process_image_guided_detection': (c, ctx) => detectionPost(c, ctx, true),
  },

  pipeline: {
    'zero-shot-object-detection': async (testCase, context) => {
      rejectUnknown('inputs', testCase.inputs, ['images', 'candidate_labels']);
      rejectUnknown('kwargs', testCase.kwargs, ['threshold', 'top_k']);
      const images = strings(testCase.inputs.images, 'images');
      if (images.length !== 1) throw new UnsupportedCaseError('the pipeline takes one image per call');
      const detect = await once(`zsod:${context.fixture.dir}`, async () =>
        zeroShotObjectDetection(await detectorOf(context)),
      );
      const { threshold, top_k } = testCase.kwargs;
      return (await detect(
        context.imagePath(images[0]!),
        strings(testCase.inputs.candidate_labels, 'labels'),
        {
          ...(threshold !== undefined ? { threshold: threshold as number } : {}),
          ...(top_k !== undefined && top_k !== null ? { topK: top_k as number } : {}),
        },
      )) as unknown as ResultValue;
    },
    // processor -> image_guided_detection (vision graph on both, embed_image_query, class head) -> post-processing
    // with the padded squares of the targets; the expected value holds every intermediate.
    'image-guided-object-detection': async (testCase, context) => {
      rejectUnknown('inputs', testCase.inputs, ['images', 'query_images']);
      const processor = await processorOf(context);
      const model = await detectorOf(context);
      const images = await Promise.all(
        strings(testCase.inputs.images, 'images').map((n) => loadImage(context.imagePath(n))),
      );
      const queryImages = strings(testCase.inputs.query_images, 'query_images').map((n) =>
        context.imagePath(n),
      );
      const inputs = await processor.process({ images, queryImages });
      const out = await model.imageGuidedDetection(inputs.pixel_values!, inputs.query_pixel_values!);
      const { threshold, nms_threshold } = testCase.kwargs;
      const results = processor.postProcessImageGuidedDetection(out, {
        threshold: threshold as number,
        nmsThreshold: nms_threshold as number,
        targetSizes: images.map((image) => {
          const side = Math.max(image.height, image.width);
          return [side, side];
        }),
      });
      return {
        embed_image_query: out.selections.map((s) => ({
          ious: s.ious,
          giou_fallback: s.giouFallback,
          iou_threshold: s.iouThreshold,
          selected_indices: s.selectedIndices,
          mean_class_embed: s.meanClassEmbed,
          mean_sim: s.meanSim,
          best_box_index: s.bestBoxIndex,
          query_embed: s.queryEmbed,
        })),
        query_embeds: out.query_embeds,
        logits: out.logits,
        target_pred_boxes: out.target_pred_boxes,
        query_pred_boxes: out.query_pred_boxes,
        results: results as unknown as ResultValue,
      };
    },
    tokenization: async (testCase, context) => {
      rejectUnknown('inputs', testCase.inputs, ['text']);
      const { tokenizer } = await processorOf(context);
      return strings(testCase.inputs.text, 'text').map((t) => tokenizer.encode(t).input_ids.toNumbers());
    },
  },

  async dispose() {
    const pending = [...cache.values()];
    cache.clear();
    await Promise.allSettled(
      pending.map(async (p) => {
        const value = (await p) as { dispose?: () => Promise<void> };
        await value.dispose?.();
      }),
    );
  },
};

export default adapter;

import {
  type Image,
  type NamedTensors,
  type Tensor,
  classifyOptionsFromKwargs,
  loadImage,
} from '@ortvision/core';
import type { JsonValue, PipelineCase, ResultValue } from '@ortvision/core/testing';
import {
  PerceiverConfig,
  PerceiverForImageClassificationConvProcessing,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationLearned,
  PerceiverForMaskedLM,
  PerceiverForMultimodalAutoencoding,
  PerceiverForOpticalFlow,
  PerceiverForSequenceClassification,
  PerceiverImageProcessor,
  PerceiverModel,
  PerceiverTokenizer,
  computeGridIndices,
  decodeOptionsFromKwargs,
  encodeOptionsFromKwargs,
  extractImagePatches,
  fillMask,
  imageClassification,
  multimodalAutoencoding,
  opticalFlow,
  textClassification,
} from '@ortvision/perceiver';
import { type CaseContext, type ConformanceAdapter, UnsupportedCaseError } from '../adapter.js';
import { runImageProcessorCase } from './image-processor-case.js';

/** Model classes by the first word of a graph's `describes` in the manifest. */
const modelClasses = {
  PerceiverModel,
  PerceiverForMaskedLM,
  PerceiverForSequenceClassification,
  PerceiverForImageClassificationLearned,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationConvProcessing,
  PerceiverForOpticalFlow,
  PerceiverForMultimodalAutoencoding,
} as const;

function strings(value: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${what} must be a list of strings, got ${JSON.stringify(value)}`);
  }
  return value as string[];
}

function checkKeys(what: string, object: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(object).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new UnsupportedCaseError(`${what}: unknown ${unknown.join(', ')}`);
}

/** The two frames of a flow case, each cut to its crop [y, x, height, width]. */
async function flowFrames(
  inputs: Record<string, JsonValue>,
  context: CaseContext,
): Promise<[Image, Image, [number, number]]> {
  checkKeys('optical-flow inputs', inputs, ['images', 'crops']);
  const names = strings(inputs.images, 'images');
  const crops = inputs.crops as [number, number, number, number][] | undefined;
  if (names.length !== 2) throw new Error(`a flow case needs two images, got ${names.length}`);
  const frames = await Promise.all(
    names.map(async (name, i) => {
      const image = await loadImage(context.imagePath(name));
      const crop = crops?.[i];
      return crop ? image.crop(crop[1], crop[0], crop[3], crop[2]) : image;
    }),
  );
  return [frames[0]!, frames[1]!, [frames[0]!.height, frames[0]!.width]];
}

const textOf = (testCase: PipelineCase): string | string[] => {
  const texts = strings(testCase.inputs.text, 'text');
  return texts.length === 1 ? texts[0]! : texts;
};

/** perceiver fixtures: every processor, model, post-process and pipeline case through @ortvision/perceiver. */
const adapter: ConformanceAdapter = {
  processor: {
    PerceiverImageProcessor: async (testCase, context) =>
      runImageProcessorCase(
        await PerceiverImageProcessor.fromPretrained(context.fixture.dir),
        testCase,
        context,
      ),
    PerceiverTokenizer: async (testCase, context) => {
      checkKeys('PerceiverTokenizer inputs', testCase.inputs, ['text', 'text_pair']);
      const tokenizer = await PerceiverTokenizer.fromPretrained(context.fixture.dir);
      const { text_pair } = testCase.inputs;
      return tokenizer.encode(strings(testCase.inputs.text, 'text'), {
        ...encodeOptionsFromKwargs(testCase.kwargs),
        ...(text_pair !== undefined ? { textPair: strings(text_pair, 'text_pair') } : {}),
      });
    },
    extract_image_patches: async (testCase, context) => {
      checkKeys('extract_image_patches kwargs', testCase.kwargs, ['kernel']);
      if ((testCase.kwargs.kernel ?? 3) !== 3) throw new UnsupportedCaseError('only 3x3 patches (kernel 3)');
      const [frame1, frame2] = await flowFrames(testCase.inputs, context);
      return { inputs: extractImagePatches(frame1, frame2) };
    },
  },

  model: async (testCase, context): Promise<NamedTensors> => {
    const describes = context.fixture.manifest.graphs[testCase.graph]?.describes ?? '';
    const name = /^\w+/.exec(describes)?.[0] ?? '';
    const ModelClass = modelClasses[name as keyof typeof modelClasses];
    if (!ModelClass)
      throw new UnsupportedCaseError(`no Perceiver class for graph ${testCase.graph} (${describes})`);
    const model = await (ModelClass as typeof PerceiverForMaskedLM).fromPretrained(context.fixture.dir, {
      loading: 'lazy',
    });
    try {
      const feeds: Record<string, Tensor> = {};
      for (const [input, file] of Object.entries(testCase.feeds)) feeds[input] = await context.readNpy(file);
      return { ...(await model.forward(feeds as never)) };
    } finally {
      await model.dispose();
    }
  },

  postprocess: {
    'PerceiverTokenizer.decode': async (testCase, context) => {
      const tokenizer = await PerceiverTokenizer.fromPretrained(context.fixture.dir);
      const ids = (await context.readNpy(testCase.inputs.token_ids as string)) as Tensor<'int64'>;
      return tokenizer.decode(ids, decodeOptionsFromKwargs(testCase.kwargs));
    },
    'PerceiverTokenizer.batch_decode': async (testCase, context) => {
      const tokenizer = await PerceiverTokenizer.fromPretrained(context.fixture.dir);
      const ids = (await context.readNpy(testCase.inputs.sequences as string)) as Tensor<'int64'>;
      return tokenizer.batchDecode(ids, decodeOptionsFromKwargs(testCase.kwargs));
    },
  },

  pipeline: {
    'fill-mask': async (testCase, context) => {
      checkKeys('fill-mask kwargs', testCase.kwargs, ['top_k', 'targets']);
      const fill = await fillMask(context.fixture.dir);
      try {
        const { top_k, targets } = testCase.kwargs;
        return (await fill(textOf(testCase), {
          ...(top_k !== undefined ? { topK: top_k as number } : {}),
          ...(targets !== undefined ? { targets: targets as string | string[] } : {}),
        })) as unknown as ResultValue;
      } finally {
        await fill.dispose();
      }
    },
    // The PerceiverForMaskedLM docs example by hand: mask a byte span, predict it, decode it.
    'fill-mask-span': async (testCase, context) => {
      checkKeys('fill-mask-span kwargs', testCase.kwargs, ['padding', 'mask_start', 'mask_end']);
      const { padding, mask_start, mask_end } = testCase.kwargs;
      const [start, end] = [mask_start as number, mask_end as number];
      const tokenizer = await PerceiverTokenizer.fromPretrained(context.fixture.dir);
      const model = await PerceiverForMaskedLM.fromPretrained(context.fixture.dir);
      try {
        const encoding = tokenizer.encode(textOf(testCase), { padding: padding as 'max_length' | undefined });
        encoding.input_ids.data.fill(BigInt(tokenizer.maskTokenId), start, end);
        const { logits } = await model.forward(encoding);
        const vocab = logits.dims[2]!;
        const predicted: number[] = [];
        for (let p = start; p < end; p++) {
          const row = logits.data.subarray(p * vocab, (p + 1) * vocab);
          predicted.push(row.indexOf(Math.max(...row)));
        }
        return {
          masked_input_ids: Array.from(encoding.input_ids.data, Number),
          predicted_token_ids: predicted,
          predicted_text: tokenizer.decode(predicted),
        };
      } finally {
        await model.dispose();
      }
    },
    'text-classification': async (testCase, context) => {
      checkKeys('text-classification kwargs', testCase.kwargs, ['top_k', 'function_to_apply']);
      const classify = await textClassification(context.fixture.dir);
      try {
        const { top_k, function_to_apply } = testCase.kwargs;
        return (await classify(textOf(testCase), {
          ...('top_k' in testCase.kwargs ? { topK: top_k as number | null } : {}),
          ...(function_to_apply !== undefined ? { functionToApply: function_to_apply as 'softmax' } : {}),
        })) as unknown as ResultValue;
      } finally {
        await classify.dispose();
      }
    },
    'image-classification': async (testCase, context) => {
      const classify = await imageClassification(context.fixture.dir);
      try {
        const images = strings(testCase.inputs.images, 'images').map(context.imagePath);
        return (await classify(
          images.length === 1 ? images[0]! : images,
          classifyOptionsFromKwargs(testCase.kwargs),
        )) as unknown as ResultValue;
      } finally {
        await classify.dispose();
      }
    },
    'optical-flow': async (testCase, context) => {
      checkKeys('optical-flow kwargs', testCase.kwargs, ['min_overlap', 'flow_scale_factor']);
      const { min_overlap, flow_scale_factor } = testCase.kwargs as Record<string, number | undefined>;
      const [frame1, frame2, size] = await flowFrames(testCase.inputs, context);
      const flowOf = await opticalFlow(context.fixture.dir);
      try {
        const flow = await flowOf(frame1, frame2, {
          minOverlap: min_overlap,
          flowScaleFactor: flow_scale_factor,
        });
        const { train_size } = await PerceiverConfig.fromPretrained(context.fixture.dir);
        return {
          grid_indices: computeGridIndices(size, train_size as [number, number], min_overlap),
          // the notebook keeps a batch axis: [1, H, W, 2]
          flow: flow.reshape([1, ...flow.dims]),
        };
      } finally {
        await flowOf.dispose();
      }
    },
    'multimodal-autoencoding': async (testCase, context) => {
      checkKeys('multimodal-autoencoding inputs', testCase.inputs, ['images', 'audio']);
      checkKeys('multimodal-autoencoding kwargs', testCase.kwargs, ['nchunks', 'top_k']);
      const input = (key: string) =>
        context.readNpy((testCase.inputs[key] as { npy: string }).npy) as Promise<Tensor<'float32'>>;
      const autoencode = await multimodalAutoencoding(context.fixture.dir);
      try {
        const { nchunks, top_k } = testCase.kwargs as Record<string, number | undefined>;
        const result = await autoencode(await input('images'), await input('audio'), {
          nchunks,
          topK: top_k,
        });
        return {
          image: result.image,
          audio: result.audio,
          label: result.label.toNested() as ResultValue,
          top_k: result.topK as unknown as ResultValue,
        };
      } finally {
        await autoencode.dispose();
      }
    },
  },
};

export default adapter;

import {
  CLIPSegForImageSegmentation,
  CLIPSegModel,
  CLIPSegProcessor,
  type SegmentationPrompt,
  promptSegmentation,
} from '@ortvision/clipseg';
import {
  type NamedTensors,
  type Padding,
  Tensor,
  type Truncation,
  preprocessOptionsFromKwargs,
} from '@ortvision/core';
import {
  type JsonValue,
  type ModelCase,
  type PipelineCase,
  type ResultValue,
  isNpyReference,
} from '@ortvision/core/testing';
import type { CaseContext, ConformanceAdapter } from '../adapter.js';

// Loaded once per fixture folder and reused across its cases; released by dispose().
interface Loaded {
  processor: Promise<CLIPSegProcessor>;
  segmenter: Promise<CLIPSegForImageSegmentation>;
  clip: Promise<CLIPSegModel>;
  segment: Promise<Awaited<ReturnType<typeof promptSegmentation>>>;
}
const loaded = new Map<string, Loaded>();

function forFixture(context: CaseContext): Loaded {
  const dir = context.fixture.dir;
  let entry = loaded.get(dir);
  if (!entry) {
    // Lazy loading: a fixture without some graph still runs the cases that do not need it.
    const segmenter = CLIPSegForImageSegmentation.fromPretrained(dir, { loading: 'lazy' });
    entry = {
      processor: CLIPSegProcessor.fromPretrained(dir),
      segmenter,
      clip: CLIPSegModel.fromPretrained(dir, { loading: 'lazy' }),
      segment: segmenter.then((model) => promptSegmentation(model)),
    };
    loaded.set(dir, entry);
  }
  return entry;
}

const TOKENIZER_KWARGS = new Set(['padding', 'truncation', 'max_length', 'add_special_tokens']);

function tokenizerOptions(kwargs: Record<string, JsonValue>) {
  return {
    padding: kwargs.padding as Padding | undefined,
    truncation: kwargs.truncation as Truncation | undefined,
    maxLength: kwargs.max_length as number | undefined,
    addSpecialTokens: kwargs.add_special_tokens as boolean | undefined,
  };
}

function imageKwargs(kwargs: Record<string, JsonValue>) {
  return preprocessOptionsFromKwargs(
    Object.fromEntries(Object.entries(kwargs).filter(([key]) => !TOKENIZER_KWARGS.has(key))),
  );
}

function imageList(value: JsonValue | undefined, context: CaseContext): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  return (Array.isArray(value) ? value : [value]).map((name) => context.imagePath(String(name)));
}

function texts(value: JsonValue | undefined): string | string[] | undefined {
  return value === undefined || value === null ? undefined : (value as string | string[]);
}

/** The fixtures keep HF's squeezed logits ([H, W] for one prompt); the model returns [1, H, W]. */
function asStored(logits: Tensor, expectedRank: number): Tensor {
  return expectedRank === 2 && logits.rank === 3 && logits.dims[0] === 1
    ? logits.reshape(logits.dims.slice(1))
    : logits;
}

async function runModelCase(testCase: ModelCase, context: CaseContext): Promise<NamedTensors> {
  const feeds: Record<string, Tensor> = {};
  for (const [name, file] of Object.entries(testCase.feeds)) feeds[name] = await context.readNpy(file);
  const { segmenter, clip } = forFixture(context);
  const logitsRank = async () =>
    testCase.expected.logits ? (await context.readNpy(testCase.expected.logits)).rank : 3;
  switch (testCase.graph) {
    case 'onnx/model.onnx':
    case 'onnx/conditional_model.onnx': {
      const { logits, conditional_embeddings } = await (await segmenter).forward(
        feeds as Parameters<CLIPSegForImageSegmentation['forward']>[0],
        // model.onnx cases run model.onnx; conditional_model cases feed ready embeddings.
        { textRoute: testCase.graph === 'onnx/model.onnx' ? 'model' : 'split' },
      );
      return {
        logits: asStored(logits, await logitsRank()),
        ...(conditional_embeddings && { conditional_embeddings }),
      };
    }
    case 'onnx/text_model.onnx':
      return {
        text_embeds: await (await clip).getTextFeatures(
          feeds as Parameters<CLIPSegModel['getTextFeatures']>[0],
        ),
      };
    case 'onnx/vision_model.onnx':
      return {
        image_embeds: await (await clip).getImageFeatures(
          feeds as Parameters<CLIPSegModel['getImageFeatures']>[0],
        ),
      };
    default:
      throw new Error(`clipseg: no model class runs graph ${testCase.graph}`);
  }
}

async function runSegmentationCase(testCase: PipelineCase, context: CaseContext): Promise<ResultValue> {
  const [image, ...more] = imageList(testCase.inputs.images, context) ?? [];
  if (!image || more.length > 0)
    throw new Error(`${testCase.name}: expected one image, got ${JSON.stringify(testCase.inputs.images)}`);
  const text = texts(testCase.inputs.text);
  const prompts: SegmentationPrompt[] = text
    ? [text].flat()
    : (imageList(testCase.inputs.visual_prompt, context) ?? []).map((path) => ({ image: path }));
  const results = await (await forFixture(context).segment)(image, prompts, { returnLogits: true });
  const stacked = (tensors: Tensor<'float32'>[]) => {
    const size = tensors[0]!.size;
    const data = new Float32Array(tensors.length * size);
    tensors.forEach((t, i) => data.set(t.data, i * size));
    return new Tensor('float32', data, [tensors.length, ...tensors[0]!.dims]);
  };
  const expected = testCase.expected as Record<string, JsonValue>;
  const logits = stacked(results.map((r) => r.logits!));
  const logitsReference = expected.logits;
  const output: Record<string, ResultValue> = {
    masks: stacked(results.map((r) => r.mask)),
    logits: isNpyReference(logitsReference)
      ? asStored(logits, (await context.readNpy(logitsReference.npy)).rank)
      : logits,
  };
  if ('conditional_embeddings' in expected && !text) {
    // The image prompts' embeddings, from the model the pipeline uses.
    const { conditional_pixel_values } = await (await forFixture(context).processor).process({
      visualPrompt: prompts.map((p) => (p as { image: string }).image),
    });
    const embeddings = await (await forFixture(context).segmenter).getConditionalEmbeddings({
      conditional_pixel_values: conditional_pixel_values!,
    });
    const [rows, columns] = embeddings.dims as [number, number];
    output.conditional_embeddings = Array.from({ length: rows }, (_, i) =>
      Array.from(embeddings.data.subarray(i * columns, (i + 1) * columns)),
    );
  }
  return output;
}

/** clipseg fixtures: CLIPSegProcessor / CLIPTokenizer, the model classes, promptSegmentation and the tokenizer. */
const adapter: ConformanceAdapter = {
  processor: {
    CLIPSegProcessor: async (testCase, context) => {
      const processor = await forFixture(context).processor;
      const outputs = await processor.process({
        text: texts(testCase.inputs.text),
        images: imageList(testCase.inputs.images, context),
        visualPrompt: imageList(testCase.inputs.visual_prompt, context),
        imageOptions: imageKwargs(testCase.kwargs),
        ...tokenizerOptions(testCase.kwargs),
      });
      return Object.fromEntries(Object.entries(outputs).filter(([, t]) => t !== undefined)) as NamedTensors;
    },
    CLIPTokenizer: async (testCase, context) => {
      const { tokenizer } = await forFixture(context).processor;
      return { ...tokenizer.encode(texts(testCase.inputs.text) ?? [], tokenizerOptions(testCase.kwargs)) };
    },
    ViTImageProcessor: async (testCase, context) => {
      const { imageProcessor } = await forFixture(context).processor;
      const images = imageList(testCase.inputs.images, context) ?? [];
      return { ...(await imageProcessor.preprocess(images, imageKwargs(testCase.kwargs))) };
    },
  },
  model: runModelCase,
  pipeline: {
    'segment-image-by-prompts': runSegmentationCase,
    'segment-image-by-image-prompt': runSegmentationCase,
    tokenization: async (testCase, context) => {
      const { tokenizer } = await forFixture(context).processor;
      const options = tokenizerOptions(testCase.kwargs);
      return [texts(testCase.inputs.text) ?? []]
        .flat()
        .map((text) => tokenizer.encode(text, options).input_ids.toNumbers());
    },
  },
  async dispose() {
    const entries = [...loaded.values()];
    loaded.clear();
    await Promise.allSettled(
      entries.flatMap((entry) => [
        entry.segment.then((segment) => segment.dispose()),
        entry.segmenter.then((model) => model.dispose()),
        entry.clip.then((model) => model.dispose()),
      ]),
    );
  },
};

export default adapter;

import { type Tensor, loadImage, toOrtTensor } from '@ortvision/core';
import { fixturesRoot } from '@ortvision/core/testing';
import { Owlv2ForObjectDetection, Owlv2Processor, zeroShotObjectDetection } from '@ortvision/owlv2';
import {
  FLOOR,
  OURS,
  THEIRS,
  type TransformersJs,
  benchModel,
  benchOptions,
  builtPackagesPresent,
  coldStartComparison,
  endToEnd,
  floorSession,
  modelsDir,
  photos,
  readImage,
  sessionOptions,
  transformersJs,
  transformersJsLoadOptions,
} from './common.js';
import {
  type BenchOptions,
  type Suite,
  type SuiteResult,
  type Variant,
  compare,
  medianOf,
  ratio,
  round,
} from './harness.js';

// OWLv2-B/16 ensemble at 960 px. Two parts:
// 1. Full size (models/google/owlv2-base-patch16-ensemble): zeroShotObjectDetection end to end on optimum's
//    single graph (model.onnx) vs transformers.js's zero-shot-object-detection pipeline on the same graph vs the
//    floor, and the split (decode+preprocess, tokenize, post-process); then embed once, query many (one photo
//    asked 10 successive label sets) on the split graphs cut out of that same graph (`models/split-owlv2.py`:
//    vision_model once, text_model + class_head per set) vs transformers.js's pipeline called 10 times; then cold
//    start against transformers.js.
// 2. The same query-many comparison on the tiny fixture's split graphs (fixtures/owlv2), which quick mode runs
//    alone, with ortvision's whole-graph route as a third contender.

export const hubId = 'google/owlv2-base-patch16-ensemble';
export const labels = ['a photo of a cat', 'a photo of a remote control'];
const labelSets: string[][] = [
  ['a cat'],
  ['a remote control', 'a sofa'],
  ['a dog', 'a bird', 'a car'],
  ['a blanket'],
  ['a pink blanket', 'a grey cat'],
  ['a tv remote', 'a cushion', 'a paw'],
  ['an ear'],
  ['a tail', 'whiskers'],
  ['a couch', 'a pillow', 'a lamp'],
  ['two cats'],
];

/**
 * Embed once, query many with ortvision: decode and preprocess the photo and run vision_model once, then per
 * label set tokenize, run text_model + class_head and post-process.
 */
export function embedOnceVariant(
  model: Owlv2ForObjectDetection,
  processor: Owlv2Processor,
  photo: Buffer,
): Variant {
  return {
    name: 'ortvision embed once, 10 label sets (vision_model once; text_model + class_head per set)',
    run: async () => {
      const image = await loadImage(photo);
      const side = Math.max(image.height, image.width);
      const { pixel_values } = await processor.process({ images: image });
      const embedded = await model.embedImage(pixel_values!);
      for (const set of labelSets) {
        const outputs = await model.detect(embedded, await model.embedText(processor.tokenize(set)));
        processor.postProcessObjectDetection(outputs, { threshold: 0.1, targetSizes: [[side, side]] });
      }
    },
  };
}

/** transformers.js's pipeline asked the 10 label sets one after another: each call runs the whole graph. */
export function transformersJsQueryManyVariant(
  tjs: TransformersJs,
  pipe: TransformersJs,
  photo: Buffer,
): Variant {
  return {
    name: 'transformers.js pipeline x 10',
    run: async () => {
      for (const set of labelSets) await pipe(await readImage(tjs, photo), set, { threshold: 0.1 });
    },
  };
}

async function fullSize(quick: boolean): Promise<SuiteResult[]> {
  const dir = benchModel(hubId);
  const model = await Owlv2ForObjectDetection.fromPretrained(dir, { sessionOptions });
  const processor = await Owlv2Processor.fromPretrained(dir);
  const detect = await zeroShotObjectDetection(model);
  const floor = await floorSession(dir);
  const tjs = await transformersJs();
  const pipe = tjs && (await tjs.pipeline('zero-shot-object-detection', hubId, transformersJsLoadOptions));
  const options = benchOptions(quick, { slow: true });
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const image = await loadImage(photo.bytes);
      const inputs = await processor.process({ images: image, text: labels });
      const feeds = {
        input_ids: toOrtTensor(inputs.input_ids!),
        attention_mask: toOrtTensor(inputs.attention_mask!),
        pixel_values: toOrtTensor(inputs.pixel_values!),
      };
      const outputs = await model.forward({
        input_ids: inputs.input_ids!,
        attention_mask: inputs.attention_mask!,
        pixel_values: inputs.pixel_values!,
      });
      const variants: Variant[] = [
        { name: OURS, run: () => detect(photo.bytes, labels, { threshold: 0.1 }) },
        { name: FLOOR, run: () => floor.run(feeds) },
      ];
      if (pipe) {
        variants.push({
          name: THEIRS,
          run: async () => pipe(await readImage(tjs, photo.bytes), labels, { threshold: 0.1 }),
        });
      }
      const e2e = await endToEnd(
        'owlv2',
        `OWLv2-B/16 960 px, ${photo.name}, 2 labels: end to end`,
        variants,
        options,
      );
      results.push(e2e);

      const side = Math.max(image.height, image.width);
      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.process({ images: photo.bytes }) },
        { name: 'ortvision tokenize', run: () => processor.tokenize(labels) },
        {
          name: 'ortvision post-process',
          run: () =>
            processor.postProcessObjectDetection(
              { logits: outputs.logits, pred_boxes: outputs.pred_boxes as Tensor<'float32'> },
              { threshold: 0.1, targetSizes: [[side, side]] },
            ),
        },
      ];
      if (pipe) {
        split.push(
          {
            name: 'transformers.js decode+preprocess',
            run: async () => pipe.processor(await readImage(tjs, photo.bytes)),
          },
          {
            name: 'transformers.js tokenize',
            run: () => pipe.tokenizer(labels, { padding: 'max_length', truncation: true }),
          },
        );
      }
      const splitResult = await compare('owlv2', `OWLv2-B/16 960 px, ${photo.name}: split`, split, options);
      splitResult.notes = ['session.run is the floor of the end-to-end table (not re-run here)'];
      results.push(splitResult);
    }
    if (pipe) results.push(await fullSizeQueryMany(dir, processor, tjs, pipe, options));
  } finally {
    await detect.dispose();
    await model.dispose();
    await floor.release();
    await pipe?.dispose();
  }
  const [photo] = await photos(true);
  if (pipe && builtPackagesPresent(['core', 'owlv2'])) {
    results.push(
      await coldStartComparison(
        'owlv2',
        'OWLv2-B/16 960 px, 2 labels',
        'zero-shot-object-detection',
        dir,
        photo!.bytes,
        3,
      ),
    );
  }
  return results;
}

/**
 * Embed once, query many at full size, on the split graphs cut from the bench graph (`models/split-owlv2.py`):
 * ortvision's split route vs transformers.js's pipeline x 10 on the whole graph, on the 640x480 photo.
 */
async function fullSizeQueryMany(
  dir: string,
  processor: Owlv2Processor,
  tjs: TransformersJs,
  pipe: TransformersJs,
  options: BenchOptions,
): Promise<SuiteResult> {
  // Lazy: only the split graphs this route runs are created, not model.onnx a second time.
  const model = await Owlv2ForObjectDetection.fromPretrained(dir, { sessionOptions, loading: 'lazy' });
  const [photo] = await photos(true);
  try {
    const variants = [
      embedOnceVariant(model, processor, photo!.bytes),
      transformersJsQueryManyVariant(tjs, pipe, photo!.bytes),
    ];
    const result = await compare(
      'owlv2',
      `OWLv2-B/16 960 px embed once, query many: 1 photo (${photo!.name}) x 10 label sets, split graphs of the full-size architecture`,
      variants,
      options,
    );
    result.ratios = {
      'throughput embed-once / transformers.js x 10': round(
        ratio(medianOf(result, variants[1]!.name), medianOf(result, variants[0]!.name)),
      ),
    };
    result.notes = [
      "split graphs cut from the bench graph by models/split-owlv2.py (same nodes and regenerated weights; the objectness head added with the box head's shape)",
    ];
    return result;
  } finally {
    await model.dispose();
  }
}

/** Embed once, query many, on the tiny fixture's split graphs (the mechanism, not full-size numbers). */
async function queryMany(quick: boolean): Promise<SuiteResult> {
  const dir = `${fixturesRoot()}/owlv2`;
  const model = await Owlv2ForObjectDetection.fromPretrained(dir, { sessionOptions });
  const processor = await Owlv2Processor.fromPretrained(dir);
  const detect = await zeroShotObjectDetection(model);
  const [photo] = await photos(true);
  const tjs = await transformersJs();
  let pipe: Awaited<ReturnType<NonNullable<typeof tjs>['pipeline']>> | undefined;
  if (tjs) {
    // The fixture is not under a Hub id: point transformers.js at the fixtures folder for this one load.
    tjs.env.localModelPath = `${fixturesRoot()}/`;
    pipe = await tjs.pipeline('zero-shot-object-detection', 'owlv2', transformersJsLoadOptions);
    tjs.env.localModelPath = `${modelsDir}/`;
  }
  try {
    const variants: Variant[] = [
      embedOnceVariant(model, processor, photo!.bytes),
      {
        name: 'ortvision zeroShotObjectDetection x 10 (whole graph per set)',
        run: async () => {
          for (const set of labelSets) await detect(photo!.bytes, set, { threshold: 0.1 });
        },
      },
    ];
    if (pipe) variants.push(transformersJsQueryManyVariant(tjs, pipe, photo!.bytes));
    const result = await compare(
      'owlv2',
      'OWLv2 embed once, query many: 1 photo x 10 label sets, TINY FIXTURE graphs (fixtures/owlv2, 48 px)',
      variants,
      benchOptions(quick),
    );
    const once = medianOf(result, variants[0]!.name);
    result.ratios = {
      'throughput embed-once / whole graph x 10 (ortvision)': round(
        ratio(medianOf(result, variants[1]!.name), once),
      ),
    };
    if (pipe) {
      result.ratios['throughput embed-once / transformers.js x 10 (tiny fixture)'] = round(
        ratio(medianOf(result, variants[2]!.name), once),
      );
    }
    result.notes = [
      'tiny graphs: the vision tower is a small share of the work here, while at full size (960 px) it is nearly all of it, so these ratios understate the full-size gain',
    ];
    return result;
  } finally {
    await detect.dispose();
    await model.dispose();
    await pipe?.dispose();
  }
}

export const run: Suite = async ({ quick }) => {
  const results = [await queryMany(quick)];
  if (quick) {
    results[0]!.notes!.push('quick mode: the full-size graph (7 s or more a run on 2 cores) is skipped');
    return results;
  }
  return [...results, ...(await fullSize(quick))];
};

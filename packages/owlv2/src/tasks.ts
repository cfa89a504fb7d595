import {
  type BatchedTaskFunction,
  type BoundingBox,
  type Image,
  type ImageInput,
  InvalidArgumentError,
  type TaskHelper,
  Tensor,
  batchedTaskCall,
  checkFlag,
  checkInteger,
  checkThreshold,
  defineTask,
  describeValue,
  imageInputs,
  optionNames,
} from '@ortvision/core';
import { Owlv2ForObjectDetection } from './modeling.js';
import type { Box } from './post-processing.js';
import { Owlv2Processor } from './processing.js';

/** One detection as the Hugging Face pipelines return it; boxes in original-image pixels, truncated to ints. */
export interface Detection {
  score: number;
  label: string;
  box: BoundingBox;
}

/** One image-guided detection: `score` is the display alpha of `postProcessImageGuidedDetection` (best = 1). */
export interface ImageGuidedDetection {
  score: number;
  box: BoundingBox;
}

export interface ZeroShotObjectDetectionOptions {
  /** Keep (box, label) pairs scoring above this (default 0.1). */
  threshold?: number;
  /** Keep the best `topK` (default: all). */
  topK?: number;
  /**
   * Cut labels longer than the text tower's 16 tokens instead of failing on them (default false: an over-long
   * label is an `InputShapeError` that says so, as the pipeline fails on it).
   */
  truncation?: boolean;
}

/** The keys of `ZeroShotObjectDetectionOptions`. */
export const ZERO_SHOT_OBJECT_DETECTION_OPTIONS = optionNames<ZeroShotObjectDetectionOptions>({
  threshold: true,
  topK: true,
  truncation: true,
});

export interface ImageGuidedObjectDetectionOptions {
  /** Raw scores below this are dropped before the alphas are computed (default 0). */
  threshold?: number;
  /** NMS IoU threshold; >= 1 turns NMS off (default 0.3). */
  nmsThreshold?: number;
}

/** The keys of `ImageGuidedObjectDetectionOptions`. */
export const IMAGE_GUIDED_OBJECT_DETECTION_OPTIONS = optionNames<ImageGuidedObjectDetectionOptions>({
  threshold: true,
  nmsThreshold: true,
});

/** The parts the OWLv2 task helpers load beside the model. */
export interface Owlv2TaskParts {
  /** The processor; by default read from the model's folder or Hub id. */
  processor: Owlv2Processor;
}

/** Zero-shot detection: one image gives its detections, a list of images one list per image (same labels). */
export type ZeroShotObjectDetectionFunction = BatchedTaskFunction<
  ImageInput,
  [labels: string | readonly string[]],
  ZeroShotObjectDetectionOptions,
  Detection[]
>;

/** Image-guided detection: one image gives its detections, a list of images one list per image (same query). */
export type ImageGuidedObjectDetectionFunction = BatchedTaskFunction<
  ImageInput,
  [queryImage: ImageInput],
  ImageGuidedObjectDetectionOptions,
  ImageGuidedDetection[]
>;

/** `box.int()`: truncation toward zero, as the pipeline does. */
function toBoundingBox([x0, y0, x1, y1]: Box): BoundingBox {
  return { xmin: Math.trunc(x0), ymin: Math.trunc(y0), xmax: Math.trunc(x1), ymax: Math.trunc(y1) };
}

function checkLabels(labels: string | readonly string[]): string[] {
  // The pipeline splits a single string on commas.
  const list = typeof labels === 'string' ? labels.split(',') : Array.isArray(labels) ? [...labels] : [];
  if (list.length === 0 || list.some((l) => typeof l !== 'string')) {
    throw new InvalidArgumentError(
      `labels must be a non-empty list of strings (or one comma-separated string), got ${describeValue(labels)}`,
    );
  }
  return list;
}

/** One image's detections for every label, best first: each label scored on its own, as the pipeline runs them. */
async function detectInImage(
  model: Owlv2ForObjectDetection,
  processor: Owlv2Processor,
  image: Image,
  queries: readonly string[],
  threshold: number,
  truncation: boolean,
): Promise<Detection[]> {
  const inputs = await processor.process({ images: image, text: queries }, { truncation });
  const outputs = await model.forward({
    input_ids: inputs.input_ids!,
    attention_mask: inputs.attention_mask!,
    pixel_values: inputs.pixel_values!,
  });
  const side = Math.max(image.height, image.width);
  const [, boxes, count] = outputs.logits.dims as [number, number, number];
  const found: Detection[] = [];
  // The pipeline runs one query at a time: each label's scores are that query's own sigmoid.
  queries.forEach((label, q) => {
    const logits = new Float32Array(boxes);
    for (let n = 0; n < boxes; n++) logits[n] = outputs.logits.data[n * count + q]!;
    const [result] = processor.postProcessObjectDetection(
      { logits: new Tensor('float32', logits, [1, boxes, 1]), pred_boxes: outputs.pred_boxes },
      { threshold, targetSizes: [[side, side]] },
    );
    result!.scores.forEach((score, i) => {
      found.push({ score, label, box: toBoundingBox(result!.boxes[i]!) });
    });
  });
  return found.sort((a, b) => b.score - a.score);
}

/**
 * Zero-shot object detection, as transformers' `zero-shot-object-detection` pipeline: every label is a text
 * query; each (box, label) pair scoring above `threshold` is returned, best first (stable), boxes in
 * original-image pixels (the padded square's scale; Python 4.37 stretches them for non-square images: fixture
 * owlv2, pipeline cases `zero-shot-*`). All labels go through one forward pass per image. A list of images gives
 * one list of detections per image, each image run on its own. `truncation: true` cuts labels longer than the
 * text tower's 16 tokens.
 *
 * @example
 * ```ts
 * const detect = await zeroShotObjectDetection('onnx-community/owlv2-base-patch16-ensemble');
 * const found = await detect('street.jpg', ['a bus', 'a bicycle'], { threshold: 0.2 });
 * // [{ score: 0.81, label: 'a bus', box: { xmin: 12, ymin: 40, xmax: 380, ymax: 290 } }, ...]
 * const perImage = await detect(['street.jpg', 'park.jpg'], ['a bus']); // Detection[][]
 * await detect.dispose();
 * ```
 */
export const zeroShotObjectDetection: TaskHelper<
  Owlv2ForObjectDetection,
  Owlv2TaskParts,
  object,
  ZeroShotObjectDetectionFunction
> = defineTask({
  name: 'zeroShotObjectDetection',
  model: (id, options) => Owlv2ForObjectDetection.fromPretrained(id, options),
  parts: { processor: (id, options) => Owlv2Processor.fromPretrained(id, options) },
  create: ({ model, parts: { processor } }) =>
    batchedTaskCall({
      name: 'zeroShotObjectDetection',
      input: imageInputs,
      arity: 1,
      options: ZERO_SHOT_OBJECT_DETECTION_OPTIONS,
      run: async (images, [labels]: [string | readonly string[]], options, context) => {
        const threshold = checkThreshold(options.threshold, 'threshold', 0.1);
        if (options.topK !== undefined) checkInteger(options.topK, 'topK', { min: 1 });
        const truncation = checkFlag(options.truncation, 'truncation', false);
        const queries = checkLabels(labels);
        const results: Detection[][] = [];
        for (const [i, image] of images.entries()) {
          context.throwIfAborted(`detecting in image ${i}`);
          const found = await detectInImage(model, processor, image, queries, threshold, truncation);
          results.push(options.topK === undefined ? found : found.slice(0, options.topK));
        }
        return results;
      },
    }),
});

/**
 * Image-guided object detection (Python's `Owlv2ForObjectDetection.image_guided_detection` +
 * `post_process_image_guided_detection`): find in `image` what `queryImage` shows. Returns the boxes that survive
 * NMS, best first, in original-image pixels, scored by display alpha (the best box is 1). A list of images gives
 * one list per image, all searched for the same query. Needs the split graphs (`vision_model`, `class_head`).
 *
 * @example
 * ```ts
 * const find = await imageGuidedObjectDetection('./owlv2-split');
 * const found = await find('street.jpg', 'my-bike.jpg', { threshold: 0.9, nmsThreshold: 0.3 });
 * await find.dispose();
 * ```
 */
export const imageGuidedObjectDetection: TaskHelper<
  Owlv2ForObjectDetection,
  Owlv2TaskParts,
  object,
  ImageGuidedObjectDetectionFunction
> = defineTask({
  name: 'imageGuidedObjectDetection',
  model: (id, options) => Owlv2ForObjectDetection.fromPretrained(id, options),
  parts: { processor: (id, options) => Owlv2Processor.fromPretrained(id, options) },
  create: ({ model, parts: { processor } }) =>
    batchedTaskCall({
      name: 'imageGuidedObjectDetection',
      input: imageInputs,
      arity: 1,
      options: IMAGE_GUIDED_OBJECT_DETECTION_OPTIONS,
      run: async (images, [queryInput]: [ImageInput], options, context) => {
        const threshold = checkThreshold(options.threshold, 'threshold', 0);
        const nmsThreshold = checkThreshold(options.nmsThreshold, 'nmsThreshold', 0.3);
        const [queryImage] = await context.loadImages([queryInput]);
        const results: ImageGuidedDetection[][] = [];
        for (const [i, image] of images.entries()) {
          context.throwIfAborted(`detecting in image ${i}`);
          const inputs = await processor.process({ images: image, queryImages: queryImage! });
          const outputs = await model.imageGuidedDetection(inputs.pixel_values!, inputs.query_pixel_values!);
          const side = Math.max(image.height, image.width);
          const [result] = processor.postProcessImageGuidedDetection(outputs, {
            threshold,
            nmsThreshold,
            targetSizes: [[side, side]],
          });
          const found = (result?.scores ?? []).map((score, k) => ({
            score,
            box: toBoundingBox(result!.boxes[k]!),
          }));
          results.push(found.sort((a, b) => b.score - a.score));
        }
        return results;
      },
    }),
});

import {
  type BoundingBox,
  type ImageInput,
  InvalidArgumentError,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  Tensor,
  loadImage,
  makePipeline,
  resolveModel,
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
}

export interface ImageGuidedObjectDetectionOptions {
  /** Raw scores below this are dropped before the alphas are computed (default 0). */
  threshold?: number;
  /** NMS IoU threshold; >= 1 turns NMS off (default 0.3). */
  nmsThreshold?: number;
}

/** `box.int()`: truncation toward zero, as the pipeline does. */
function toBoundingBox([x0, y0, x1, y1]: Box): BoundingBox {
  return { xmin: Math.trunc(x0), ymin: Math.trunc(y0), xmax: Math.trunc(x1), ymax: Math.trunc(y1) };
}

function checkThreshold(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidArgumentError(`${name} must be a number, got ${String(value)}`);
  }
  return value;
}

function checkLabels(labels: string | readonly string[]): string[] {
  // The pipeline splits a single string on commas.
  const list = typeof labels === 'string' ? labels.split(',') : Array.isArray(labels) ? [...labels] : [];
  if (list.length === 0 || list.some((l) => typeof l !== 'string')) {
    throw new InvalidArgumentError(
      `labels must be a non-empty list of strings (or one comma-separated string), got ${JSON.stringify(labels)}`,
    );
  }
  return list;
}

async function loadParts(
  source: ModelSource<Owlv2ForObjectDetection>,
  options: PretrainedOptions,
): Promise<{ model: Owlv2ForObjectDetection; owned: boolean; processor: Owlv2Processor }> {
  const { model, owned } = await resolveModel(
    source,
    (id, o) => Owlv2ForObjectDetection.fromPretrained(id, o),
    options,
  );
  try {
    return { model, owned, processor: await Owlv2Processor.fromPretrained(model.nameOrPath, options) };
  } catch (error) {
    if (owned) await model.dispose();
    throw error;
  }
}

/**
 * Zero-shot object detection, as transformers' `zero-shot-object-detection` pipeline: every label is a text
 * query; each (box, label) pair scoring above `threshold` is returned, best first (stable), boxes in
 * original-image pixels (the padded square's scale; Python 4.37 stretches them for non-square images: fixture
 * owlv2, pipeline cases `zero-shot-*`). All labels go through one forward pass.
 *
 * @example
 * ```ts
 * const detect = await zeroShotObjectDetection('onnx-community/owlv2-base-patch16-ensemble');
 * const found = await detect('street.jpg', ['a bus', 'a bicycle'], { threshold: 0.2 });
 * // [{ score: 0.81, label: 'a bus', box: { xmin: 12, ymin: 40, xmax: 380, ymax: 290 } }, ...]
 * await detect.dispose();
 * ```
 */
export async function zeroShotObjectDetection(
  source: ModelSource<Owlv2ForObjectDetection>,
  options: PretrainedOptions = {},
): Promise<
  Pipeline<
    (
      image: ImageInput,
      labels: string | readonly string[],
      options?: ZeroShotObjectDetectionOptions,
    ) => Promise<Detection[]>
  >
> {
  const { model, owned, processor } = await loadParts(source, options);
  const run = async (
    input: ImageInput,
    labels: string | readonly string[],
    { threshold = 0.1, topK }: ZeroShotObjectDetectionOptions = {},
  ): Promise<Detection[]> => {
    checkThreshold(threshold, 'threshold');
    if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
      throw new InvalidArgumentError(`topK must be a positive integer, got ${String(topK)}`);
    }
    const queries = checkLabels(labels);
    const image = await loadImage(input);
    const inputs = await processor.process({ images: image, text: queries });
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
    found.sort((a, b) => b.score - a.score);
    return topK === undefined ? found : found.slice(0, topK);
  };
  return makePipeline(run, async () => {
    if (owned) await model.dispose();
  });
}

/**
 * Image-guided object detection (Python's `Owlv2ForObjectDetection.image_guided_detection` +
 * `post_process_image_guided_detection`): find in `image` what `queryImage` shows. Returns the boxes that survive
 * NMS, best first, in original-image pixels, scored by display alpha (the best box is 1). Needs the split graphs
 * (`vision_model`, `class_head`).
 *
 * @example
 * ```ts
 * const find = await imageGuidedObjectDetection('./owlv2-split');
 * const found = await find('street.jpg', 'my-bike.jpg', { threshold: 0.9, nmsThreshold: 0.3 });
 * await find.dispose();
 * ```
 */
export async function imageGuidedObjectDetection(
  source: ModelSource<Owlv2ForObjectDetection>,
  options: PretrainedOptions = {},
): Promise<
  Pipeline<
    (
      image: ImageInput,
      queryImage: ImageInput,
      options?: ImageGuidedObjectDetectionOptions,
    ) => Promise<ImageGuidedDetection[]>
  >
> {
  const { model, owned, processor } = await loadParts(source, options);
  const run = async (
    input: ImageInput,
    queryInput: ImageInput,
    { threshold = 0, nmsThreshold = 0.3 }: ImageGuidedObjectDetectionOptions = {},
  ): Promise<ImageGuidedDetection[]> => {
    checkThreshold(threshold, 'threshold');
    checkThreshold(nmsThreshold, 'nmsThreshold');
    const [image, queryImage] = await Promise.all([loadImage(input), loadImage(queryInput)]);
    const inputs = await processor.process({ images: image, queryImages: queryImage });
    const outputs = await model.imageGuidedDetection(inputs.pixel_values!, inputs.query_pixel_values!);
    const side = Math.max(image.height, image.width);
    const [result] = processor.postProcessImageGuidedDetection(outputs, {
      threshold,
      nmsThreshold,
      targetSizes: [[side, side]],
    });
    if (!result) return [];
    const found = result.scores.map((score, i) => ({ score, box: toBoundingBox(result.boxes[i]!) }));
    return found.sort((a, b) => b.score - a.score);
  };
  return makePipeline(run, async () => {
    if (owned) await model.dispose();
  });
}

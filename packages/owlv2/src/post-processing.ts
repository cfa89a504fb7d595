import {
  InputShapeError,
  type TargetSizes,
  type Tensor,
  centerToCorners,
  checkFinite,
  checkOptions,
  checkThreshold,
  greedyNms,
  optionNames,
  sigmoidOf,
  targetSizePairs,
} from '@ortvision/core';

const f = Math.fround;

/** A box as (x0, y0, x1, y1). */
export type Box = [number, number, number, number];

/** One image's detections, as transformers' `post_process_object_detection` returns them. */
export interface ObjectDetectionResult {
  scores: number[];
  /** The query (text) index of each box. */
  labels: number[];
  boxes: Box[];
}

/** One image's detections from `postProcessImageGuidedDetection`: scores are display alphas, labels null. */
export interface ImageGuidedDetectionResult {
  scores: number[];
  labels: null;
  boxes: Box[];
}

export interface ObjectDetectionOptions {
  /** Keep boxes whose score is greater than this (default 0.1). */
  threshold?: number;
  /**
   * The (height, width) to scale each image's relative boxes to. For OWLv2 pass the padded square
   * `(max(h, w), max(h, w))` to get boxes in original-image pixels (the model's boxes are relative to the padded
   * square); `null` / left out keeps them relative.
   */
  targetSizes?: TargetSizes;
}

/** The keys of `ObjectDetectionOptions`. */
export const OBJECT_DETECTION_OPTIONS = optionNames<ObjectDetectionOptions>({
  threshold: true,
  targetSizes: true,
});

export interface ImageGuidedDetectionOptions {
  /** Scores below this become 0 before the alphas are computed (default 0). */
  threshold?: number;
  /** NMS: zero the score of every box whose IoU with a better box is greater than this; >= 1 skips NMS (default 0.3). */
  nmsThreshold?: number;
  /** As `ObjectDetectionOptions.targetSizes`. */
  targetSizes?: TargetSizes;
}

/** The keys of `ImageGuidedDetectionOptions`. */
export const IMAGE_GUIDED_DETECTION_OPTIONS = optionNames<ImageGuidedDetectionOptions>({
  threshold: true,
  nmsThreshold: true,
  targetSizes: true,
});

function floatTensor(tensor: Tensor | undefined, name: string, rank: number): Tensor<'float32'> {
  if (!tensor || tensor.dtype !== 'float32' || tensor.dims.length !== rank) {
    throw new InputShapeError(
      `${name} must be a float32 tensor of rank ${rank}, got ${tensor ? `${tensor.dtype} [${tensor.dims.join(', ')}]` : 'nothing'}`,
    );
  }
  return tensor as Tensor<'float32'>;
}

/** Per image (height, width) as float32 (Python builds a float32 tensor from them), checked against the batch. */
export function resolveTargetSizes(
  targetSizes: TargetSizes | undefined,
  batch: number,
): [number, number][] | null {
  const pairs = targetSizePairs(targetSizes, batch);
  return pairs ? pairs.map(([height, width]) => [f(height), f(width)]) : null;
}

/** Per box: the best query's logit and its index (the first on ties, as torch.max). */
function maxOverQueries(logits: Tensor<'float32'>, image: number): { best: Float32Array; label: Int32Array } {
  const [, boxes, queries] = logits.dims as [number, number, number];
  const best = new Float32Array(boxes);
  const label = new Int32Array(boxes);
  const data = logits.data;
  for (let n = 0; n < boxes; n++) {
    const row = (image * boxes + n) * queries;
    let max = data[row]!;
    let at = 0;
    for (let q = 1; q < queries; q++) {
      if (data[row + q]! > max) {
        max = data[row + q]!;
        at = q;
      }
    }
    best[n] = max;
    label[n] = at;
  }
  return { best, label };
}

function sigmoid32(x: number): number {
  return f(sigmoidOf(x));
}

function scaledCorners(
  predBoxes: Tensor<'float32'>,
  image: number,
  size: [number, number] | null,
): Float32Array {
  const boxes = predBoxes.dims[1]!;
  const corners = centerToCorners(predBoxes.data.subarray(image * boxes * 4, (image + 1) * boxes * 4));
  if (size) {
    const [height, width] = size;
    for (let i = 0; i < corners.length; i += 4) {
      corners[i] = corners[i]! * width;
      corners[i + 1] = corners[i + 1]! * height;
      corners[i + 2] = corners[i + 2]! * width;
      corners[i + 3] = corners[i + 3]! * height;
    }
  }
  return corners;
}

function boxAt(corners: Float32Array, n: number): Box {
  return [corners[4 * n]!, corners[4 * n + 1]!, corners[4 * n + 2]!, corners[4 * n + 3]!];
}

function checkDetectionOutputs(
  logitsIn: Tensor | undefined,
  boxesIn: Tensor | undefined,
  boxesName: string,
): { logits: Tensor<'float32'>; predBoxes: Tensor<'float32'> } {
  const logits = floatTensor(logitsIn, 'logits', 3);
  const predBoxes = floatTensor(boxesIn, boxesName, 3);
  if (
    predBoxes.dims[0] !== logits.dims[0] ||
    predBoxes.dims[1] !== logits.dims[1] ||
    predBoxes.dims[2] !== 4
  ) {
    throw new InputShapeError(
      `${boxesName} [${predBoxes.dims.join(', ')}] does not match logits [${logits.dims.join(', ')}]: expected [batch, num_boxes, 4]`,
    );
  }
  checkFinite(logits.data, 'logits');
  checkFinite(predBoxes.data, boxesName);
  return { logits, predBoxes };
}

/**
 * transformers' `Owlv2ImageProcessor.post_process_object_detection`: per box, `score = sigmoid(max over queries)`
 * and `label` = that query; boxes (cx, cy, w, h) -> corners scaled by (w, h, w, h) of `targetSizes`; kept where
 * score > threshold, in patch order. Boxes are relative to the padded square: pass `(max(h, w), max(h, w))` per
 * image for original-image pixels (fixture owlv2, postprocess cases `od-*`).
 *
 * @example
 * const outputs = await model.forward(inputs);
 * const [found] = postProcessObjectDetection(outputs, { threshold: 0.2, targetSizes: [[side, side]] });
 */
export function postProcessObjectDetection(
  outputs: { logits?: Tensor; pred_boxes?: Tensor },
  options: ObjectDetectionOptions = {},
): ObjectDetectionResult[] {
  const { targetSizes = null } = checkOptions(
    options,
    OBJECT_DETECTION_OPTIONS,
    'postProcessObjectDetection',
  );
  const threshold = checkThreshold(options.threshold, 'threshold', 0.1);
  const { logits, predBoxes } = checkDetectionOutputs(outputs.logits, outputs.pred_boxes, 'pred_boxes');
  const batch = logits.dims[0]!;
  const sizes = resolveTargetSizes(targetSizes, batch);
  return Array.from({ length: batch }, (_, image) => {
    const { best, label } = maxOverQueries(logits, image);
    const corners = scaledCorners(predBoxes, image, sizes ? sizes[image]! : null);
    const result: ObjectDetectionResult = { scores: [], labels: [], boxes: [] };
    for (let n = 0; n < best.length; n++) {
      const score = sigmoid32(best[n]!);
      if (!(score > threshold)) continue;
      result.scores.push(score);
      result.labels.push(label[n]!);
      result.boxes.push(boxAt(corners, n));
    }
    return result;
  });
}

/**
 * transformers' `Owlv2ImageProcessor.post_process_image_guided_detection`: `score = sigmoid(max over queries)`;
 * greedy NMS on the relative corners (`nmsThreshold < 1`), suppressed boxes scored 0; boxes scaled by
 * `targetSizes`; scores < threshold set to 0; the returned scores are display alphas
 * `clip((s - 0.1 m) / (0.9 m), 0, 1)` with `m = max score + 1e-6`, kept where > 0; `labels` is null. An image
 * whose scores are all 0 is left out of the result, as in Python (fixture owlv2, postprocess cases `igd-*`).
 *
 * @example
 * const outputs = await model.imageGuidedDetection(pixel_values, query_pixel_values);
 * const [found] = postProcessImageGuidedDetection(outputs, { threshold: 0.9, nmsThreshold: 0.3, targetSizes: [[side, side]] });
 */
export function postProcessImageGuidedDetection(
  outputs: { logits?: Tensor; target_pred_boxes?: Tensor },
  options: ImageGuidedDetectionOptions = {},
): ImageGuidedDetectionResult[] {
  const { targetSizes = null } = checkOptions(
    options,
    IMAGE_GUIDED_DETECTION_OPTIONS,
    'postProcessImageGuidedDetection',
  );
  const threshold = checkThreshold(options.threshold, 'threshold', 0);
  const nmsThreshold = checkThreshold(options.nmsThreshold, 'nmsThreshold', 0.3);
  const { logits, predBoxes } = checkDetectionOutputs(
    outputs.logits,
    outputs.target_pred_boxes,
    'target_pred_boxes',
  );
  const batch = logits.dims[0]!;
  const sizes = resolveTargetSizes(targetSizes, batch);
  const results: ImageGuidedDetectionResult[] = [];
  for (let image = 0; image < batch; image++) {
    const { best } = maxOverQueries(logits, image);
    const scores = best.map(sigmoid32);
    if (nmsThreshold < 1) {
      const relative = scaledCorners(predBoxes, image, null);
      const kept = new Set(greedyNms(relative, scores, nmsThreshold));
      for (let n = 0; n < scores.length; n++) if (!kept.has(n)) scores[n] = 0;
    }
    if (scores.every((s) => s === 0)) continue;
    const corners = scaledCorners(predBoxes, image, sizes ? sizes[image]! : null);
    let max = Number.NEGATIVE_INFINITY;
    for (let n = 0; n < scores.length; n++) {
      if (scores[n]! < threshold) scores[n] = 0;
      max = Math.max(max, scores[n]!);
    }
    const m = f(max + 1e-6);
    const low = f(m * 0.1);
    const span = f(m * 0.9);
    const result: ImageGuidedDetectionResult = { scores: [], labels: null, boxes: [] };
    for (let n = 0; n < scores.length; n++) {
      const alpha = Math.min(Math.max(f(f(scores[n]! - low) / span), 0), 1);
      if (!(alpha > 0)) continue;
      result.scores.push(alpha);
      result.boxes.push(boxAt(corners, n));
    }
    results.push(result);
  }
  return results;
}

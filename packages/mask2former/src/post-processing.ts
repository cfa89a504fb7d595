import {
  InputShapeError,
  InvalidArgumentError,
  type TargetSizes,
  Tensor,
  checkFinite,
  checkOptions,
  checkThreshold,
  interpolateBilinear,
  optionNames,
  resizeNearest,
  segmentationToRle,
  sigmoid,
  sigmoidOf,
  softmax,
  targetSizePairs,
} from '@ortvision/core';
import { torchTopKUnsortedIndices } from './torch-top-k.js';

/** The model outputs post-processing reads (what `Mask2FormerForUniversalSegmentation.forward` returns). */
export type Mask2FormerOutputs = {
  /** [batch, queries, num_labels + 1]; the last class is "no object". */
  class_queries_logits: Tensor<'float32'>;
  /** [batch, queries, height, width] (1/4 of the input size). */
  masks_queries_logits: Tensor<'float32'>;
};

export interface SemanticSegmentationOptions {
  /** (height, width) per image (whole pixels) to resize the maps to; without it every map is 384x384. */
  targetSizes?: TargetSizes;
}

/** The keys of `SemanticSegmentationOptions`. */
export const SEMANTIC_SEGMENTATION_OPTIONS = optionNames<SemanticSegmentationOptions>({ targetSizes: true });

export interface InstanceSegmentationOptions extends SemanticSegmentationOptions {
  /** Keep instances whose score (class probability x mean mask probability) is >= this (default 0.5). */
  threshold?: number;
  /** Accepted as in transformers, where instance post-processing does not use it. */
  maskThreshold?: number;
  /** Accepted as in transformers, where instance post-processing does not use it. */
  overlapMaskAreaThreshold?: number;
  /** Return the map as run-length encodings, one per distinct value (see `segmentationToRle`). */
  returnCocoAnnotation?: boolean;
  /** Return the kept instances' 0/1 masks stacked [n, H, W] instead of one map (the -1 map when none is kept). */
  returnBinaryMaps?: boolean;
}

/** The keys of `InstanceSegmentationOptions`. */
export const INSTANCE_SEGMENTATION_OPTIONS = optionNames<InstanceSegmentationOptions>({
  targetSizes: true,
  threshold: true,
  maskThreshold: true,
  overlapMaskAreaThreshold: true,
  returnCocoAnnotation: true,
  returnBinaryMaps: true,
});

export interface PanopticSegmentationOptions extends SemanticSegmentationOptions {
  /** Keep queries whose best class probability is > this (default 0.5). */
  threshold?: number;
  /** A pixel counts for a query's area where its score-weighted mask probability is >= this (default 0.5). */
  maskThreshold?: number;
  /** A query becomes a segment when the pixels it wins cover more than this part of its area (default 0.8). */
  overlapMaskAreaThreshold?: number;
  /** Label ids whose queries share one segment (stuff classes such as sky or wall). */
  labelIdsToFuse?: Iterable<number>;
}

/** The keys of `PanopticSegmentationOptions`. */
export const PANOPTIC_SEGMENTATION_OPTIONS = optionNames<PanopticSegmentationOptions>({
  targetSizes: true,
  threshold: true,
  maskThreshold: true,
  overlapMaskAreaThreshold: true,
  labelIdsToFuse: true,
});

/** One segment, keyed as transformers' `segments_info` entries. */
export interface SegmentInfo {
  id: number;
  label_id: number;
  was_fused: boolean;
  /** Rounded to 6 decimals, as transformers does. */
  score: number;
}

export interface InstanceSegmentationResult {
  /**
   * float32 [H, W] with instance ids from 0 and -1 where there is none; with `returnBinaryMaps`, float32 [n, H, W]
   * 0/1 masks in segment order (or the -1 map when no instance is kept); with `returnCocoAnnotation`, one RLE per
   * distinct map value, ascending.
   */
  segmentation: Tensor<'float32'> | number[][];
  segments_info: SegmentInfo[];
}

export interface PanopticSegmentationResult {
  /** int32 [H, W] with segment ids from 1 and 0 where there is none; float32 all -1 when no query is kept. */
  segmentation: Tensor<'int32'> | Tensor<'float32'>;
  segments_info: SegmentInfo[];
}

/** transformers resizes mask logits to this fixed size before any post-processing, whatever the input size. */
const MASK_SIZE = 384;

interface Shapes {
  batch: number;
  queries: number;
  /** Classes without "no object". */
  labels: number;
}

function checkOutputs(outputs: Mask2FormerOutputs): Shapes {
  const { class_queries_logits: cls, masks_queries_logits: masks } = outputs ?? {};
  if (!(cls instanceof Tensor) || cls.dtype !== 'float32' || cls.rank !== 3) {
    throw new InputShapeError(
      `class_queries_logits must be a float32 tensor [batch, queries, labels + 1], got ${describe(cls)}`,
    );
  }
  if (!(masks instanceof Tensor) || masks.dtype !== 'float32' || masks.rank !== 4) {
    throw new InputShapeError(
      `masks_queries_logits must be a float32 tensor [batch, queries, height, width], got ${describe(masks)}`,
    );
  }
  const [batch, queries, classes] = cls.dims as [number, number, number];
  if (masks.dims[0] !== batch || masks.dims[1] !== queries) {
    throw new InputShapeError(
      `masks_queries_logits [${masks.dims.join(', ')}] must have the batch and query count of class_queries_logits [${cls.dims.join(', ')}]`,
    );
  }
  if (classes < 2) {
    throw new InputShapeError(
      `class_queries_logits needs at least one label plus "no object", got ${classes} classes`,
    );
  }
  checkFinite(cls.data, 'class_queries_logits');
  checkFinite(masks.data, 'masks_queries_logits');
  return { batch, queries, labels: classes - 1 };
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `a ${value.dtype} tensor [${value.dims.join(', ')}]`;
  return value === undefined ? 'nothing' : typeof value;
}

function checkTargetSizes(
  targetSizes: TargetSizes | undefined,
  batch: number,
): [number, number][] | undefined {
  return targetSizePairs(targetSizes, batch, { integers: true, purpose: 'resize segmentation maps' });
}

/** Mask logits at the fixed 384x384 (bilinear, align_corners=False, as torch computes it). */
function masksAt384(outputs: Mask2FormerOutputs): Tensor<'float32'> {
  return interpolateBilinear(outputs.masks_queries_logits, [MASK_SIZE, MASK_SIZE]);
}

/**
 * The 384x384 mask logits of some queries of image `b` only. Each query's plane is resized on its own, so the
 * values are those of `masksAt384` for the same queries; resizing only the kept ones saves most of the work.
 */
function queryMasksAt384(
  outputs: Mask2FormerOutputs,
  b: number,
  queries: readonly number[],
): Tensor<'float32'> {
  const [, all, h, w] = outputs.masks_queries_logits.dims as [number, number, number, number];
  const source = outputs.masks_queries_logits.data;
  const selected = new Float32Array(queries.length * h * w);
  for (const [k, q] of queries.entries()) {
    selected.set(source.subarray((b * all + q) * h * w, (b * all + q + 1) * h * w), k * h * w);
  }
  return interpolateBilinear(new Tensor('float32', selected, [queries.length, h, w]), [MASK_SIZE, MASK_SIZE]);
}

/** Python's `round(x, 6)` for the float32 scores transformers reports (half-to-even on the decimal is immaterial). */
function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * transformers' `post_process_semantic_segmentation`: mask logits -> 384x384, per pixel
 * `sum_q softmax(class)[q, c] * sigmoid(mask)[q]` over the labels without "no object", resized bilinearly to the
 * target size BEFORE the argmax (ties go to the first label). Returns one int32 [H, W] map of label ids per image
 * (transformers returns int64).
 */
export function postProcessSemanticSegmentation(
  outputs: Mask2FormerOutputs,
  options: SemanticSegmentationOptions = {},
): Tensor<'int32'>[] {
  checkOptions(options, SEMANTIC_SEGMENTATION_OPTIONS, 'postProcessSemanticSegmentation');
  const { batch, queries, labels } = checkOutputs(outputs);
  const targets = checkTargetSizes(options.targetSizes, batch);
  const probs = sigmoid(masksAt384(outputs)).data;
  const classes = softmax(outputs.class_queries_logits).data;
  const plane = MASK_SIZE * MASK_SIZE;
  const results: Tensor<'int32'>[] = [];
  for (let b = 0; b < batch; b++) {
    const scores = new Float32Array(labels * plane);
    const sum = new Float64Array(plane);
    for (let c = 0; c < labels; c++) {
      sum.fill(0);
      for (let q = 0; q < queries; q++) {
        const weight = classes[(b * queries + q) * (labels + 1) + c]!;
        const mask = (b * queries + q) * plane;
        for (let p = 0; p < plane; p++) sum[p]! += weight * probs[mask + p]!;
      }
      scores.set(sum, c * plane);
    }
    let perLabel = new Tensor('float32', scores, [labels, MASK_SIZE, MASK_SIZE]);
    if (targets) perLabel = interpolateBilinear(perLabel, targets[b]!);
    results.push(argmaxFirstAxis(perLabel));
  }
  return results;
}

/** Index of the largest value along axis 0 of [N, H, W] (the first on ties, like torch), as int32 [H, W]. */
function argmaxFirstAxis(tensor: Tensor<'float32'>): Tensor<'int32'> {
  const [n, height, width] = tensor.dims as [number, number, number];
  const plane = height * width;
  const data = tensor.data;
  const out = new Int32Array(plane);
  const best = data.slice(0, plane);
  for (let i = 1; i < n; i++) {
    const offset = i * plane;
    for (let p = 0; p < plane; p++) {
      const value = data[offset + p]!;
      if (value > best[p]!) {
        best[p] = value;
        out[p] = i;
      }
    }
  }
  return new Tensor('int32', out, [height, width]);
}

/**
 * transformers' `post_process_instance_segmentation`. Per image: class probabilities without "no object" are
 * flattened (index = query * labels + label) and the `queries` best (query, label) pairs are visited in the order
 * of `torch.topk(sorted=False)` (see torch-top-k.ts); a pair's mask is `logits384 > 0`, its score the class
 * probability times the mean sigmoid inside the mask (at 384x384). With `targetSizes`, masks are resized with
 * torch's NEAREST rule. A pair is kept when its (resized) mask is not empty and score >= `threshold`; ids count
 * from 0 in visiting order and later masks overwrite earlier ones. `maskThreshold` and `overlapMaskAreaThreshold`
 * are ignored, as in transformers.
 */
export function postProcessInstanceSegmentation(
  outputs: Mask2FormerOutputs,
  options: InstanceSegmentationOptions = {},
): InstanceSegmentationResult[] {
  checkOptions(options, INSTANCE_SEGMENTATION_OPTIONS, 'postProcessInstanceSegmentation');
  const { batch, queries, labels } = checkOutputs(outputs);
  const targets = checkTargetSizes(options.targetSizes, batch);
  const threshold = checkThreshold(options.threshold, 'threshold', 0.5);
  checkThreshold(options.maskThreshold, 'maskThreshold', 0.5);
  checkThreshold(options.overlapMaskAreaThreshold, 'overlapMaskAreaThreshold', 0.8);
  if (options.returnCocoAnnotation && options.returnBinaryMaps) {
    throw new InvalidArgumentError('returnCocoAnnotation and returnBinaryMaps cannot both be true');
  }
  const logits = masksAt384(outputs).data;
  const classes = softmax(outputs.class_queries_logits).data;
  const plane = MASK_SIZE * MASK_SIZE;
  const results: InstanceSegmentationResult[] = [];
  for (let b = 0; b < batch; b++) {
    const scores = new Float32Array(queries * labels);
    for (let q = 0; q < queries; q++) {
      for (let c = 0; c < labels; c++)
        scores[q * labels + c] = classes[(b * queries + q) * (labels + 1) + c]!;
    }
    const order = torchTopKUnsortedIndices(scores, queries);
    const [height, width] = targets?.[b] ?? [MASK_SIZE, MASK_SIZE];
    const segmentation = new Float32Array(height * width).fill(-1);
    const segments: SegmentInfo[] = [];
    const kept: Float32Array[] = [];
    for (const flat of order) {
      const query = Math.floor(flat / labels);
      const offset = (b * queries + query) * plane;
      let binary: Float32Array = new Float32Array(plane);
      let inside = 0;
      let area = 0;
      for (let p = 0; p < plane; p++) {
        const logit = logits[offset + p]!;
        if (logit > 0) {
          binary[p] = 1;
          inside += Math.fround(sigmoidOf(logit));
          area++;
        }
      }
      // float32 as torch: sum / (area + 1e-6), then times the class probability.
      const maskScore = Math.fround(Math.fround(inside) / Math.fround(area + 1e-6));
      const score = Math.fround(scores[flat]! * maskScore);
      if (targets) {
        binary = resizeNearest(new Tensor('float32', binary, [MASK_SIZE, MASK_SIZE]), [height, width]).data;
      }
      if (!(score >= threshold) || !binary.includes(1)) continue;
      const id = segments.length;
      for (let p = 0; p < binary.length; p++) if (binary[p] === 1) segmentation[p] = id;
      segments.push({ id, label_id: flat % labels, was_fused: false, score: round6(score) });
      kept.push(binary);
    }
    const map = new Tensor('float32', segmentation, [height, width]);
    let result: Tensor<'float32'> | number[][] = map;
    if (options.returnCocoAnnotation) result = segmentationToRle(map);
    else if (options.returnBinaryMaps && kept.length > 0) {
      const stacked = new Float32Array(kept.length * height * width);
      for (const [i, mask] of kept.entries()) stacked.set(mask, i * height * width);
      result = new Tensor('float32', stacked, [kept.length, height, width]);
    }
    results.push({ segmentation: result, segments_info: segments });
  }
  return results;
}

/**
 * transformers' `post_process_panoptic_segmentation`. Per image: each query's best class over all classes
 * (including "no object"); queries whose class is not "no object" and whose probability is > `threshold` are
 * kept. Their sigmoid mask probabilities (384x384, then bilinear to the target size) are multiplied by that
 * probability and each pixel goes to the query with the largest value (the first on ties). In query order, a query
 * becomes a segment when it won pixels and won area / area(weighted probability >= `maskThreshold`) >
 * `overlapMaskAreaThreshold`. Ids count from 1; a label in `labelIdsToFuse` reuses the id of its first segment
 * and gets one `segments_info` entry per query. Quirk kept on purpose: when a fused label comes again, the id
 * counter is set back to that label's id, so the next new segment REUSES an id (fixture case
 * `crafted-panoptic-fuse-thresholds`, transformers 4.37.2's `compute_segments`). When no query is kept the map is
 * float32 all -1, as transformers returns it.
 */
export function postProcessPanopticSegmentation(
  outputs: Mask2FormerOutputs,
  options: PanopticSegmentationOptions = {},
): PanopticSegmentationResult[] {
  checkOptions(options, PANOPTIC_SEGMENTATION_OPTIONS, 'postProcessPanopticSegmentation');
  const { batch, queries, labels } = checkOutputs(outputs);
  const targets = checkTargetSizes(options.targetSizes, batch);
  const threshold = checkThreshold(options.threshold, 'threshold', 0.5);
  const maskThreshold = checkThreshold(options.maskThreshold, 'maskThreshold', 0.5);
  const overlap = checkThreshold(options.overlapMaskAreaThreshold, 'overlapMaskAreaThreshold', 0.8);
  const fuse = new Set(checkLabelIds(options.labelIdsToFuse));
  const classes = softmax(outputs.class_queries_logits).data;
  const results: PanopticSegmentationResult[] = [];
  for (let b = 0; b < batch; b++) {
    const keptQueries: number[] = [];
    const keptScores: number[] = [];
    const keptLabels: number[] = [];
    for (let q = 0; q < queries; q++) {
      const row = (b * queries + q) * (labels + 1);
      let best = 0;
      for (let c = 1; c <= labels; c++) if (classes[row + c]! > classes[row + best]!) best = c;
      const score = classes[row + best]!;
      if (best !== labels && score > threshold) {
        keptQueries.push(q);
        keptScores.push(score);
        keptLabels.push(best);
      }
    }
    const [height, width] = targets?.[b] ?? [MASK_SIZE, MASK_SIZE];
    if (keptQueries.length === 0) {
      results.push({
        segmentation: new Tensor('float32', new Float32Array(height * width).fill(-1), [height, width]),
        segments_info: [],
      });
      continue;
    }
    // Only the kept queries' masks are resized and squashed: the same values as doing all of them first.
    let weighted = sigmoid(queryMasksAt384(outputs, b, keptQueries));
    if (targets) weighted = interpolateBilinear(weighted, [height, width]);
    const size = height * width;
    const data = weighted.data;
    for (const [k, score] of keptScores.entries()) {
      for (let p = k * size; p < (k + 1) * size; p++) data[p] = Math.fround(data[p]! * score);
    }
    const owner = argmaxFirstAxis(weighted).data;
    const segmentation = new Int32Array(size);
    const segments: SegmentInfo[] = [];
    const fusedIds = new Map<number, number>();
    let currentId = 0;
    for (const [k, label] of keptLabels.entries()) {
      let won = 0;
      let original = 0;
      for (let p = 0; p < size; p++) {
        if (owner[p] === k) won++;
        if (data[k * size + p]! >= maskThreshold) original++;
      }
      if (won === 0 || original === 0 || !(Math.fround(won / original) > overlap)) continue;
      const shouldFuse = fuse.has(label);
      const reused = fusedIds.get(label);
      currentId = reused ?? currentId + 1;
      for (let p = 0; p < size; p++) if (owner[p] === k) segmentation[p] = currentId;
      segments.push({ id: currentId, label_id: label, was_fused: shouldFuse, score: round6(keptScores[k]!) });
      if (shouldFuse) fusedIds.set(label, currentId);
    }
    results.push({
      segmentation: new Tensor('int32', segmentation, [height, width]),
      segments_info: segments,
    });
  }
  return results;
}

function checkLabelIds(ids: Iterable<number> | undefined): number[] {
  if (ids === undefined || ids === null) return [];
  if (typeof (ids as Iterable<number>)[Symbol.iterator] !== 'function' || typeof ids === 'string') {
    throw new InvalidArgumentError(
      `labelIdsToFuse must be a list or set of label ids, got ${JSON.stringify(ids)}`,
    );
  }
  const list = [...ids];
  for (const id of list) {
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      throw new InvalidArgumentError(
        `labelIdsToFuse must hold integer label ids, got ${JSON.stringify(list)}`,
      );
    }
  }
  return list;
}

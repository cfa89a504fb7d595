import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { checkThreshold } from '../validation/numbers.js';

/**
 * Box geometry for detection post-processing, with PyTorch's float32 arithmetic: every operation is rounded to
 * float32 (`Math.fround`) as transformers' `center_to_corners_format`, `box_iou` and `generalized_box_iou` compute
 * on float32 tensors, so that comparisons with a threshold (NMS, `iou >= 0.8 * max`) go the same way as in Python.
 *
 * Boxes are flat arrays of 4 numbers per box: (cx, cy, w, h) for center format, (x0, y0, x1, y1) for corners.
 */

const f = Math.fround;

/** A box as its corners: left, top, right, bottom. */
export interface BoundingBox {
  xmin: number;
  ymin: number;
  xmax: number;
  ymax: number;
}

function checkFlatBoxes(boxes: ArrayLike<number>, name: string): number {
  if (boxes.length % 4 !== 0) {
    throw new InputShapeError(`${name} must hold 4 numbers per box, got ${boxes.length} numbers`);
  }
  return boxes.length / 4;
}

/**
 * (cx, cy, w, h) -> (x0, y0, x1, y1), transformers' `center_to_corners_format` on float32 tensors:
 * `x0 = cx - 0.5 * w` and so on, each rounded to float32.
 *
 * @example
 * centerToCorners([0.5, 0.5, 0.2, 0.4]); // Float32Array [0.4, 0.3, 0.6, 0.7]
 */
export function centerToCorners(boxes: ArrayLike<number>): Float32Array {
  const count = checkFlatBoxes(boxes, 'boxes');
  const out = new Float32Array(count * 4);
  for (let i = 0; i < count * 4; i += 4) {
    const cx = boxes[i]!;
    const cy = boxes[i + 1]!;
    const halfW = f(0.5 * boxes[i + 2]!);
    const halfH = f(0.5 * boxes[i + 3]!);
    out[i] = cx - halfW;
    out[i + 1] = cy - halfH;
    out[i + 2] = cx + halfW;
    out[i + 3] = cy + halfH;
  }
  return out;
}

/** Area of the corner box at `offset` (a multiple of 4) of `boxes`: (x1 - x0) * (y1 - y0), not clamped. */
export function boxArea(boxes: ArrayLike<number>, offset = 0): number {
  return f(f(boxes[offset + 2]! - boxes[offset]!) * f(boxes[offset + 3]! - boxes[offset + 1]!));
}

/**
 * IoU and union of two corner boxes (`a` at `aOffset`, `b` at `bOffset`), as transformers' `box_iou`:
 * intersection clamped at 0, union = area(a) + area(b) - intersection, all in float32.
 */
export function boxIouAndUnion(
  a: ArrayLike<number>,
  aOffset: number,
  b: ArrayLike<number>,
  bOffset: number,
): { iou: number; union: number } {
  const left = Math.max(a[aOffset]!, b[bOffset]!);
  const top = Math.max(a[aOffset + 1]!, b[bOffset + 1]!);
  const right = Math.min(a[aOffset + 2]!, b[bOffset + 2]!);
  const bottom = Math.min(a[aOffset + 3]!, b[bOffset + 3]!);
  const inter = f(Math.max(f(right - left), 0) * Math.max(f(bottom - top), 0));
  const union = f(f(boxArea(a, aOffset) + boxArea(b, bOffset)) - inter);
  return { iou: f(inter / union), union };
}

/** Intersection over union of two corner boxes (see `boxIouAndUnion`). */
export function boxIou(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number): number {
  return boxIouAndUnion(a, aOffset, b, bOffset).iou;
}

/**
 * Generalized IoU of two corner boxes (transformers' `generalized_box_iou`): IoU - (enclosing area - union) /
 * enclosing area. Throws for a degenerate box (x1 < x0 or y1 < y0), as Python does.
 */
export function generalizedBoxIou(
  a: ArrayLike<number>,
  aOffset: number,
  b: ArrayLike<number>,
  bOffset: number,
): number {
  for (const [box, offset, name] of [
    [a, aOffset, 'first'],
    [b, bOffset, 'second'],
  ] as const) {
    if (!(box[offset + 2]! >= box[offset]! && box[offset + 3]! >= box[offset + 1]!)) {
      throw new InvalidArgumentError(
        `generalized IoU needs boxes with x1 >= x0 and y1 >= y0; the ${name} box is [${Array.from({ length: 4 }, (_, i) => box[offset + i]).join(', ')}]`,
      );
    }
  }
  const { iou, union } = boxIouAndUnion(a, aOffset, b, bOffset);
  const width = Math.max(
    f(Math.max(a[aOffset + 2]!, b[bOffset + 2]!) - Math.min(a[aOffset]!, b[bOffset]!)),
    0,
  );
  const height = Math.max(
    f(Math.max(a[aOffset + 3]!, b[bOffset + 3]!) - Math.min(a[aOffset + 1]!, b[bOffset + 1]!)),
    0,
  );
  const area = f(width * height);
  return f(iou - f(f(area - union) / area));
}

/**
 * IoU of one corner box with each of `boxes` ([n * 4] corners) -> Float32Array [n]; `generalized` gives GIoU.
 */
export function iouWithEach(
  box: ArrayLike<number>,
  boxes: ArrayLike<number>,
  { generalized = false }: { generalized?: boolean } = {},
): Float32Array {
  checkFlatBoxes(box, 'box');
  const count = checkFlatBoxes(boxes, 'boxes');
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = generalized ? generalizedBoxIou(box, 0, boxes, i * 4) : boxIou(box, 0, boxes, i * 4);
  }
  return out;
}

/** Indices sorted by score, highest first; equal scores keep their order (a stable sort). */
export function argsortDescending(scores: ArrayLike<number>): number[] {
  return Array.from({ length: scores.length }, (_, i) => i).sort((i, j) => scores[j]! - scores[i]! || i - j);
}

/**
 * Greedy non-maximum suppression over corner boxes: visit boxes from the highest score down; a box not yet
 * suppressed is kept and suppresses every other box whose IoU with it is greater than `iouThreshold` (strict).
 * Returns the kept indices, highest score first (torchvision's `nms`, with ties broken by index).
 *
 * @example
 * const corners = centerToCorners(predBoxes.data);
 * const keep = greedyNms(corners, scores, 0.3); // [12, 3, 40, ...]
 */
export function greedyNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  iouThreshold: number,
): number[] {
  const count = checkFlatBoxes(boxes, 'boxes');
  if (scores.length !== count) {
    throw new InputShapeError(`greedyNms got ${count} boxes but ${scores.length} scores`);
  }
  checkThreshold(iouThreshold, 'iouThreshold', 0);
  const suppressed = new Uint8Array(count);
  const keep: number[] = [];
  for (const i of argsortDescending(scores)) {
    if (suppressed[i]) continue;
    keep.push(i);
    for (let j = 0; j < count; j++) {
      if (j !== i && !suppressed[j] && boxIou(boxes, i * 4, boxes, j * 4) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}

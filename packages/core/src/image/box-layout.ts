/** A rectangle in pixels: left, top, width, height. */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** How a box relates to the image it is drawn on. */
export type BoxFit = 'inside' | 'clipped' | 'outside';

/** Where one box and its label go on the picture. */
export interface PlacedBox {
  /**
   * The box clipped to the image. A box entirely outside becomes a `stroke`-wide strip along the nearest edge, so
   * that it is still seen, with its label saying so.
   */
  rect: PixelRect;
  fit: BoxFit;
  /** The label text: the box's own, with ` (clipped)` or ` (outside the image)` appended when it does not fit. */
  text: string;
  /** The label's area (its text's estimated extent), inside the image and clear of the labels placed before it. */
  label: PixelRect;
}

/** DejaVu Sans' average advance is ~0.6 em for Latin text; wider scripts may run a little past the estimate. */
const CHAR_WIDTH_EM = 0.6;
const LINE_HEIGHT_EM = 1.25;

function overlaps(a: PixelRect, b: PixelRect): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}

/** The part of the box inside width x height, or for a box entirely outside, a strip on the nearest edge. */
function fitBox(
  box: { xmin: number; ymin: number; xmax: number; ymax: number },
  width: number,
  height: number,
  stroke: number,
): { rect: PixelRect; fit: BoxFit } {
  const x0 = Math.min(box.xmin, box.xmax);
  const x1 = Math.max(box.xmin, box.xmax);
  const y0 = Math.min(box.ymin, box.ymax);
  const y1 = Math.max(box.ymin, box.ymax);
  const cx0 = clamp(x0, 0, width);
  const cx1 = clamp(x1, 0, width);
  const cy0 = clamp(y0, 0, height);
  const cy1 = clamp(y1, 0, height);
  const inside = x0 >= 0 && y0 >= 0 && x1 <= width && y1 <= height;
  if (cx1 > cx0 && cy1 > cy0) {
    return {
      rect: { x: cx0, y: cy0, width: cx1 - cx0, height: cy1 - cy0 },
      fit: inside ? 'inside' : 'clipped',
    };
  }
  // Entirely outside (or of zero area at an edge): a strip where it would enter the image.
  const sx = clamp(cx0, 0, width - stroke);
  const sy = clamp(cy0, 0, height - stroke);
  return {
    rect: {
      x: sx,
      y: sy,
      width: Math.max(stroke, Math.min(cx1, width) - sx),
      height: Math.max(stroke, Math.min(cy1, height) - sy),
    },
    fit: 'outside',
  };
}

/**
 * Lays out labelled boxes on a width x height picture: each box is clipped to the image (and marked so), and each
 * label goes to the first of these spots that is clear of the labels placed before it: above the box's top-left
 * corner, inside it under the top edge, under its bottom edge; failing all three, it moves from the first spot
 * to the nearest clear line below or above. So boxes that share a corner get their labels one under the other
 * instead of on top of each other. Text extents are estimated (0.6 em per character).
 *
 * @example
 * ```ts
 * import { layoutBoxes } from '@ortvision/core';
 *
 * const placed = layoutBoxes(
 *   [
 *     { box: { xmin: 10, ymin: 40, xmax: 90, ymax: 90 }, label: 'a cat' },
 *     { box: { xmin: 10, ymin: 40, xmax: 60, ymax: 70 }, label: 'a remote' },
 *     { box: { xmin: 700, ymin: 10, xmax: 800, ymax: 50 }, label: 'a dog' },
 *   ],
 *   { width: 640, height: 480, fontSize: 16, stroke: 2 },
 * );
 * console.log(placed.map((p) => [p.fit, p.text])); // inside, inside, outside ('a dog (outside the image)')
 * ```
 */
export function layoutBoxes(
  boxes: readonly { box: { xmin: number; ymin: number; xmax: number; ymax: number }; label: string }[],
  { width, height, fontSize, stroke }: { width: number; height: number; fontSize: number; stroke: number },
): PlacedBox[] {
  const lineHeight = Math.ceil(fontSize * LINE_HEIGHT_EM);
  const taken: PixelRect[] = [];
  return boxes.map(({ box, label }) => {
    const { rect, fit } = fitBox(box, width, height, stroke);
    const text =
      fit === 'inside' ? label : `${label} (${fit === 'clipped' ? 'clipped' : 'outside the image'})`;
    const labelWidth = Math.ceil(text.length * fontSize * CHAR_WIDTH_EM) + 4;
    const at = (y: number): PixelRect => ({
      x: clamp(rect.x, 0, width - labelWidth),
      y: clamp(y, 0, height - lineHeight),
      width: labelWidth,
      height: lineHeight,
    });
    const candidates = [at(rect.y - lineHeight - 1), at(rect.y + stroke), at(rect.y + rect.height + 1)];
    let spot = candidates.find((c) => !taken.some((t) => overlaps(c, t)));
    if (!spot) {
      // Every spot is taken: the nearest clear line below or above the first spot (near the bottom edge, where
      // boxes outside the image pile up, only above is left); where none is clear, overlap is unavoidable.
      const first = candidates[0]!;
      const lines = Math.ceil(height / lineHeight);
      for (let k = 1; k <= lines && !spot; k++) {
        spot = [at(first.y + k * lineHeight), at(first.y - k * lineHeight)].find(
          (c) => !taken.some((t) => overlaps(c, t)),
        );
      }
      spot ??= first;
    }
    taken.push(spot);
    return { rect, fit, text, label: spot };
  });
}

import { describe, expect, it } from 'vitest';
import { type PixelRect, layoutBoxes } from './box-layout.js';

const overlap = (a: PixelRect, b: PixelRect) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const size = { width: 640, height: 480, fontSize: 16, stroke: 2 };

describe('layoutBoxes', () => {
  it('gives boxes that share a corner labels that do not overlap (issue #17)', () => {
    const boxes = ['a cat', 'a remote control', 'a sofa', 'a blanket'].map((label, i) => ({
      box: { xmin: 100, ymin: 100, xmax: 300 - i * 30, ymax: 300 - i * 30 },
      label,
    }));
    const placed = layoutBoxes(boxes, size);
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) {
        expect(overlap(placed[i]!.label, placed[j]!.label), `${i} and ${j}`).toBe(false);
      }
    }
    // The first goes above the box, the second inside it under the top edge.
    expect(placed[0]!.label.y + placed[0]!.label.height).toBeLessThanOrEqual(100);
    expect(placed[1]!.label.y).toBeGreaterThanOrEqual(100);
  });

  it('stacks the labels of boxes piled up at the bottom edge upwards, apart', () => {
    const boxes = Array.from({ length: 5 }, (_, i) => ({
      box: { xmin: 500, ymin: 520 + i, xmax: 700, ymax: 700 },
      label: `below ${i}`,
    }));
    const placed = layoutBoxes(boxes, size);
    for (let i = 0; i < placed.length; i++) {
      expect(placed[i]!.fit).toBe('outside');
      expect(placed[i]!.label.y + placed[i]!.label.height).toBeLessThanOrEqual(480);
      for (let j = i + 1; j < placed.length; j++) {
        expect(overlap(placed[i]!.label, placed[j]!.label), `${i} and ${j}`).toBe(false);
      }
    }
  });

  it('keeps labels inside the picture near its edges', () => {
    const [top, right] = layoutBoxes(
      [
        { box: { xmin: 0, ymin: 0, xmax: 50, ymax: 50 }, label: 'top left' },
        { box: { xmin: 600, ymin: 400, xmax: 640, ymax: 480 }, label: 'a long label at the right edge' },
      ],
      size,
    );
    for (const { label } of [top!, right!]) {
      expect(label.x).toBeGreaterThanOrEqual(0);
      expect(label.y).toBeGreaterThanOrEqual(0);
      expect(label.x + label.width).toBeLessThanOrEqual(640);
      expect(label.y + label.height).toBeLessThanOrEqual(480);
    }
  });

  it('clips a box that reaches outside and says so; one entirely outside becomes a strip on the nearest edge', () => {
    const [inside, clipped, outside] = layoutBoxes(
      [
        { box: { xmin: 10, ymin: 10, xmax: 20, ymax: 20 }, label: 'in' },
        { box: { xmin: 600, ymin: -30, xmax: 700, ymax: 40 }, label: 'partly' },
        { box: { xmin: 700, ymin: 100, xmax: 800, ymax: 200 }, label: 'beyond' },
      ],
      size,
    );
    expect(inside).toMatchObject({
      fit: 'inside',
      text: 'in',
      rect: { x: 10, y: 10, width: 10, height: 10 },
    });
    expect(clipped).toMatchObject({
      fit: 'clipped',
      text: 'partly (clipped)',
      rect: { x: 600, y: 0, width: 40, height: 40 },
    });
    expect(outside).toMatchObject({
      fit: 'outside',
      text: 'beyond (outside the image)',
      rect: { x: 638, y: 100, width: 2, height: 100 },
    });
  });

  it('reads boxes given with corners swapped', () => {
    const [box] = layoutBoxes([{ box: { xmin: 50, ymin: 60, xmax: 10, ymax: 20 }, label: 'x' }], size);
    expect(box!.rect).toEqual({ x: 10, y: 20, width: 40, height: 40 });
  });
});

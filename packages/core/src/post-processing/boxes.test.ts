import { describe, expect, it } from 'vitest';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import {
  argsortDescending,
  boxArea,
  boxIou,
  centerToCorners,
  generalizedBoxIou,
  greedyNms,
  iouWithEach,
} from './boxes.js';

describe('centerToCorners', () => {
  it('turns (cx, cy, w, h) into (x0, y0, x1, y1) in float32', () => {
    expect(Array.from(centerToCorners([0.5, 0.5, 0.2, 0.4, 1, 2, 4, 6]))).toEqual([
      Math.fround(0.4),
      Math.fround(0.3),
      Math.fround(0.6),
      Math.fround(0.7),
      -1,
      -1,
      3,
      5,
    ]);
  });

  it('refuses a length that is not a multiple of 4', () => {
    expect(() => centerToCorners([1, 2, 3])).toThrow(InputShapeError);
    expect(() => centerToCorners([1, 2, 3])).toThrow(/4 numbers per box, got 3/);
  });
});

describe('boxIou', () => {
  const boxes = [0, 0, 2, 2, 1, 1, 3, 3, 5, 5, 6, 6];

  it('is intersection over union', () => {
    expect(boxArea(boxes, 4)).toBe(4);
    expect(boxIou(boxes, 0, boxes, 4)).toBe(Math.fround(1 / 7));
    expect(boxIou(boxes, 0, boxes, 0)).toBe(1);
    expect(boxIou(boxes, 0, boxes, 8)).toBe(0);
  });

  it('gives IoU of one box with each other box', () => {
    expect(Array.from(iouWithEach([0, 0, 2, 2], boxes))).toEqual([1, Math.fround(1 / 7), 0]);
  });

  it('generalized IoU is negative for disjoint boxes (enclosing area minus union)', () => {
    // enclosing [0,0,6,6] = 36, union = 4 + 1 = 5: 0 - 31/36
    expect(generalizedBoxIou(boxes, 0, boxes, 8)).toBeCloseTo(-31 / 36, 6);
    expect(Array.from(iouWithEach([0, 0, 2, 2], boxes, { generalized: true }))[0]).toBe(1);
  });

  it('generalized IoU refuses degenerate boxes', () => {
    expect(() => generalizedBoxIou([1, 0, 0, 1], 0, boxes, 0)).toThrow(InvalidArgumentError);
  });
});

describe('greedyNms', () => {
  const boxes = [0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 0, 0, 10, 9];

  it('keeps the best box of each overlapping group, best first', () => {
    expect(greedyNms(boxes, [0.9, 0.8, 0.7, 0.95], 0.5)).toEqual([3, 2]);
    expect(greedyNms(boxes, [0.9, 0.8, 0.7, 0.6], 0.5)).toEqual([0, 2]);
  });

  it('checks its IoU threshold with the one threshold rule', () => {
    expect(() => greedyNms(boxes, [0.9, 0.8, 0.7, 0.6], Number.NaN)).toThrow(
      'iouThreshold must be a finite number, got NaN',
    );
  });

  it('suppresses only above the threshold (strict)', () => {
    const iou = boxIou(boxes, 0, boxes, 4);
    expect(greedyNms(boxes.slice(0, 8), [0.9, 0.8], iou)).toEqual([0, 1]);
    expect(greedyNms(boxes.slice(0, 8), [0.9, 0.8], Math.fround(iou - 1e-6))).toEqual([0]);
  });

  it('breaks ties in index order', () => {
    expect(argsortDescending([0.5, 0.7, 0.5, 0.7])).toEqual([1, 3, 0, 2]);
  });

  it('refuses mismatched inputs and a NaN threshold', () => {
    expect(() => greedyNms(boxes, [1, 2], 0.5)).toThrow(/4 boxes but 2 scores/);
    expect(() => greedyNms(boxes, [1, 2, 3, 4], Number.NaN)).toThrow(InvalidArgumentError);
  });
});

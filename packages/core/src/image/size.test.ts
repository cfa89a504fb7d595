import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { resizeOutputSize, shortestEdgeSize, toSizeDict } from './size.js';

describe('toSizeDict (get_size_dict)', () => {
  it('reads ints per processor and lists as (height, width)', () => {
    expect(toSizeDict(32)).toEqual({ height: 32, width: 32 });
    expect(toSizeDict(72, { defaultToSquare: false })).toEqual({ shortest_edge: 72 });
    expect(toSizeDict([40, 24])).toEqual({ height: 40, width: 24 });
    expect(toSizeDict([5], { defaultToSquare: false })).toEqual({ shortest_edge: 5 });
    expect(toSizeDict({ shortest_edge: 8, longest_edge: 20 })).toEqual({
      shortest_edge: 8,
      longest_edge: 20,
    });
    expect(toSizeDict({ longest_edge: 20, shortest_edge: null } as never)).toEqual({ longest_edge: 20 });
  });

  it('rejects other shapes, naming the field', () => {
    expect(() => toSizeDict({ height: 3 } as never, { name: 'crop_size' })).toThrow(
      /crop_size \{"height":3\} must have the keys/,
    );
    expect(() => toSizeDict(0)).toThrow(InvalidArgumentError);
    expect(() => toSizeDict({ height: 2.5, width: 3 })).toThrow(
      /size.height must be an integer >= 1, got 2.5/,
    );
    expect(() => toSizeDict([1, 2, 3])).toThrow(/1 or 2 elements/);
    expect(() => toSizeDict({ height: Number.NaN, width: 3 })).toThrow(
      'size.height must be an integer >= 1, got NaN',
    );
    expect(() => toSizeDict('3' as never)).toThrow('size must be an int, a list or a dict, got "3"');
  });
});

describe('output sizes', () => {
  it('truncates the long side as get_resize_output_image_size does', () => {
    // cats.png 640x480 with shortest_edge 40 -> (40, int(40 * 640 / 480) = 53)
    expect(shortestEdgeSize(480, 640, 40)).toEqual({ height: 40, width: 53 });
    expect(shortestEdgeSize(451, 300, 32)).toEqual({ height: 48, width: 32 });
  });

  it('caps the long side with longest_edge', () => {
    expect(resizeOutputSize(100, 400, { shortest_edge: 50, longest_edge: 120 })).toEqual({
      height: 30,
      width: 120,
    });
    expect(() => shortestEdgeSize(10, 10, 50, 50)).toThrow(/must be greater than shortest_edge/);
  });

  it('keeps the size when the short side already has the requested length, before any cap (as transformers)', () => {
    expect(shortestEdgeSize(50, 400, 50, 120)).toEqual({ height: 50, width: 400 });
    expect(shortestEdgeSize(80, 50, 50, 50)).toEqual({ height: 80, width: 50 });
  });

  it('scales the long side to longest_edge alone, rounding the other half up', () => {
    expect(resizeOutputSize(300, 451, { longest_edge: 100 })).toEqual({ height: 67, width: 100 });
    expect(resizeOutputSize(7, 9, { height: 3, width: 4 })).toEqual({ height: 3, width: 4 });
  });
});

import { ConfigError, InvalidArgumentError } from '../errors.js';
import type { ImageSize } from './transforms.js';

/**
 * A `size` / `crop_size` as preprocessor_config.json writes it. The four dict forms are transformers' valid
 * size dicts; a bare int (or a one/two-element list) is interpreted per processor, as `get_size_dict` does.
 */
export type SizeDict =
  | { height: number; width: number }
  | { shortest_edge: number }
  | { shortest_edge: number; longest_edge: number }
  | { longest_edge: number };

export type SizeInput = number | readonly number[] | SizeDict;

const VALID_KEYS = [
  ['height', 'width'],
  ['shortest_edge'],
  ['longest_edge', 'shortest_edge'],
  ['longest_edge'],
];

function checkPositiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    // String(NaN) is "NaN" where JSON would print null.
    const given = typeof value === 'number' ? String(value) : JSON.stringify(value);
    throw new InvalidArgumentError(`${what} must be an integer >= 1, got ${given}`);
  }
  return value;
}

/**
 * transformers' `get_size_dict`: an int means `{height: n, width: n}` when `defaultToSquare`, else
 * `{shortest_edge: n}`; a list is `(height, width)`. Fixture case levit-cls `size-int` shows the second form.
 */
export function toSizeDict(
  size: SizeInput,
  { defaultToSquare = true, name = 'size' }: { defaultToSquare?: boolean; name?: string } = {},
): SizeDict {
  if (typeof size === 'number') {
    const n = checkPositiveInt(size, name);
    return defaultToSquare ? { height: n, width: n } : { shortest_edge: n };
  }
  if (Array.isArray(size)) {
    if (size.length === 2) {
      return {
        height: checkPositiveInt(size[0], `${name}[0]`),
        width: checkPositiveInt(size[1], `${name}[1]`),
      };
    }
    if (size.length === 1) return toSizeDict(size[0] as number, { defaultToSquare, name });
    throw new InvalidArgumentError(`${name} must have 1 or 2 elements, got ${JSON.stringify(size)}`);
  }
  if (typeof size !== 'object' || size === null) {
    throw new InvalidArgumentError(`${name} must be an int, a list or a dict, got ${JSON.stringify(size)}`);
  }
  const keys = Object.keys(size)
    .filter(
      (key) =>
        (size as Record<string, unknown>)[key] !== null &&
        (size as Record<string, unknown>)[key] !== undefined,
    )
    .sort();
  if (!VALID_KEYS.some((valid) => valid.length === keys.length && valid.every((k, i) => k === keys[i]))) {
    throw new InvalidArgumentError(
      `${name} ${JSON.stringify(size)} must have the keys {height, width}, {shortest_edge}, {shortest_edge, longest_edge} or {longest_edge}`,
    );
  }
  const out: Record<string, number> = {};
  for (const key of keys)
    out[key] = checkPositiveInt((size as Record<string, unknown>)[key], `${name}.${key}`);
  return out as SizeDict;
}

/** `toSizeDict` for a config file: a bad value is a `ConfigError` naming the file's field. */
export function configSizeDict(
  size: unknown,
  options: { defaultToSquare?: boolean; name: string },
): SizeDict {
  try {
    return toSizeDict(size as SizeInput, options);
  } catch (error) {
    throw new ConfigError((error as Error).message, { cause: error });
  }
}

/**
 * transformers' `get_resize_output_image_size(default_to_square=False)`: the short side becomes `shortest`,
 * the long side `int(shortest * long / short)` (truncated); with `maxSize`, a long side above it becomes
 * `maxSize` and the short side `int(maxSize * short / long)`.
 */
export function shortestEdgeSize(
  height: number,
  width: number,
  shortest: number,
  maxSize?: number,
): ImageSize {
  const [short, long] = width <= height ? [width, height] : [height, width];
  // transformers returns the input size as is when its short side already has the requested length, before
  // looking at max_size (get_resize_output_image_size in 4.37): a long side over max_size then stays.
  if (short === shortest) return { height, width };
  let newShort = shortest;
  let newLong = Math.trunc((shortest * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= shortest) {
      throw new InvalidArgumentError(
        `longest_edge = ${maxSize} must be greater than shortest_edge = ${shortest}`,
      );
    }
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? { height: newLong, width: newShort } : { height: newShort, width: newLong };
}

/**
 * The (height, width) an image of `height` x `width` is resized to for each size form:
 * `{height, width}` exactly; `{shortest_edge}` and `{shortest_edge, longest_edge}` as `shortestEdgeSize`;
 * `{longest_edge}` scales the long side to it with the other side rounded half up (transformers' SAM rule).
 */
export function resizeOutputSize(height: number, width: number, size: SizeDict): ImageSize {
  if ('height' in size) return { height: size.height, width: size.width };
  if ('shortest_edge' in size) {
    return shortestEdgeSize(
      height,
      width,
      size.shortest_edge,
      'longest_edge' in size ? size.longest_edge : undefined,
    );
  }
  const scale = size.longest_edge / Math.max(height, width);
  return { height: Math.trunc(height * scale + 0.5), width: Math.trunc(width * scale + 0.5) };
}

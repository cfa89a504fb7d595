import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { checkOutputPixels } from '../image/limits.js';
import { Tensor } from '../tensor/tensor.js';
import { describeValue } from '../validation/describe-value.js';

/**
 * The (height, width) each image's results are scaled or resized to, as transformers' post-processors take
 * `target_sizes`: one pair per image, or a [batch, 2] tensor; `null` / `undefined`: none.
 */
export type TargetSizes = readonly (readonly [number, number] | readonly number[])[] | Tensor | null;

export interface TargetSizeRules {
  /** Sizes must be whole pixels (maps are allocated at them); checked against the pixel limit too. */
  integers?: boolean;
  /** What the sizes are for, as the pixel-limit message says it ('resize segmentation maps'). */
  purpose?: string;
}

/**
 * The checked (height, width) pairs of `targetSizes` for a batch of `batch` images, or undefined when none are
 * given. A count other than the batch is an `InputShapeError`; a pair that is not two positive finite numbers
 * (integers with `integers`) is an `InvalidArgumentError` naming its index.
 *
 * @example
 * targetSizePairs([[480, 640]], 1); // [[480, 640]]
 */
export function targetSizePairs(
  targetSizes: TargetSizes | undefined,
  batch: number,
  { integers = false, purpose = 'resize the results' }: TargetSizeRules = {},
): [number, number][] | undefined {
  if (targetSizes === undefined || targetSizes === null) return undefined;
  let pairs: unknown[];
  if (targetSizes instanceof Tensor) {
    if (targetSizes.dims.length !== 2 || targetSizes.dims[1] !== 2) {
      throw new InputShapeError(
        `targetSizes must be a [batch, 2] tensor of (height, width), got [${targetSizes.dims.join(', ')}]`,
      );
    }
    const values = targetSizes.toNumbers();
    pairs = Array.from({ length: targetSizes.dims[0]! }, (_, i) => values.slice(2 * i, 2 * i + 2));
  } else if (Array.isArray(targetSizes)) {
    pairs = [...targetSizes];
  } else {
    throw new InvalidArgumentError(
      `targetSizes must be a list of [height, width] or a [batch, 2] tensor, got ${describeValue(targetSizes)}`,
    );
  }
  if (pairs.length !== batch) {
    throw new InputShapeError(
      `got ${pairs.length} target sizes for a batch of ${batch} images: pass one (height, width) per image`,
    );
  }
  return pairs.map((pair, i): [number, number] => {
    const valid =
      Array.isArray(pair) &&
      pair.length === 2 &&
      pair.every(
        (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && (!integers || Number.isInteger(v)),
      );
    if (!valid) {
      throw new InvalidArgumentError(
        `targetSizes[${i}] must be [height, width] with two positive ${integers ? 'integers' : 'numbers'}, got ${describeValue(pair)}`,
      );
    }
    const [height, width] = pair as [number, number];
    // A map is allocated at the target size: refuse sizes no image could have, as core's resizes do.
    if (integers) checkOutputPixels(`${purpose} of image ${i}`, width, height);
    return [height, width];
  });
}

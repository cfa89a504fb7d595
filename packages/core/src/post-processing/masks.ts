import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';

/** Numeric tensors a mask or segmentation map can be stored in. */
type MapTensor = Tensor<'float32'> | Tensor<'int32'> | Tensor<'uint8'> | Tensor<'int8'> | Tensor<'bool'>;

function checkSize(size: readonly number[], what: string): [number, number] {
  if (
    !Array.isArray(size) ||
    size.length !== 2 ||
    !size.every((v) => typeof v === 'number' && Number.isInteger(v) && v > 0)
  ) {
    throw new InvalidArgumentError(
      `${what} must be [height, width] of positive integers, got ${JSON.stringify(size)}`,
    );
  }
  return [size[0]!, size[1]!];
}

/**
 * Source index of each output index for torch's `F.interpolate(mode='nearest')` on CPU: the scale `in / out` is
 * rounded to float32, the product `dst * scale` is float32 too, and the source is its floor (clamped). Doing this
 * in float64 picks a different row for some sizes (fixture mask2former, instance cases with target_sizes).
 */
export function nearestSourceIndices(input: number, output: number): Int32Array {
  const indices = new Int32Array(output);
  const scale = Math.fround(input / output);
  for (let dst = 0; dst < output; dst++) {
    indices[dst] = Math.min(Math.floor(Math.fround(dst * scale)), input - 1);
  }
  return indices;
}

/**
 * Nearest-neighbour resize of the last two axes ([..., H, W] -> [..., outH, outW]) exactly as torch's
 * `F.interpolate(x, size, mode='nearest')` picks pixels (see `nearestSourceIndices`). Any dtype; values are copied.
 */
export function resizeNearest<T extends MapTensor>(tensor: T, size: readonly [number, number]): T {
  if (tensor.rank < 2) {
    throw new InputShapeError(
      `resizeNearest needs a tensor of rank >= 2 ([..., H, W]), got [${tensor.dims.join(', ')}]`,
    );
  }
  const [outH, outW] = checkSize(size, 'resizeNearest size');
  const inH = tensor.dims[tensor.rank - 2]!;
  const inW = tensor.dims[tensor.rank - 1]!;
  if (inH === 0 || inW === 0)
    throw new InputShapeError(`resizeNearest: cannot resize an empty ${inH}x${inW} plane`);
  const rows = nearestSourceIndices(inH, outH);
  const cols = nearestSourceIndices(inW, outW);
  const planes = tensor.size / (inH * inW);
  const input = tensor.data as ArrayLike<number>;
  const Ctor = tensor.data.constructor as new (length: number) => typeof tensor.data;
  const output = new Ctor(planes * outH * outW) as unknown as { [i: number]: number };
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < outH; y++) {
      const from = p * inH * inW + rows[y]! * inW;
      const to = (p * outH + y) * outW;
      for (let x = 0; x < outW; x++) output[to + x] = input[from + cols[x]!]!;
    }
  }
  return new Tensor(tensor.dtype, output as unknown as T['data'], [
    ...tensor.dims.slice(0, -2),
    outH,
    outW,
  ]) as T;
}

/**
 * Run-length encoding of a binary mask as transformers' `binary_mask_to_rle` writes it: the mask is flattened in
 * row-major order and each run of non-zero pixels becomes two numbers, its 1-based start and its length
 * (`[start1, length1, start2, length2, ...]`). This is not pycocotools' column-major `counts`.
 */
export function binaryMaskToRle(mask: ArrayLike<number | boolean>): number[] {
  const runs: number[] = [];
  let start = -1;
  for (let i = 0; i < mask.length; i++) {
    const on = Number(mask[i]) !== 0;
    if (on && start < 0) start = i;
    else if (!on && start >= 0) {
      runs.push(start + 1, i - start);
      start = -1;
    }
  }
  if (start >= 0) runs.push(start + 1, mask.length - start);
  return runs;
}

/** The distinct values of a map, ascending (`torch.unique`). */
export function uniqueValues(values: ArrayLike<number>): number[] {
  return [...new Set(Array.from(values))].sort((a, b) => a - b);
}

/**
 * transformers' `convert_segmentation_to_rle`: one run-length encoding (see `binaryMaskToRle`) per distinct value
 * of the segmentation map, in ascending value order (so an instance map's -1 background comes first).
 */
export function segmentationToRle(segmentation: Tensor<'float32'> | Tensor<'int32'>): number[][] {
  const data = segmentation.data;
  return uniqueValues(data).map((value) => {
    const mask = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) mask[i] = data[i] === value ? 1 : 0;
    return binaryMaskToRle(mask);
  });
}

import { Image, type ImageProcessor, InputShapeError, InvalidArgumentError, Tensor } from '@ortvision/core';

export type MaskSpec =
  /** Mask this fraction of the patches, chosen at random (seeded, so results are reproducible). */
  | { ratio: number; seed?: number }
  /** Mask exactly these patch indices (row-major: index = row * patchesPerSide + column). */
  | { patches: readonly number[] };

// mulberry32: a small seeded generator; reproducible masks matter more here than statistical quality.
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds `bool_masked_pos` [batch, numPatches] for `ViTForMaskedImageModeling`: every image gets the same mask,
 * either `round(ratio * numPatches)` patches drawn at random with `seed`, or an explicit patch list.
 */
export function maskPatches(numPatches: number, spec: MaskSpec, batch = 1): Tensor<'bool'> {
  if (!Number.isInteger(numPatches) || numPatches < 1) {
    throw new InvalidArgumentError(`numPatches must be a positive integer, got ${numPatches}`);
  }
  if (!Number.isInteger(batch) || batch < 1)
    throw new InvalidArgumentError(`batch must be a positive integer, got ${batch}`);
  const row = new Uint8Array(numPatches);
  if ('patches' in spec) {
    for (const patch of spec.patches) {
      if (!Number.isInteger(patch) || patch < 0 || patch >= numPatches) {
        throw new InvalidArgumentError(
          `patch index ${patch} is out of range (expected 0..${numPatches - 1})`,
        );
      }
      row[patch] = 1;
    }
  } else {
    const { ratio, seed = 0 } = spec;
    if (!(ratio >= 0 && ratio <= 1)) throw new InvalidArgumentError(`ratio must be in [0, 1], got ${ratio}`);
    const order = Array.from({ length: numPatches }, (_, i) => i);
    const random = seededRandom(seed);
    // Fisher-Yates shuffle, then the first k are masked.
    for (let i = numPatches - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const index of order.slice(0, Math.round(ratio * numPatches))) row[index] = 1;
  }
  const data = new Uint8Array(batch * numPatches);
  for (let b = 0; b < batch; b++) data.set(row, b * numPatches);
  return new Tensor('bool', data, [batch, numPatches]);
}

/**
 * Turns `reconstruction` [batch, 3, H, W] (normalized like the model's inputs) back into RGB images: undo the
 * processor's normalization and rescaling, round and clip to 0..255.
 */
export function reconstructionToImages(
  reconstruction: Tensor<'float32'>,
  processor: ImageProcessor,
): Image[] {
  if (reconstruction.rank !== 4 || reconstruction.dims[1] !== 3) {
    throw new InputShapeError(
      `reconstruction must be [batch, 3, height, width], got [${reconstruction.dims.join(', ')}]`,
    );
  }
  const [batch, , height, width] = reconstruction.dims as [number, number, number, number];
  const { doNormalize, imageMean, imageStd, doRescale, rescaleFactor } = processor.resolveOptions();
  const plane = height * width;
  const images: Image[] = [];
  for (let b = 0; b < batch; b++) {
    const pixels = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const source = reconstruction.data.subarray((b * 3 + c) * plane, (b * 3 + c + 1) * plane);
      const mean = doNormalize ? imageMean[c]! : 0;
      const std = doNormalize ? imageStd[c]! : 1;
      const scale = doRescale ? 1 / rescaleFactor : 1;
      for (let p = 0; p < plane; p++) {
        const value = Math.round((source[p]! * std + mean) * scale);
        pixels[p * 3 + c] = value < 0 ? 0 : value > 255 ? 255 : value;
      }
    }
    images.push(new Image(pixels, width, height, 3));
  }
  return images;
}

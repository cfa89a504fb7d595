// Optical flow with PerceiverForOpticalFlow on whole frames. transformers 4.37 has no processor for it: the model
// card (deepmind/optical-flow-perceiver) links the example notebook (NielsRogge/Transformers-Tutorials,
// Perceiver/Perceiver_for_Optical_Flow.ipynb), whose normalize / extract_image_patches / compute_grid_indices /
// compute_optical_flow this module reproduces (fixture perceiver-flow: case flow-patches and optical-flow-tiled).
import {
  type Image,
  InputShapeError,
  InvalidArgumentError,
  type RunOptions,
  Tensor,
  checkFiniteNumber,
  checkInteger,
  describeValue,
  optionNames,
} from '@ortvision/core';

/** The model's input: the flow between two frames, from 3x3 neighbourhoods of every pixel. */
const KERNEL = 3;

/** What the tiling needs of the model: its window size and a forward pass on patches. */
export interface OpticalFlowModel {
  readonly config: { readonly train_size: readonly number[] };
  forward(
    inputs: { inputs: Tensor<'float32'> },
    options?: RunOptions,
  ): Promise<{ logits: Tensor<'float32'> }>;
}

export interface OpticalFlowOptions {
  /**
   * Least overlap of neighbouring tiles, in pixels: default 20 (the notebook's), or tile size - 1 for models whose
   * train_size is smaller than 21. Must be below train_size.
   */
  minOverlap?: number;
  /** The model predicts flow / this factor (default 20, the notebook's FLOW_SCALE_FACTOR). */
  flowScaleFactor?: number;
  /** Tiles per model run (default 1); more is faster and takes more memory. */
  batchSize?: number;
}

/** The keys of `OpticalFlowOptions`. */
export const OPTICAL_FLOW_OPTIONS = optionNames<OpticalFlowOptions>({
  minOverlap: true,
  flowScaleFactor: true,
  batchSize: true,
});

/** A frame as the notebook feeds it: x / 255 * 2 - 1 per RGB value, HWC. */
interface NormalizedFrame {
  data: Float32Array;
  width: number;
  height: number;
}

function normalizeFrame(image: Image): NormalizedFrame {
  const rgb = image.channels === 3 ? image : image.toRGB();
  // float64 arithmetic as numpy does it, rounded once when the notebook calls .float()
  const data = Float32Array.from(rgb.data, (value) => (value / 255) * 2 - 1);
  return { data, width: rgb.width, height: rgb.height };
}

/**
 * Writes the patches of one tile of one frame into `out` at `offset`: channel (ky * 3 + kx) * 3 + c holds the
 * pixel at (y + ky - 1, x + kx - 1), zero outside the tile (TF 'SAME' padding of the tile alone).
 */
function writePatches(
  out: Float32Array,
  offset: number,
  frame: NormalizedFrame,
  [top, left, height, width]: readonly [number, number, number, number],
): void {
  const plane = height * width;
  const half = (KERNEL - 1) >> 1;
  for (let ky = 0; ky < KERNEL; ky++) {
    for (let kx = 0; kx < KERNEL; kx++) {
      for (let c = 0; c < 3; c++) {
        const base = offset + ((ky * KERNEL + kx) * 3 + c) * plane;
        for (let i = 0; i < height; i++) {
          const sy = i + ky - half;
          if (sy < 0 || sy >= height) continue;
          for (let j = 0; j < width; j++) {
            const sx = j + kx - half;
            if (sx < 0 || sx >= width) continue;
            out[base + i * width + j] = frame.data[((top + sy) * frame.width + left + sx) * 3 + c]!;
          }
        }
      }
    }
  }
}

function checkPair(frame1: Image, frame2: Image): void {
  if (frame1.width !== frame2.width || frame1.height !== frame2.height) {
    throw new InputShapeError(
      `the two frames must have the same size, got ${frame1.width}x${frame1.height} and ${frame2.width}x${frame2.height}`,
    );
  }
}

/**
 * The model input for two frames of the same size (the notebook's normalize + extract_image_patches): float32
 * [1, 2, 27, H, W], frame 1 then frame 2, channel (ky * 3 + kx) * 3 + c of the 3x3 neighbourhood, zero padding.
 * For PerceiverForOpticalFlow.forward the frames must be config.train_size; `opticalFlow` handles any size.
 *
 * @example
 * ```ts
 * import { loadImage } from '@ortvision/core';
 * import { extractImagePatches } from '@ortvision/perceiver';
 * const inputs = extractImagePatches(await loadImage('frame1.png'), await loadImage('frame2.png'));
 * ```
 */
export function extractImagePatches(frame1: Image, frame2: Image): Tensor<'float32'> {
  checkPair(frame1, frame2);
  const { width, height } = frame1;
  const out = new Float32Array(2 * KERNEL * KERNEL * 3 * height * width);
  [frame1, frame2].forEach((frame, f) =>
    writePatches(out, f * KERNEL * KERNEL * 3 * height * width, normalizeFrame(frame), [0, 0, height, width]),
  );
  return new Tensor('float32', out, [1, 2, KERNEL * KERNEL * 3, height, width]);
}

/**
 * The notebook's compute_grid_indices: top-left corners [y, x] of train_size tiles every (size - minOverlap)
 * pixels, the last row and column moved flush with the border; duplicates are kept (they count twice in the
 * blend, as in the notebook). Where the notebook would place a tile past the border (for some sizes a tile before
 * the last one ends outside the image, and the notebook fails on it), the tile is moved flush with the border too.
 */
export function computeGridIndices(
  imageSize: readonly [number, number],
  patchSize: readonly [number, number],
  minOverlap = 20,
): [number, number][] {
  const [height, width] = imageSize;
  const [ph, pw] = patchSize;
  if (!Number.isInteger(minOverlap) || minOverlap < 0 || minOverlap >= ph || minOverlap >= pw) {
    throw new InvalidArgumentError(
      `minOverlap must be an integer from 0 to ${Math.min(ph, pw) - 1} (below the tile size ${ph}x${pw}), got ${describeValue(minOverlap)}`,
    );
  }
  if (height < ph || width < pw) {
    throw new InputShapeError(`the image (${height}x${width}) is smaller than one tile (${ph}x${pw})`);
  }
  const starts = (size: number, patch: number) => {
    const list: number[] = [];
    for (let s = 0; s < size; s += patch - minOverlap) list.push(Math.min(s, size - patch));
    list[list.length - 1] = size - patch;
    return list;
  };
  const ys = starts(height, ph);
  const xs = starts(width, pw);
  return ys.flatMap((y) => xs.map((x): [number, number] => [y, x]));
}

/** Pads a normalized frame with zeros (the normalized value of mid-grey) on the bottom and right. */
function padFrame(frame: NormalizedFrame, height: number, width: number): NormalizedFrame {
  if (frame.height === height && frame.width === width) return frame;
  const data = new Float32Array(height * width * 3);
  for (let y = 0; y < frame.height; y++) {
    data.set(frame.data.subarray(y * frame.width * 3, (y + 1) * frame.width * 3), y * width * 3);
  }
  return { data, width, height };
}

/**
 * Flow from frame 1 to frame 2, float32 [H, W, 2] (dx, dy) in pixels, for frames of any size: the notebook's
 * tiled inference (tiles of config.train_size from `computeGridIndices`, patches per tile, logits times
 * `flowScaleFactor`, blended with weights min(x + 1, w - x, y + 1, h - y) and divided by their sum). Frames
 * smaller than a tile are zero-padded (bottom/right, in normalized space) to one tile and the flow is cropped back.
 *
 * @example
 * ```ts
 * import { loadImage } from '@ortvision/core';
 * import { PerceiverForOpticalFlow, computeOpticalFlow } from '@ortvision/perceiver';
 * const model = await PerceiverForOpticalFlow.fromPretrained('deepmind/optical-flow-perceiver');
 * const flow = await computeOpticalFlow(model, await loadImage('a.png'), await loadImage('b.png'));
 * ```
 */
export async function computeOpticalFlow(
  model: OpticalFlowModel,
  frame1: Image,
  frame2: Image,
  { minOverlap, flowScaleFactor = 20, batchSize = 1 }: OpticalFlowOptions = {},
  options?: RunOptions,
): Promise<Tensor<'float32'>> {
  checkPair(frame1, frame2);
  checkInteger(batchSize, 'batchSize', { min: 1 });
  checkFiniteNumber(flowScaleFactor, 'flowScaleFactor');
  const [ph, pw] = model.config.train_size as [number, number];
  const { width, height } = frame1;
  const [fullH, fullW] = [Math.max(height, ph), Math.max(width, pw)];
  const frames = [frame1, frame2].map((f) => padFrame(normalizeFrame(f), fullH, fullW));
  const grid = computeGridIndices([fullH, fullW], [ph, pw], minOverlap ?? Math.min(20, ph - 1, pw - 1));
  const flows = new Float64Array(fullH * fullW * 2);
  const counts = new Float64Array(fullH * fullW);
  const tileSize = 2 * KERNEL * KERNEL * 3 * ph * pw;
  for (let start = 0; start < grid.length; start += batchSize) {
    const tiles = grid.slice(start, start + batchSize);
    const inputs = new Float32Array(tiles.length * tileSize);
    tiles.forEach(([y, x], t) => {
      frames.forEach((frame, f) =>
        writePatches(inputs, t * tileSize + (f * tileSize) / 2, frame, [y, x, ph, pw]),
      );
    });
    const { logits } = await model.forward(
      { inputs: new Tensor('float32', inputs, [tiles.length, 2, KERNEL * KERNEL * 3, ph, pw]) },
      options,
    );
    tiles.forEach(([y, x], t) => {
      for (let i = 0; i < ph; i++) {
        for (let j = 0; j < pw; j++) {
          const weight = Math.min(j + 1, pw - j, i + 1, ph - i);
          const pixel = (y + i) * fullW + x + j;
          const source = ((t * ph + i) * pw + j) * 2;
          for (let c = 0; c < 2; c++) {
            flows[pixel * 2 + c]! += Math.fround(logits.data[source + c]! * flowScaleFactor) * weight;
          }
          counts[pixel]! += weight;
        }
      }
    });
  }
  const out = new Float32Array(height * width * 2);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const pixel = y * fullW + x;
      for (let c = 0; c < 2; c++) out[(y * width + x) * 2 + c] = flows[pixel * 2 + c]! / counts[pixel]!;
    }
  }
  return new Tensor('float32', out, [height, width, 2]);
}

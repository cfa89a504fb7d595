import {
  Image,
  InputShapeError,
  InvalidArgumentError,
  type Tensor,
  checkOptions,
  describeValue,
  optionNames,
} from '@ortvision/core';

// The Middlebury colour wheel (Baker et al., "A Database and Evaluation Methodology for Optical Flow", 2011):
// hue segments red-yellow, yellow-green, green-cyan, cyan-blue, blue-magenta, magenta-red with these lengths.
const SEGMENTS: readonly [number, readonly [number, number, number], readonly [number, number, number]][] = [
  [15, [255, 0, 0], [255, 255, 0]],
  [6, [255, 255, 0], [0, 255, 0]],
  [4, [0, 255, 0], [0, 255, 255]],
  [11, [0, 255, 255], [0, 0, 255]],
  [13, [0, 0, 255], [255, 0, 255]],
  [6, [255, 0, 255], [255, 0, 0]],
];

function colourWheel(): Float64Array[] {
  const wheel: Float64Array[] = [];
  for (const [length, from, to] of SEGMENTS) {
    for (let i = 0; i < length; i++) {
      // integer steps, as the reference wheel is built: floor(255 * i / length)
      wheel.push(
        Float64Array.from([0, 1, 2], (c) =>
          from[c] === to[c]
            ? from[c]!
            : from[c]! < to[c]!
              ? Math.floor((255 * i) / length)
              : 255 - Math.floor((255 * i) / length),
        ),
      );
    }
  }
  return wheel;
}

const WHEEL = colourWheel();

export interface FlowToImageOptions {
  /**
   * The flow magnitude (pixels) shown at full saturation. Default: the largest magnitude in the field, so that
   * the strongest motion is fully saturated. Fix it to compare several fields on one scale.
   */
  maxFlow?: number;
}

/** The keys of `FlowToImageOptions`. */
export const FLOW_TO_IMAGE_OPTIONS = optionNames<FlowToImageOptions>({ maxFlow: true });

/**
 * Renders a flow field [H, W, 2] (dx, dy in pixels, as `opticalFlow` returns it) with the standard colour wheel
 * of optical-flow papers: the hue is the direction, the saturation the magnitude (white = still). Magnitudes
 * above `maxFlow` are darkened. Returns an RGB `Image`; `.save('flow.png')` or `.toPng()` writes it.
 *
 * @example
 * ```ts
 * import { flowToImage, opticalFlow } from '@ortvision/perceiver';
 * const flowOf = await opticalFlow('deepmind/optical-flow-perceiver');
 * await flowToImage(await flowOf('frame1.png', 'frame2.png')).save('flow.png');
 * ```
 */
export function flowToImage(flow: Tensor<'float32'>, options: FlowToImageOptions = {}): Image {
  const { maxFlow } = checkOptions(options, FLOW_TO_IMAGE_OPTIONS, 'flowToImage');
  if (flow.rank !== 3 || flow.dims[2] !== 2) {
    throw new InputShapeError(`a flow field must be [height, width, 2], got [${flow.dims.join(', ')}]`);
  }
  if (maxFlow !== undefined && !(Number.isFinite(maxFlow) && maxFlow > 0)) {
    throw new InvalidArgumentError(`maxFlow must be a positive number, got ${describeValue(maxFlow)}`);
  }
  const [height, width] = flow.dims as [number, number];
  let scale = maxFlow;
  if (scale === undefined) {
    scale = 0;
    for (let p = 0; p < height * width; p++)
      scale = Math.max(scale, Math.hypot(flow.data[2 * p]!, flow.data[2 * p + 1]!));
  }
  const normalizer = scale + 1e-5;
  const pixels = new Uint8Array(height * width * 3);
  const n = WHEEL.length;
  for (let p = 0; p < height * width; p++) {
    const u = flow.data[2 * p]! / normalizer;
    const v = flow.data[2 * p + 1]! / normalizer;
    const radius = Math.hypot(u, v);
    const angle = Math.atan2(-v, -u) / Math.PI;
    const position = ((angle + 1) / 2) * (n - 1);
    const k0 = Math.floor(position);
    const k1 = k0 + 1 === n ? 0 : k0 + 1;
    const f = position - k0;
    for (let c = 0; c < 3; c++) {
      let colour = ((1 - f) * WHEEL[k0]![c]! + f * WHEEL[k1]![c]!) / 255;
      colour = radius <= 1 ? 1 - radius * (1 - colour) : colour * 0.75;
      pixels[p * 3 + c] = Math.floor(255 * colour);
    }
  }
  return new Image(pixels, width, height, 3);
}

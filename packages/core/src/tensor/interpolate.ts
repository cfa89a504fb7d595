import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from './tensor.js';

const f32 = Math.fround;

interface AxisWeights {
  low: Int32Array;
  high: Int32Array;
  lowWeight: Float32Array;
  highWeight: Float32Array;
}

/**
 * Source positions and weights for one axis with align_corners=False, in float32 as torch computes them on CPU for
 * float tensors: scale = in/out, src = max(scale * (dst + 0.5) - 0.5, 0), neighbours floor(src) and the next
 * one (clamped at the border).
 */
function axisWeights(input: number, output: number): AxisWeights {
  const weights: AxisWeights = {
    low: new Int32Array(output),
    high: new Int32Array(output),
    lowWeight: new Float32Array(output),
    highWeight: new Float32Array(output),
  };
  const scale = f32(input / output);
  for (let dst = 0; dst < output; dst++) {
    const source = Math.max(f32(f32(scale * f32(dst + 0.5)) - 0.5), 0);
    const low = Math.floor(source);
    const lambda = Math.min(Math.max(f32(source - low), 0), 1);
    weights.low[dst] = low;
    weights.high[dst] = low < input - 1 ? low + 1 : low;
    weights.highWeight[dst] = lambda;
    weights.lowWeight[dst] = f32(1 - lambda);
  }
  return weights;
}

/**
 * Bilinear resize of the last two axes ([..., H, W] -> [..., outH, outW]) matching torch's
 * `F.interpolate(x, size, mode='bilinear', align_corners=False)` without antialias, in float32 arithmetic.
 * CLIPSeg's masks and Mask2Former's post-processing depend on it.
 */
export function interpolateBilinear(
  tensor: Tensor<'float32'>,
  size: readonly [height: number, width: number],
): Tensor<'float32'> {
  if (tensor.rank < 2) {
    throw new InputShapeError(
      `interpolateBilinear needs a tensor of rank >= 2 ([..., H, W]), got [${tensor.dims.join(', ')}]`,
    );
  }
  const [outH, outW] = size;
  if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH <= 0 || outW <= 0) {
    throw new InvalidArgumentError(
      `interpolateBilinear: size must be two positive integers, got [${size.join(', ')}]`,
    );
  }
  const inH = tensor.dims[tensor.rank - 2]!;
  const inW = tensor.dims[tensor.rank - 1]!;
  if (inH === 0 || inW === 0) {
    throw new InputShapeError(`interpolateBilinear: cannot resize an empty ${inH}x${inW} plane`);
  }
  const planes = tensor.size / (inH * inW);
  const rows = axisWeights(inH, outH);
  const cols = axisWeights(inW, outW);
  const input = tensor.data;
  const output = new Float32Array(planes * outH * outW);
  for (let p = 0; p < planes; p++) {
    const source = p * inH * inW;
    const target = p * outH * outW;
    for (let y = 0; y < outH; y++) {
      const top = source + rows.low[y]! * inW;
      const bottom = source + rows.high[y]! * inW;
      const wTop = rows.lowWeight[y]!;
      const wBottom = rows.highWeight[y]!;
      for (let x = 0; x < outW; x++) {
        const left = cols.low[x]!;
        const right = cols.high[x]!;
        const wLeft = cols.lowWeight[x]!;
        const wRight = cols.highWeight[x]!;
        const upper = f32(f32(wLeft * input[top + left]!) + f32(wRight * input[top + right]!));
        const lower = f32(f32(wLeft * input[bottom + left]!) + f32(wRight * input[bottom + right]!));
        output[target + y * outW + x] = f32(f32(wTop * upper) + f32(wBottom * lower));
      }
    }
  }
  const dims = [...tensor.dims.slice(0, -2), outH, outW];
  return new Tensor('float32', output, dims);
}

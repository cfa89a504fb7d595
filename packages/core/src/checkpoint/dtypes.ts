import { CheckpointError } from '../errors.js';
import { type DataType, Tensor } from '../tensor/tensor.js';
import type { WeightDtype } from './checkpoint.js';

const ITEM_SIZES: Record<WeightDtype, number> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === 'string' && Object.hasOwn(ITEM_SIZES, value);
}

/** Bytes per element of a stored dtype. */
export function itemSize(dtype: WeightDtype): number {
  return ITEM_SIZES[dtype];
}

export function isFloatDtype(dtype: WeightDtype): boolean {
  return dtype === 'float64' || dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16';
}

/** Elements of a checkpoint shape; throws `CheckpointError` naming `where` for a shape that is not one. */
export function elementCount(shape: readonly number[], where: string): number {
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new CheckpointError(`${where} has an invalid shape [${shape.join(', ')}]`);
    }
    count *= dim;
  }
  return count;
}

/** IEEE half to float32, exactly (subnormals, infinities and NaN included). */
function halfToFloat32(bytes: Uint8Array): Float32Array {
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) {
    const h = halves[i]!;
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: mantissa * 2^-24, exact in float32.
      out[i] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 0x1f) {
      bits[i] = sign | 0x7f800000 | (mantissa << 13);
    } else {
      bits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
  }
  return out;
}

/** bfloat16 is the top half of a float32: widening is a shift. */
function bfloat16ToFloat32(bytes: Uint8Array): Float32Array {
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
  return out;
}

/**
 * A tensor over little-endian bytes read from a checkpoint (`bytes` must start at an offset aligned for its
 * dtype, as a fresh ArrayBuffer is): floats become float32, int16 becomes int32, the rest keep their type.
 */
export function tensorFromBytes(
  dtype: WeightDtype,
  shape: readonly number[],
  bytes: Uint8Array,
): Tensor<DataType> {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'float32':
      return new Tensor('float32', new Float32Array(buffer, byteOffset, byteLength / 4), shape);
    case 'float16':
      return new Tensor('float32', halfToFloat32(bytes), shape);
    case 'bfloat16':
      return new Tensor('float32', bfloat16ToFloat32(bytes), shape);
    case 'float64':
      // Float32Array.from rounds to nearest even, as numpy's astype(float32) does.
      return new Tensor(
        'float32',
        Float32Array.from(new Float64Array(buffer, byteOffset, byteLength / 8)),
        shape,
      );
    case 'int64':
      return new Tensor('int64', new BigInt64Array(buffer, byteOffset, byteLength / 8), shape);
    case 'int32':
      return new Tensor('int32', new Int32Array(buffer, byteOffset, byteLength / 4), shape);
    case 'int16':
      return new Tensor('int32', Int32Array.from(new Int16Array(buffer, byteOffset, byteLength / 2)), shape);
    case 'int8':
      return new Tensor('int8', new Int8Array(buffer, byteOffset, byteLength), shape);
    case 'uint8':
      return new Tensor('uint8', new Uint8Array(buffer, byteOffset, byteLength), shape);
    case 'bool':
      return new Tensor('bool', new Uint8Array(buffer, byteOffset, byteLength), shape);
  }
}

import { InputShapeError, InvalidArgumentError } from '../errors.js';

/** The element types ortvision tensors carry, named as ONNX Runtime names them. */
export type DataType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

/** The typed array behind each dtype. `bool` is stored one byte per element (0 or 1), as ONNX Runtime does. */
export interface DataTypeMap {
  float32: Float32Array;
  float64: Float64Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
  bool: Uint8Array;
}

/** A number or nested arrays of numbers, as `Tensor.toNested()` returns. */
export type NestedNumbers = number | NestedNumbers[];

export type TypedArrayOf<T extends DataType> = DataTypeMap[T];
export type AnyTypedArray = DataTypeMap[DataType];

const constructors = {
  float32: Float32Array,
  float64: Float64Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

export function isDataType(value: unknown): value is DataType {
  return typeof value === 'string' && Object.hasOwn(constructors, value);
}

/** Number of elements of a shape; throws on negative or fractional dimensions. */
export function shapeSize(dims: readonly number[]): number {
  let size = 1;
  for (const dim of dims) {
    if (!Number.isInteger(dim) || dim < 0) {
      throw new InputShapeError(
        `invalid tensor shape [${dims.join(', ')}]: dimensions must be integers >= 0`,
      );
    }
    size *= dim;
  }
  return size;
}

/**
 * A dense, row-major (C order) tensor: a dtype, a shape and a typed array. It is the currency between image
 * processors, tokenizers, ONNX Runtime and post-processing; converting to and from `ort.Tensor` shares the
 * buffer instead of copying it.
 */
export class Tensor<T extends DataType = DataType> {
  readonly dtype: T;
  readonly dims: readonly number[];
  readonly data: TypedArrayOf<T>;

  constructor(dtype: T, data: TypedArrayOf<T>, dims: readonly number[]) {
    if (!isDataType(dtype)) throw new InvalidArgumentError(`unknown tensor dtype ${JSON.stringify(dtype)}`);
    const expected = constructors[dtype];
    if (!(data instanceof expected)) {
      throw new InputShapeError(
        `a ${dtype} tensor needs a ${expected.name}, got ${data?.constructor?.name ?? typeof data}`,
      );
    }
    const size = shapeSize(dims);
    if (size !== data.length) {
      throw new InputShapeError(
        `tensor data has ${data.length} elements but shape [${dims.join(', ')}] needs ${size}`,
      );
    }
    this.dtype = dtype;
    this.data = data;
    this.dims = Object.freeze([...dims]);
  }

  /** A tensor of zeros. */
  static zeros<T extends DataType>(dtype: T, dims: readonly number[]): Tensor<T> {
    return new Tensor(dtype, new constructors[dtype](shapeSize(dims)) as TypedArrayOf<T>, dims);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.dims.length;
  }

  /** The same data seen with another shape of the same size (no copy). */
  reshape(dims: readonly number[]): Tensor<T> {
    return new Tensor(this.dtype, this.data, dims);
  }

  /** Nested arrays of plain numbers in the tensor's shape (numpy's `tolist()`); a 0-d tensor gives a number. */
  toNested(): NestedNumbers {
    const values = this.toNumbers();
    const build = (axis: number, offset: number): NestedNumbers => {
      if (axis === this.dims.length) return values[offset]!;
      const stride = this.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.dims[axis]! }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** Element values as plain numbers (int64 converted with Number()); for tests and small outputs. */
  toNumbers(): number[] {
    return Array.from(this.data as ArrayLike<number | bigint>, Number);
  }
}

import * as ort from 'onnxruntime-node';
import { InputShapeError } from '../errors.js';
import { type DataType, Tensor, isDataType } from '../tensor/tensor.js';

/** Wraps a Tensor as an `ort.Tensor` sharing its buffer (no copy). */
export function toOrtTensor(tensor: Tensor): ort.Tensor {
  return new ort.Tensor(tensor.dtype, tensor.data, [...tensor.dims]);
}

/** Wraps an `ort.Tensor` as a Tensor sharing its buffer (no copy). */
export function fromOrtTensor(value: ort.Tensor): Tensor {
  const dtype = value.type as string;
  if (!isDataType(dtype)) {
    throw new InputShapeError(
      `ONNX Runtime returned a ${dtype} tensor, which ortvision does not handle (expected float32, float64, int64, int32, int8, uint8 or bool)`,
    );
  }
  // ORT hands bool tensors back as Uint8Array already; the view keeps exactly `size` elements either way.
  const data =
    dtype === 'bool'
      ? new Uint8Array((value.data as Uint8Array).buffer, (value.data as Uint8Array).byteOffset, value.size)
      : value.data;
  return new Tensor(dtype as DataType, data as Tensor['data'], value.dims);
}

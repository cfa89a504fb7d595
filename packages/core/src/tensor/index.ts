export { Tensor, isDataType, shapeSize } from './tensor.js';
export type { AnyTypedArray, DataType, DataTypeMap, TypedArrayOf } from './tensor.js';

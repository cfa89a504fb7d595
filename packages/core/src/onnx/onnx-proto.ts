import protobuf from 'protobufjs';

/**
 * The part of `onnx.proto3` (github.com/onnx/onnx, onnx/onnx.proto3) that ortvision writes and reads: field numbers
 * and types as the spec declares them, only the messages and fields we use. protobufjs reads this schema at run
 * time (reflection), so there is no generated code to keep in step with it; fields left out here are skipped when
 * decoding, as protobuf does for any unknown field.
 */
const SCHEMA = `
syntax = "proto3";
package onnx;

message AttributeProto {
  string name = 1;
  int32 type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  string name = 1;
  TypeProto type = 2;
  string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
}

message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  string key = 1;
  string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  repeated StringStringEntryProto external_data = 13;
  int32 data_location = 14;
  repeated double double_data = 10 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    int32 elem_type = 1;
    TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}

message OperatorSetIdProto {
  string domain = 1;
  int64 version = 2;
}
`;

/** TensorProto.DataType codes of the element types ortvision graphs use. */
export const ONNX_DATA_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
} as const;

export type OnnxDataType = keyof typeof ONNX_DATA_TYPES;

/** AttributeProto.AttributeType codes. */
export const ATTRIBUTE_TYPES = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  floats: 6,
  ints: 7,
  strings: 8,
} as const;

/** TensorProto.DataLocation.EXTERNAL: the bytes live in another file, described by `external_data`. */
export const DATA_LOCATION_EXTERNAL = 1;

// Plain-object shapes of the messages as protobufjs encodes them (snake_case field names, as in the schema).

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  external_data?: StringStringEntry[];
  data_location?: number;
}

export interface AttributeMessage {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMessage;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface NodeMessage {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain?: string;
  attribute: AttributeMessage[];
}

export interface DimensionMessage {
  dim_value?: number;
  dim_param?: string;
}

export interface ValueInfoMessage {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: DimensionMessage[] } } };
}

export interface GraphMessage {
  name: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
  doc_string?: string;
}

export interface ModelMessage {
  ir_version: number;
  opset_import: { domain: string; version: number }[];
  producer_name: string;
  producer_version: string;
  doc_string?: string;
  graph: GraphMessage;
  metadata_props: StringStringEntry[];
}

let root: protobuf.Root | undefined;

function messageType(name: 'ModelProto' | 'GraphProto' | 'TensorProto'): protobuf.Type {
  root ??= protobuf.parse(SCHEMA, { keepCase: true }).root;
  return root.lookupType(`onnx.${name}`);
}

/**
 * Serializes a message given as a plain object (snake_case fields). protobufjs writes fields in schema order and
 * repeated fields in array order, so the same object always gives the same bytes.
 */
export function encodeMessage(
  name: 'ModelProto' | 'GraphProto' | 'TensorProto',
  message: object,
): Uint8Array {
  const type = messageType(name);
  return type.encode(type.fromObject(message)).finish();
}

/** Parses ModelProto bytes into plain objects (int64 fields as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  const type = messageType('ModelProto');
  return type.toObject(type.decode(bytes), { longs: Number, arrays: true, defaults: false }) as ModelMessage;
}

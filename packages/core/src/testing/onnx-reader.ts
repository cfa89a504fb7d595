import { open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FixtureFormatError } from '../errors.js';
import type { Dim, InitializerArray } from '../onnx/graph.js';
import {
  ATTRIBUTE_TYPES,
  type AttributeMessage,
  DATA_LOCATION_EXTERNAL,
  type ModelMessage,
  ONNX_DATA_TYPES,
  type OnnxDataType,
  type TensorMessage,
  type ValueInfoMessage,
  decodeModel,
} from '../onnx/onnx-proto.js';

/** A graph input or output as an ONNX file declares it. */
export interface OnnxValueInfo {
  readonly name: string;
  readonly dtype: OnnxDataType;
  readonly dims: readonly Dim[];
}

export type OnnxAttributeValue = number | string | readonly number[] | readonly string[] | OnnxTensorInfo;

export interface OnnxNodeInfo {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, OnnxAttributeValue>>;
}

export interface OnnxTensorInfo {
  readonly name: string;
  readonly dtype: OnnxDataType;
  readonly dims: readonly number[];
  /** Where the bytes are in the external data file, when they are there. */
  readonly external?: { readonly location: string; readonly offset: number; readonly length: number };
}

/** What a test needs to know about an ONNX file: opsets, boundary, nodes, initializers (data read on demand). */
export interface OnnxModelInfo {
  readonly irVersion: number;
  readonly producer: string;
  readonly opsets: Readonly<Record<string, number>>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly nodes: readonly OnnxNodeInfo[];
  readonly initializers: readonly OnnxTensorInfo[];
  /** An initializer's values (float16 as IEEE bits), from the graph file or its external data file. */
  readInitializer(name: string): Promise<InitializerArray>;
}

const DTYPE_BY_CODE = new Map<number, OnnxDataType>(
  Object.entries(ONNX_DATA_TYPES).map(([dtype, code]) => [code, dtype as OnnxDataType]),
);

function dtypeOf(path: string, code: number, what: string): OnnxDataType {
  const dtype = DTYPE_BY_CODE.get(code);
  if (!dtype)
    throw new FixtureFormatError(`${path}: ${what} has ONNX data type ${code}, not one ortvision reads`);
  return dtype;
}

function arrayOf(dtype: OnnxDataType, bytes: Uint8Array): InitializerArray {
  // A copy into a fresh buffer, so the typed array starts aligned (a Buffer's slice() would share its pool).
  const buffer = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float16':
      return new Uint16Array(buffer);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
  }
}

function tensorInfo(path: string, tensor: TensorMessage): OnnxTensorInfo {
  const dtype = dtypeOf(path, tensor.data_type, `tensor '${tensor.name}'`);
  const base = { name: tensor.name, dtype, dims: tensor.dims ?? [] };
  if (tensor.data_location !== DATA_LOCATION_EXTERNAL) return base;
  const entry = (key: string) => tensor.external_data?.find((e) => e.key === key)?.value;
  return {
    ...base,
    external: {
      location: entry('location') ?? '',
      offset: Number(entry('offset') ?? 0),
      length: Number(entry('length') ?? 0),
    },
  };
}

function valueInfo(path: string, value: ValueInfoMessage): OnnxValueInfo {
  const tensor = value.type.tensor_type;
  return {
    name: value.name,
    dtype: dtypeOf(path, tensor.elem_type, `value '${value.name}'`),
    dims: (tensor.shape?.dim ?? []).map((d) => d.dim_param ?? d.dim_value ?? 0),
  };
}

function attributeValue(path: string, attribute: AttributeMessage): OnnxAttributeValue {
  switch (attribute.type) {
    case ATTRIBUTE_TYPES.float:
      return attribute.f ?? 0;
    case ATTRIBUTE_TYPES.int:
      return attribute.i ?? 0;
    case ATTRIBUTE_TYPES.string:
      return Buffer.from(attribute.s ?? []).toString('utf8');
    case ATTRIBUTE_TYPES.floats:
      return attribute.floats ?? [];
    case ATTRIBUTE_TYPES.ints:
      return attribute.ints ?? [];
    case ATTRIBUTE_TYPES.strings:
      return (attribute.strings ?? []).map((s) => Buffer.from(s).toString('utf8'));
    case ATTRIBUTE_TYPES.tensor:
      return tensorInfo(path, attribute.t!);
    default:
      throw new FixtureFormatError(`${path}: attribute '${attribute.name}' has type ${attribute.type}`);
  }
}

/**
 * Reads an ONNX file's structure (ortvision's own writer or any exporter) for tests: which nodes, initializers,
 * inputs and outputs it has, and the values of any initializer.
 *
 * @example
 * ```ts
 * const model = await readOnnxModel('fixtures/vit-cls/onnx/model.onnx');
 * model.inputs; // [{ name: 'pixel_values', dtype: 'float32', dims: ['batch_size', 3, 32, 32] }]
 * ```
 */
export async function readOnnxModel(path: string): Promise<OnnxModelInfo> {
  const message: ModelMessage = decodeModel(await readFile(path));
  const graph = message.graph;
  const tensors = new Map((graph.initializer ?? []).map((t) => [t.name, t]));
  return {
    irVersion: message.ir_version,
    producer: message.producer_name ?? '',
    opsets: Object.fromEntries((message.opset_import ?? []).map((o) => [o.domain ?? '', o.version])),
    metadata: Object.fromEntries((message.metadata_props ?? []).map((e) => [e.key, e.value])),
    inputs: (graph.input ?? []).map((v) => valueInfo(path, v)),
    outputs: (graph.output ?? []).map((v) => valueInfo(path, v)),
    nodes: (graph.node ?? []).map((node) => ({
      name: node.name ?? '',
      opType: node.op_type,
      domain: node.domain ?? '',
      inputs: node.input ?? [],
      outputs: node.output ?? [],
      attributes: Object.fromEntries((node.attribute ?? []).map((a) => [a.name, attributeValue(path, a)])),
    })),
    initializers: [...tensors.values()].map((t) => tensorInfo(path, t)),
    async readInitializer(name: string): Promise<InitializerArray> {
      const tensor = tensors.get(name);
      if (!tensor) throw new FixtureFormatError(`${path} has no initializer '${name}'`);
      const info = tensorInfo(path, tensor);
      if (!info.external) return arrayOf(info.dtype, tensor.raw_data ?? new Uint8Array());
      const handle = await open(join(dirname(path), info.external.location), 'r');
      try {
        const bytes = new Uint8Array(info.external.length);
        await handle.read(bytes, 0, bytes.length, info.external.offset);
        return arrayOf(info.dtype, bytes);
      } finally {
        await handle.close();
      }
    },
  };
}

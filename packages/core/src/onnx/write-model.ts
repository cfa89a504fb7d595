import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename } from 'node:path';
import { throwIfAborted } from '../abort.js';
import { InvalidArgumentError } from '../errors.js';
import {
  type BoundaryValue,
  type ConstantTensor,
  type GraphNode,
  type Initializer,
  type InitializerArray,
  type OnnxGraph,
  type ResolvedAttribute,
  checkInitializerArray,
} from './graph.js';
import {
  ATTRIBUTE_TYPES,
  type AttributeMessage,
  DATA_LOCATION_EXTERNAL,
  type GraphMessage,
  type ModelMessage,
  type NodeMessage,
  ONNX_DATA_TYPES,
  type TensorMessage,
  type ValueInfoMessage,
  encodeMessage,
} from './onnx-proto.js';

/** IR version 8: what opset 17 (ONNX 1.12) and the fixtures' torch 1.13 exports use. */
const IR_VERSION = 8;

/** protobuf cannot serialize a message of 2 GiB or more: weights beyond that must be external. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * Initializers smaller than this stay in the graph file even when weights are external (shapes, scalars, small
 * biases), as onnx's own external-data writer does by default.
 */
const EXTERNAL_MIN_BYTES = 1024;

/**
 * Large external tensors start at a multiple of 64 KiB: ONNX Runtime maps external data into memory instead of
 * copying it only when the offset is a multiple of the allocation granularity (4 KiB on Linux and macOS, 64 KiB on
 * Windows). Smaller ones are packed 16-byte aligned, which any typed-array view accepts.
 */
const PAGE_ALIGNMENT = 65_536;
const PAGE_ALIGN_MIN_BYTES = 1_048_576;
const PACK_ALIGNMENT = 16;

/**
 * Where the weights of a written graph go:
 * - 'external' (default): tensors of 1 KiB and more in `<graph file>_data` beside the graph (`model.onnx` +
 *   `model.onnx_data`, the layout of the Hub's ONNX repositories); ONNX Runtime maps that file instead of copying
 *   it, which measured faster to load and lighter in memory at every size we tried (see the README);
 * - 'inline': everything in the graph file (one file to move around; impossible past protobuf's 2 GiB).
 */
export type WeightsLayout = 'external' | 'inline';

/** How far a write is: initializers (weights) produced and written so far, out of all of them. */
export interface WriteProgress {
  /** Initializers written, out of `weightCount`. */
  readonly weights: number;
  readonly weightCount: number;
  /** Their bytes, out of `totalBytes`. */
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface WriteOnnxModelOptions {
  weights?: WeightsLayout;
  /** ModelProto.producer_version (producer_name is 'ortvision'). */
  producerVersion?: string;
  /** Called after each initializer is written (a weight read, transformed and quantized takes the longest). */
  onProgress?: (progress: WriteProgress) => void;
  /**
   * Checked before each initializer is produced: a fired signal stops the write with `AbortedError` (its
   * temporary files are removed; nothing is left under the final names).
   */
  signal?: AbortSignal;
}

/** What producing one initializer needs besides it: the abort check and the progress count. */
class Producer {
  readonly #options: WriteOnnxModelOptions;
  readonly #path: string;
  readonly #weightCount: number;
  readonly #totalBytes: number;
  #weights = 0;
  #bytes = 0;

  constructor(graph: OnnxGraph, path: string, options: WriteOnnxModelOptions) {
    this.#options = options;
    this.#path = path;
    this.#weightCount = graph.initializers.length;
    this.#totalBytes = graph.initializers.reduce((sum, init) => sum + init.byteLength, 0);
  }

  async produce(initializer: Initializer): Promise<InitializerArray> {
    throwIfAborted(this.#options.signal, `writing ${this.#path}`);
    const data = await initializer.produce();
    checkInitializerArray(initializer.value.name, initializer.dtype, initializer.dims, data);
    return data;
  }

  written(initializer: Initializer): void {
    this.#weights += 1;
    this.#bytes += initializer.byteLength;
    this.#options.onProgress?.({
      weights: this.#weights,
      weightCount: this.#weightCount,
      bytes: this.#bytes,
      totalBytes: this.#totalBytes,
    });
  }
}

export interface WrittenOnnxModel {
  /** The graph file. */
  readonly path: string;
  /** The external data file, when weights went there. */
  readonly dataPath?: string;
  /** Bytes of the graph file and of the data file (0 when inline). */
  readonly bytes: number;
  readonly dataBytes: number;
}

function asBytes(data: InitializerArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorMessage(name: string, tensor: ConstantTensor): TensorMessage {
  return {
    name,
    dims: [...tensor.dims],
    data_type: ONNX_DATA_TYPES[tensor.dtype],
    raw_data: asBytes(tensor.data),
  };
}

function attributeMessage(attribute: ResolvedAttribute): AttributeMessage {
  const { name, type } = attribute;
  const message: AttributeMessage = { name, type: ATTRIBUTE_TYPES[type] };
  switch (attribute.type) {
    case 'float':
      message.f = attribute.value;
      break;
    case 'int':
      message.i = attribute.value;
      break;
    case 'floats':
      message.floats = [...attribute.value];
      break;
    case 'ints':
      message.ints = [...attribute.value];
      break;
    case 'string':
      message.s = Buffer.from(attribute.value, 'utf8');
      break;
    case 'strings':
      message.strings = attribute.value.map((s) => Buffer.from(s, 'utf8'));
      break;
    case 'tensor':
      message.t = tensorMessage('', attribute.value);
      break;
  }
  return message;
}

function nodeMessage(node: GraphNode): NodeMessage {
  return {
    input: node.inputs.map((input) => input?.name ?? ''),
    output: node.outputs.map((output) => output.name),
    name: node.name,
    op_type: node.opType,
    domain: node.domain,
    attribute: node.attributes.map(attributeMessage),
  };
}

function valueInfo({ value, dtype, dims }: BoundaryValue): ValueInfoMessage {
  return {
    name: value.name,
    type: {
      tensor_type: {
        elem_type: ONNX_DATA_TYPES[dtype],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function modelMessage(
  graph: OnnxGraph,
  initializers: TensorMessage[],
  producerVersion: string,
): ModelMessage {
  const graphMessage: GraphMessage = {
    name: graph.name,
    node: graph.nodes.map(nodeMessage),
    initializer: initializers,
    input: graph.inputs.map(valueInfo),
    output: graph.outputs.map(valueInfo),
  };
  return {
    ir_version: IR_VERSION,
    opset_import: [...graph.opsetImports].map(([domain, version]) => ({ domain, version })),
    producer_name: 'ortvision',
    producer_version: producerVersion,
    graph: graphMessage,
    metadata_props: Object.entries(graph.metadata).map(([key, value]) => ({ key, value })),
  };
}

/** Appends bytes to a file, tracking the position. */
class FileWriter {
  position = 0;
  readonly #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    this.position += bytes.length;
  }

  async padTo(alignment: number): Promise<void> {
    const padding = (alignment - (this.position % alignment)) % alignment;
    if (padding > 0) await this.write(new Uint8Array(padding));
  }
}

function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** Bytes of a length-delimited field (tag, length, payload) holding `length` bytes: the tag fits in one byte here. */
function fieldSize(length: number): number {
  return 1 + varint(length).length + length;
}

// Tags (field number << 3 | wire type 2) of the length-delimited fields written by hand.
const MODEL_GRAPH_TAG = Uint8Array.of((7 << 3) | 2);
const GRAPH_INITIALIZER_TAG = Uint8Array.of((5 << 3) | 2);
const TENSOR_RAW_DATA_TAG = Uint8Array.of((9 << 3) | 2);

/**
 * The graph file with every initializer inline, streamed one initializer at a time: protobuf lets a message's
 * fields come in any order, so the file is ModelProto's other fields, then the graph field whose nodes and inputs
 * come first and whose initializers follow, each framed by hand around its raw bytes (lengths are known from
 * dtypes and shapes before any weight is read).
 */
async function writeInline(
  graph: OnnxGraph,
  out: FileWriter,
  producerVersion: string,
  producer: Producer,
): Promise<void> {
  const model = modelMessage(graph, [], producerVersion);
  const { graph: graphMessage, ...rest } = model;
  const head = encodeMessage('ModelProto', rest);
  const graphBody = encodeMessage('GraphProto', graphMessage);
  const tensorHeads = graph.initializers.map((init) =>
    encodeMessage('TensorProto', {
      name: init.value.name,
      dims: [...init.dims],
      data_type: ONNX_DATA_TYPES[init.dtype],
    }),
  );
  const tensorSizes = graph.initializers.map(
    (init, i) => tensorHeads[i]!.length + fieldSize(init.byteLength),
  );
  const graphSize = tensorSizes.reduce((sum, size) => sum + fieldSize(size), graphBody.length);
  if (head.length + fieldSize(graphSize) > PROTOBUF_LIMIT) {
    throw new InvalidArgumentError(
      `graph '${graph.name}' needs ${head.length + fieldSize(graphSize)} bytes inline, past protobuf's 2 GiB limit: write its weights as external data`,
    );
  }
  await out.write(head);
  await out.write(MODEL_GRAPH_TAG);
  await out.write(varint(graphSize));
  await out.write(graphBody);
  for (const [i, init] of graph.initializers.entries()) {
    await out.write(GRAPH_INITIALIZER_TAG);
    await out.write(varint(tensorSizes[i]!));
    await out.write(tensorHeads[i]!);
    await out.write(TENSOR_RAW_DATA_TAG);
    await out.write(varint(init.byteLength));
    await out.write(asBytes(await producer.produce(init)));
    producer.written(init);
  }
}

/** Initializers of 1 KiB and more go to the data file, in graph order; the small ones stay in the graph file. */
async function writeExternal(
  graph: OnnxGraph,
  out: FileWriter,
  data: FileWriter,
  dataName: string,
  producerVersion: string,
  producer: Producer,
): Promise<void> {
  const tensors: TensorMessage[] = [];
  for (const init of graph.initializers) {
    const values = await producer.produce(init);
    if (init.byteLength < EXTERNAL_MIN_BYTES) {
      tensors.push(tensorMessage(init.value.name, { dtype: init.dtype, dims: init.dims, data: values }));
      producer.written(init);
      continue;
    }
    await data.padTo(init.byteLength >= PAGE_ALIGN_MIN_BYTES ? PAGE_ALIGNMENT : PACK_ALIGNMENT);
    const offset = data.position;
    await data.write(asBytes(values));
    tensors.push({
      name: init.value.name,
      dims: [...init.dims],
      data_type: ONNX_DATA_TYPES[init.dtype],
      external_data: [
        { key: 'location', value: dataName },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(init.byteLength) },
      ],
      data_location: DATA_LOCATION_EXTERNAL,
    });
    producer.written(init);
  }
  await out.write(encodeMessage('ModelProto', modelMessage(graph, tensors, producerVersion)));
}

/**
 * Writes a graph as an ONNX model file that `ModelSession.create` loads, producing (reading, transforming,
 * quantizing) one initializer at a time. Files are written beside their final names and renamed when complete
 * (the data file first, the graph last), so a crash never leaves a graph file that looks complete. The same graph
 * and weights always give the same bytes.
 *
 * @example
 * ```ts
 * const graph = buildViTForImageClassification(config, checkpoint, { dtype: 'q8' });
 * const { path, dataPath } = await writeOnnxModel(graph, 'out/onnx/model_quantized.onnx');
 * // out/onnx/model_quantized.onnx + out/onnx/model_quantized.onnx_data
 * ```
 */
export async function writeOnnxModel(
  graph: OnnxGraph,
  path: string,
  options: WriteOnnxModelOptions = {},
): Promise<WrittenOnnxModel> {
  if (endianness() !== 'LE') {
    throw new InvalidArgumentError('ONNX raw tensor data is little-endian; this machine is big-endian');
  }
  const layout = options.weights ?? 'external';
  if (layout !== 'external' && layout !== 'inline') {
    throw new InvalidArgumentError(`weights: ${JSON.stringify(layout)} is not 'external' or 'inline'`);
  }
  const external = layout === 'external';
  const producerVersion = options.producerVersion ?? '';
  const dataPath = `${path}_data`;
  const suffix = `.${process.pid}-${randomBytes(4).toString('hex')}.incomplete`;
  const temporary = `${path}${suffix}`;
  const temporaryData = `${dataPath}${suffix}`;
  const handles: FileHandle[] = [];
  const producer = new Producer(graph, path, options);
  try {
    const graphFile = await open(temporary, 'w');
    handles.push(graphFile);
    const out = new FileWriter(graphFile);
    let dataBytes = 0;
    if (external) {
      const dataFile = await open(temporaryData, 'w');
      handles.push(dataFile);
      const data = new FileWriter(dataFile);
      await writeExternal(graph, out, data, basename(dataPath), producerVersion, producer);
      dataBytes = data.position;
    } else {
      await writeInline(graph, out, producerVersion, producer);
    }
    await Promise.all(handles.splice(0).map((handle) => handle.close()));
    if (external && dataBytes > 0) await rename(temporaryData, dataPath);
    else await rm(temporaryData, { force: true });
    await rename(temporary, path);
    return {
      path,
      ...(external && dataBytes > 0 ? { dataPath } : {}),
      bytes: out.position,
      dataBytes,
    };
  } catch (error) {
    await Promise.allSettled(handles.map((handle) => handle.close()));
    await Promise.allSettled([rm(temporary, { force: true }), rm(temporaryData, { force: true })]);
    throw error;
  }
}

import { readFile } from 'node:fs/promises';
import { FixtureFormatError } from '../errors.js';

/** One initializer of an ONNX graph: its name, ONNX data type code (1 = float, 7 = int64), dims and raw bytes. */
export interface OnnxInitializer {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Little-endian element bytes (from `raw_data`, or re-encoded from `float_data` / `int64_data`). */
  readonly bytes: Uint8Array;
}

interface Field {
  number: number;
  wire: number;
  value: number | bigint | Uint8Array;
}

function* fields(bytes: Uint8Array, file: string): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new FixtureFormatError(`${file}: truncated protobuf varint`);
      const byte = bytes[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const wire = key & 7;
    const number = key >>> 3;
    if (wire === 0) yield { number, wire, value: varint() };
    else if (wire === 2) {
      const length = Number(varint());
      yield { number, wire, value: bytes.subarray(pos, pos + length) };
      pos += length;
    } else if (wire === 5) {
      yield { number, wire, value: bytes.subarray(pos, pos + 4) };
      pos += 4;
    } else if (wire === 1) {
      yield { number, wire, value: bytes.subarray(pos, pos + 8) };
      pos += 8;
    } else throw new FixtureFormatError(`${file}: unsupported protobuf wire type ${wire}`);
  }
}

/** A repeated int field: one varint, or a packed run of them. */
function packedVarints(value: Field['value']): bigint[] {
  if (typeof value === 'bigint') return [value];
  if (typeof value === 'number') return [BigInt(value)];
  const out: bigint[] = [];
  let result = 0n;
  let shift = 0n;
  for (const byte of value) {
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      out.push(result);
      result = 0n;
      shift = 0n;
    } else shift += 7n;
  }
  return out;
}

function tensorOf(bytes: Uint8Array, file: string): OnnxInitializer {
  let name = '';
  let dataType = 0;
  const dims: number[] = [];
  let raw: Uint8Array | undefined;
  const floats: number[] = [];
  const int64s: bigint[] = [];
  for (const field of fields(bytes, file)) {
    if (field.number === 1) dims.push(...packedVarints(field.value).map(Number));
    else if (field.number === 2) dataType = Number(field.value);
    else if (field.number === 8) name = new TextDecoder().decode(field.value as Uint8Array);
    else if (field.number === 9) raw = field.value as Uint8Array;
    else if (field.number === 4) {
      const v = field.value as Uint8Array;
      const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
      for (let i = 0; i + 4 <= v.byteLength; i += 4) floats.push(view.getFloat32(i, true));
    } else if (field.number === 7)
      int64s.push(...packedVarints(field.value).map((x) => BigInt.asIntN(64, x)));
  }
  const data =
    raw ??
    (floats.length
      ? new Uint8Array(Float32Array.from(floats).buffer)
      : new Uint8Array(BigInt64Array.from(int64s).buffer));
  return { name, dataType, dims, bytes: data };
}

/**
 * The initializers of an ONNX model file (weights stored inside it), by name: a tiny protobuf walk of
 * ModelProto.graph.initializer for tests that compare a checkpoint with the graph exported from it.
 *
 * @example
 * const initializers = await readOnnxInitializers(fixturePath('levit-cls', 'onnx', 'model.onnx'));
 */
export async function readOnnxInitializers(file: string): Promise<Map<string, OnnxInitializer>> {
  const bytes = new Uint8Array(await readFile(file));
  const out = new Map<string, OnnxInitializer>();
  for (const model of fields(bytes, file)) {
    if (model.number !== 7 || !(model.value instanceof Uint8Array)) continue; // ModelProto.graph
    for (const graph of fields(model.value, file)) {
      if (graph.number !== 5 || !(graph.value instanceof Uint8Array)) continue; // GraphProto.initializer
      const tensor = tensorOf(graph.value, file);
      out.set(tensor.name, tensor);
    }
  }
  return out;
}

import { readFile } from 'node:fs/promises';
import { FixtureFormatError } from '../errors.js';
import { type DataType, Tensor, shapeSize } from '../tensor/tensor.js';

// numpy dtype descriptors we read, all little-endian or single-byte. Anything else (big-endian, float16,
// strings, objects) is refused with a message naming the descriptor.
const descriptors: Record<string, { dtype: DataType; bytes: number }> = {
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '<i8': { dtype: 'int64', bytes: 8 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '|i1': { dtype: 'int8', bytes: 1 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'bool', bytes: 1 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses a .npy file (format versions 1-3, C order) into a Tensor. Supported dtypes: float32, float64, int64,
 * int32, int8, uint8 and bool; anything else throws `FixtureFormatError` naming the dtype.
 */
export function parseNpy(bytes: Uint8Array, source = '<buffer>'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new FixtureFormatError(`${source} is not a .npy file (missing the \\x93NUMPY magic)`);
  }
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new FixtureFormatError(`${source}: unsupported .npy format version ${major} (expected 1, 2 or 3)`);
  }
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new FixtureFormatError(`${source}: malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  const kind = descriptors[descr];
  if (!kind) {
    throw new FixtureFormatError(
      `${source}: unsupported .npy dtype '${descr}' (expected one of ${Object.keys(descriptors).join(', ')})`,
    );
  }
  if (fortran === 'True') throw new FixtureFormatError(`${source}: Fortran-order arrays are not supported`);
  const dims = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  const count = shapeSize(dims);
  const dataStart = headerStart + headerLength;
  const byteCount = count * kind.bytes;
  if (bytes.length - dataStart !== byteCount) {
    throw new FixtureFormatError(
      `${source}: expected ${byteCount} data bytes for ${descr} [${dims.join(', ')}], found ${bytes.length - dataStart}`,
    );
  }
  // Copy into a fresh, aligned buffer: the file's data offset is not always a multiple of the element size.
  // (Buffer#slice returns a view, hence the explicit copy.)
  const raw = new Uint8Array(bytes.subarray(dataStart, dataStart + byteCount)).buffer;
  switch (kind.dtype) {
    case 'float32':
      return new Tensor('float32', new Float32Array(raw), dims);
    case 'float64':
      return new Tensor('float64', new Float64Array(raw), dims);
    case 'int64':
      return new Tensor('int64', new BigInt64Array(raw), dims);
    case 'int32':
      return new Tensor('int32', new Int32Array(raw), dims);
    case 'int8':
      return new Tensor('int8', new Int8Array(raw), dims);
    case 'uint8':
      return new Tensor('uint8', new Uint8Array(raw), dims);
    case 'bool':
      return new Tensor('bool', new Uint8Array(raw), dims);
  }
}

/** Reads and parses a .npy file. */
export async function readNpy(path: string): Promise<Tensor> {
  return parseNpy(await readFile(path), path);
}

const descriptorOf: Record<DataType, string> = Object.fromEntries(
  Object.entries(descriptors).map(([descr, { dtype }]) => [dtype, descr]),
) as Record<DataType, string>;

/** Encodes a Tensor as a version-1 .npy file, as numpy.save writes it (header padded to 64 bytes). */
export function encodeNpy(tensor: Tensor): Uint8Array {
  const shape = tensor.dims.length === 1 ? `(${tensor.dims[0]},)` : `(${tensor.dims.join(', ')})`;
  let header = `{'descr': '${descriptorOf[tensor.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += `${' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64)}\n`;
  const data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set(MAGIC);
  bytes.set([1, 0], 6);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(data, 10 + header.length);
  return bytes;
}

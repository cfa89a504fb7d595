import type { WeightDtype } from '../checkpoint/checkpoint.js';
import { itemSize } from '../checkpoint/dtypes.js';
import { writeAll, writeFileAtomically } from '../checkpoint/files.js';
import {
  type WeightSource,
  collectEntries,
  entryByteLength,
  entryBytes,
} from '../checkpoint/weight-entries.js';
import { type ZipRecord, type ZipWriteOptions, writeZip } from './zip-writer.js';

/**
 * Writes pickle opcodes one call at a time (protocol 2, as torch.save does), to build torch checkpoints in tests,
 * correct or deliberately broken (a `posix system` global, a stray opcode) without Python.
 *
 * @example
 * const pickle = new PickleWriter().proto().global('posix', 'system').str('echo hi').tuple(1).reduce().stop().bytes();
 */
export class PickleWriter {
  #chunks: Buffer[] = [];

  /** Raw bytes, for opcodes this writer has no method for. */
  raw(...bytes: number[]): this {
    this.#chunks.push(Buffer.from(bytes));
    return this;
  }
  proto(version = 2): this {
    return this.raw(0x80, version);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  mark(): this {
    return this.raw(0x28);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(value: boolean): this {
    return this.raw(value ? 0x88 : 0x89);
  }
  /** An int, in the shortest opcode pickle uses for it (BININT1, BININT2, BININT or LONG1). */
  int(value: number | bigint): this {
    const n = BigInt(value);
    if (n >= 0n && n < 256n) return this.raw(0x4b, Number(n));
    if (n >= 0n && n < 65536n) return this.raw(0x4d, Number(n) & 0xff, Number(n) >> 8);
    if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      const bytes = Buffer.alloc(5);
      bytes[0] = 0x4a;
      bytes.writeInt32LE(Number(n), 1);
      this.#chunks.push(bytes);
      return this;
    }
    const out: number[] = [];
    let rest = n;
    do {
      out.push(Number(rest & 0xffn));
      rest >>= 8n;
    } while (rest !== 0n && rest !== -1n);
    // One more byte when the sign bit of the last one disagrees with the sign.
    if (n >= 0n !== ((out[out.length - 1]! & 0x80) === 0)) out.push(n >= 0n ? 0 : 0xff);
    return this.raw(0x8a, out.length, ...out);
  }
  str(value: string): this {
    const text = Buffer.from(value, 'utf8');
    const header = Buffer.alloc(5);
    header[0] = 0x58;
    header.writeUInt32LE(text.length, 1);
    this.#chunks.push(header, text);
    return this;
  }
  global(module: string, name: string): this {
    this.#chunks.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  /** A tuple of the last `count` values (0-3 without a MARK), or of everything since the last MARK. */
  tuple(count?: 0 | 1 | 2 | 3): this {
    if (count === undefined) return this.raw(0x74);
    return this.raw([0x29, 0x85, 0x86, 0x87][count]!);
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  setItems(): this {
    return this.raw(0x75);
  }
  setItem(): this {
    return this.raw(0x73);
  }
  append(): this {
    return this.raw(0x61);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  build(): this {
    return this.raw(0x62);
  }
  persistentId(): this {
    return this.raw(0x51);
  }
  put(index: number): this {
    return this.raw(0x71, index);
  }
  get(index: number): this {
    return this.raw(0x68, index);
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.#chunks);
  }
}

/** torch's storage class for each dtype. */
export const TORCH_STORAGE_CLASSES: Readonly<Record<WeightDtype, string>> = {
  float32: 'FloatStorage',
  float16: 'HalfStorage',
  bfloat16: 'BFloat16Storage',
  float64: 'DoubleStorage',
  int64: 'LongStorage',
  int32: 'IntStorage',
  int16: 'ShortStorage',
  int8: 'CharStorage',
  uint8: 'ByteStorage',
  bool: 'BoolStorage',
};

/** A storage record of a torch checkpoint: `numel` elements of a storage class (`'FloatStorage'`). */
export interface TorchStorageSpec {
  readonly className: string;
  readonly numel: number;
}

/** A tensor as torch pickles it: a view of a storage, with an element offset and strides. */
export interface TorchTensorSpec {
  readonly storage: string;
  readonly shape: readonly number[];
  /** Default: row-major contiguous. */
  readonly strides?: readonly number[];
  readonly offset?: number;
  /** Wrap it as `torch.nn.Parameter` pickles it (`_rebuild_parameter`). */
  readonly parameter?: boolean;
}

function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

/**
 * The `data.pkl` torch.save writes for a state dict: a dict of `_rebuild_tensor_v2(storage, offset, size,
 * stride, requires_grad, OrderedDict())` calls whose storages are persistent ids
 * `('storage', torch.<Class>, key, 'cpu', numel)`.
 */
export function torchStateDictPickle(
  tensors: Iterable<readonly [string, TorchTensorSpec]>,
  storages: Readonly<Record<string, TorchStorageSpec>>,
): Uint8Array {
  const pickle = new PickleWriter().proto().emptyDict().mark();
  for (const [key, tensor] of tensors) {
    const storage = storages[tensor.storage];
    if (!storage) throw new Error(`tensor '${key}' names storage '${tensor.storage}', which is not given`);
    pickle.str(key);
    if (tensor.parameter) pickle.global('torch._utils', '_rebuild_parameter');
    pickle.global('torch._utils', '_rebuild_tensor_v2').mark();
    pickle.mark().str('storage').global('torch', storage.className).str(tensor.storage).str('cpu');
    pickle.int(storage.numel).tuple().persistentId();
    pickle.int(tensor.offset ?? 0);
    pickle.mark();
    for (const dim of tensor.shape) pickle.int(dim);
    pickle.tuple().mark();
    for (const stride of tensor.strides ?? contiguousStrides(tensor.shape)) pickle.int(stride);
    pickle.tuple().bool(false).global('collections', 'OrderedDict').tuple(0).reduce().tuple().reduce();
    if (tensor.parameter)
      pickle.bool(false).global('collections', 'OrderedDict').tuple(0).reduce().tuple(3).reduce();
  }
  return pickle.setItems().stop().bytes();
}

export interface TorchZipOptions extends ZipWriteOptions {
  /** The archive folder (torch names it after the file: `pytorch_model`); default `'archive'`. */
  archive?: string;
  /** `data.pkl` as given, instead of the state-dict pickle (for broken pickles). */
  pickle?: Uint8Array;
  /** Write a `byteorder` record with this content (newer torch writes `little`). */
  byteorder?: string;
}

/** The records of a torch zip checkpoint: data.pkl, each storage under data/, version (and byteorder). */
function torchRecords(
  archive: string,
  pickle: Uint8Array,
  storages: Iterable<ZipRecord>,
  byteorder: string | undefined,
): ZipRecord[] {
  return [
    { name: `${archive}/data.pkl`, data: pickle },
    ...(byteorder === undefined ? [] : [{ name: `${archive}/byteorder`, data: Buffer.from(byteorder) }]),
    ...[...storages].map((record) => ({ ...record, name: `${archive}/data/${record.name}` })),
    { name: `${archive}/version`, data: Buffer.from('3\n') },
  ];
}

/**
 * The bytes of a torch zip checkpoint with the given storages (raw little-endian bytes, by key) and tensors over
 * them, in memory: for tests that need views, shared storages, odd dtypes or a broken pickle.
 *
 * @example
 * const bytes = await torchZipBytes(
 *   { '0': { className: 'FloatStorage', bytes: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) } },
 *   [['w', { storage: '0', shape: [2, 2], strides: [1, 2] }]], // a transposed view
 * );
 */
export async function torchZipBytes(
  storages: Readonly<Record<string, { className: string; bytes: Uint8Array; numel?: number }>>,
  tensors: Iterable<readonly [string, TorchTensorSpec]>,
  options: TorchZipOptions = {},
): Promise<Buffer> {
  const specs = Object.fromEntries(
    Object.entries(storages).map(([key, storage]) => {
      const size = Object.entries(TORCH_STORAGE_CLASSES).find(([, name]) => name === storage.className)?.[0];
      const numel = storage.numel ?? storage.bytes.byteLength / (size ? itemSize(size as WeightDtype) : 1);
      return [key, { className: storage.className, numel }];
    }),
  );
  const pickle = options.pickle ?? torchStateDictPickle(tensors, specs);
  const chunks: Uint8Array[] = [];
  const records = torchRecords(
    options.archive ?? 'archive',
    pickle,
    Object.entries(storages).map(([name, storage]) => ({ name, data: storage.bytes })),
    options.byteorder,
  );
  await writeZip(
    (chunk) => {
      chunks.push(chunk);
    },
    records,
    options,
  );
  return Buffer.concat(chunks);
}

/**
 * Writes a `torch.save`-style zip checkpoint (`pytorch_model.bin`) from tensors or weight entries, one storage per
 * weight, each weight's data produced only when it is written: without torch, for tests and benchmarks of the
 * `.bin` path. Written beside `path` and renamed when complete.
 *
 * @example
 * await writeTorchCheckpoint('pytorch_model.bin', { 'classifier.bias': new Tensor('float32', new Float32Array(10), [10]) });
 */
export async function writeTorchCheckpoint(
  path: string,
  tensors: WeightSource,
  options: Omit<TorchZipOptions, 'pickle'> = {},
): Promise<void> {
  const entries = await collectEntries(tensors);
  const storages: Record<string, TorchStorageSpec> = {};
  const specs: [string, TorchTensorSpec][] = [];
  entries.forEach((entry, index) => {
    storages[String(index)] = {
      className: TORCH_STORAGE_CLASSES[entry.dtype],
      numel: entryByteLength(entry) / itemSize(entry.dtype),
    };
    specs.push([entry.key, { storage: String(index), shape: entry.shape }]);
  });
  const records = torchRecords(
    options.archive ?? 'archive',
    torchStateDictPickle(specs, storages),
    entries.map((entry, index) => ({ name: String(index), data: () => entryBytes(entry) })),
    options.byteorder,
  );
  await writeFileAtomically(path, (handle) => writeZip((chunk) => writeAll(handle, chunk), records, options));
}

import type { FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';
import type { WeightDtype } from './checkpoint.js';
import { itemSize } from './dtypes.js';
import { openForReading } from './files.js';
import { type PickleHooks, type PickleTuple, describe, isPickleTuple, unpickle } from './pickle.js';
import { StoredCheckpoint, type StoredWeight } from './stored-checkpoint.js';
import { type ZipEntry, readStoredZipEntry, readZipDirectory, zipEntryDataOffset } from './zip.js';

// What torch's format names, as `GLOBAL module name` pairs. Nothing here is ever imported or run: each name maps
// to a plain marker that the hooks below interpret.

/** torch's legacy typed storage classes (`torch.FloatStorage`), by the dtype of their elements. */
const STORAGE_CLASSES: Readonly<Record<string, WeightDtype | null>> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  // Part of the format, but not dtypes ortvision reads: refused by key when a tensor uses them.
  ComplexFloatStorage: null,
  ComplexDoubleStorage: null,
  QInt8Storage: null,
  QUInt8Storage: null,
  QInt32Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
};

/** `torch.<dtype>` names, which `_rebuild_tensor_v3` (dtypes without a storage class) passes. */
const DTYPE_NAMES: Readonly<Record<string, WeightDtype | null>> = {
  float32: 'float32',
  float: 'float32',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  float64: 'float64',
  double: 'float64',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
  uint16: null,
  uint32: null,
  uint64: null,
  complex32: null,
  complex64: null,
  complex128: null,
  float8_e4m3fn: null,
  float8_e5m2: null,
  float8_e4m3fnuz: null,
  float8_e5m2fnuz: null,
};

const REBUILD_FUNCTIONS = new Set([
  '_rebuild_tensor',
  '_rebuild_tensor_v2',
  '_rebuild_tensor_v3',
  '_rebuild_parameter',
  '_rebuild_parameter_with_state',
]);

// In torch's format, but for tensors ortvision does not read (quantized, sparse, meta, subclasses).
const UNSUPPORTED_TORCH_GLOBALS = new Set([
  'torch._utils._rebuild_qtensor',
  'torch._utils._rebuild_sparse_tensor',
  'torch._utils._rebuild_sparse_csr_tensor',
  'torch._utils._rebuild_nested_tensor',
  'torch._utils._rebuild_meta_tensor_no_storage',
  'torch._utils._rebuild_wrapper_subclass',
  'torch._utils._rebuild_device_tensor_from_numpy',
  'torch._utils._rebuild_device_tensor_from_cpu_tensor',
  'torch._utils._rebuild_xla_tensor',
  'torch._utils._rebuild_mtia_tensor',
]);

class StorageClass {
  constructor(
    readonly name: string,
    readonly dtype: WeightDtype | null,
  ) {}
}
class TorchDtype {
  constructor(
    readonly name: string,
    readonly dtype: WeightDtype | null,
  ) {}
}
class RebuildFunction {
  constructor(readonly name: string) {}
}
class TensorClass {
  constructor(readonly name: string) {}
}
const ORDERED_DICT = Object.freeze({ name: 'collections.OrderedDict' });
const REBUILD_FROM_TYPE = Object.freeze({ name: 'torch._tensor._rebuild_from_type_v2' });

/** A storage record named by a persistent id: `('storage', cls, key, location, numel)`. */
class Storage {
  constructor(
    readonly key: string,
    readonly typeName: string,
    /** null for a storage class ortvision cannot read; 'uint8' for an untyped (byte) storage. */
    readonly dtype: WeightDtype | null,
    /** In elements of `dtype` (bytes for an untyped storage). */
    readonly numel: number,
  ) {}
}

/** What `_rebuild_tensor*` returns: a view into a storage. */
class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly strides: readonly number[],
    /** `_rebuild_tensor_v3` names the dtype itself; v1/v2 take the storage's. */
    readonly dtype: WeightDtype | null,
    readonly dtypeName: string,
  ) {}
}

function torchHooks(where: string): PickleHooks {
  const fail = (message: string): never => {
    throw new CheckpointError(`${where}: ${message}`);
  };
  const count = (value: unknown, what: string): number => {
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      fail(`${what} is ${describe(value)} ${String(value)}, expected a non-negative integer`);
    }
    return n as number;
  };
  const ints = (value: unknown, what: string): number[] => {
    if (!isPickleTuple(value)) fail(`${what} is a ${describe(value)}, expected a tuple of integers`);
    return (value as PickleTuple).map((item, i) => count(item, `${what}[${i}]`));
  };
  const rebuildTensor = (name: string, args: PickleTuple): TensorRef => {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof Storage)) fail(`${name} on a ${describe(storage)}, expected a storage`);
    const s = storage as Storage;
    const shape = ints(size, `${name} size`);
    const strides = ints(stride, `${name} stride`);
    if (shape.length !== strides.length) {
      fail(`${name} has ${shape.length} sizes but ${strides.length} strides`);
    }
    if (name === '_rebuild_tensor_v3') {
      const dtype = args[6];
      if (!(dtype instanceof TorchDtype))
        fail(`_rebuild_tensor_v3 with dtype ${describe(dtype)}, expected a torch dtype`);
      const d = dtype as TorchDtype;
      return new TensorRef(s, count(offset, 'storage offset'), shape, strides, d.dtype, `torch.${d.name}`);
    }
    return new TensorRef(s, count(offset, 'storage offset'), shape, strides, s.dtype, `torch.${s.typeName}`);
  };
  const hooks: PickleHooks = {
    global(module, name) {
      const full = `${module}.${name}`;
      if (full === 'collections.OrderedDict') return ORDERED_DICT;
      if (full === 'torch._tensor._rebuild_from_type_v2') return REBUILD_FROM_TYPE;
      if (module === 'torch._utils' && REBUILD_FUNCTIONS.has(name)) return new RebuildFunction(name);
      if (module === 'torch' && Object.hasOwn(STORAGE_CLASSES, name)) {
        return new StorageClass(name, STORAGE_CLASSES[name]!);
      }
      if (module === 'torch' && name === 'UntypedStorage') return new StorageClass(name, 'uint8');
      if (module === 'torch' && Object.hasOwn(DTYPE_NAMES, name))
        return new TorchDtype(name, DTYPE_NAMES[name]!);
      if (
        full === 'torch.Tensor' ||
        full === 'torch._tensor.Tensor' ||
        full === 'torch.nn.parameter.Parameter'
      ) {
        return new TensorClass(full);
      }
      if (UNSUPPORTED_TORCH_GLOBALS.has(full)) {
        return fail(
          `the pickle names ${full}, a kind of tensor (quantized, sparse, ...) that ortvision cannot read`,
        );
      }
      return fail(
        `the pickle names the global '${full}', which is not part of torch's checkpoint format; ortvision never imports or calls what a checkpoint names, and reads only tensors, storages and (ordered) dicts`,
      );
    },
    reduce(callable, args) {
      if (callable === ORDERED_DICT) {
        if (args.length > 0)
          fail(`collections.OrderedDict called with ${args.length} arguments, expected none`);
        return new Map();
      }
      if (callable instanceof RebuildFunction) {
        if (callable.name === '_rebuild_parameter' || callable.name === '_rebuild_parameter_with_state') {
          if (!(args[0] instanceof TensorRef))
            fail(`${callable.name} on a ${describe(args[0])}, expected a tensor`);
          return args[0];
        }
        return rebuildTensor(callable.name, args);
      }
      if (callable === REBUILD_FROM_TYPE) {
        // (func, new_type, args, state): a plain Tensor or Parameter wrapped with Python attributes, which we drop.
        const [func, type, inner] = args;
        if (!(type instanceof TensorClass))
          fail(`_rebuild_from_type_v2 to ${describe(type)}, expected torch.Tensor or torch.nn.Parameter`);
        if (!(func instanceof RebuildFunction) || !isPickleTuple(inner))
          fail('_rebuild_from_type_v2 without a rebuild function and its arguments');
        return hooks.reduce(func, inner as PickleTuple);
      }
      return fail(
        `the pickle calls a ${describe(callable)}, which is not a function of torch's checkpoint format`,
      );
    },
    newObject(cls, args) {
      if (cls === ORDERED_DICT && args.length === 0) return new Map();
      return fail(
        `the pickle creates a ${describe(cls)} object (NEWOBJ), which torch's checkpoint format does not`,
      );
    },
    build(target, state) {
      // An OrderedDict's state is its __dict__ (a state dict's `_metadata`: module versions), which loading ignores.
      if (target instanceof Map) return target;
      return fail(
        `the pickle sets the state of a ${describe(target)} (BUILD with ${describe(state)}), which torch's checkpoint format does not`,
      );
    },
    persistentLoad(pid) {
      if (!isPickleTuple(pid) || pid[0] !== 'storage' || pid.length < 5) {
        return fail(`persistent id ${describe(pid)} is not ('storage', class, key, location, numel)`);
      }
      const [, cls, key, , numel] = pid;
      if (!(cls instanceof StorageClass))
        fail(`a storage of type ${describe(cls)}, expected a torch storage class`);
      if (typeof key !== 'string') fail(`a storage key ${describe(key)}, expected a string`);
      const c = cls as StorageClass;
      return new Storage(key as string, c.name, c.dtype, count(numel, `storage ${String(key)} numel`));
    },
  };
  return hooks;
}

// The first bytes of torch's legacy (pre-1.6) format: pickle protocol 2, then LONG1 of its magic number.
const LEGACY_MAGIC = Buffer.from([
  0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
]);

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 0) return true;
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

async function isLegacyFormat(handle: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(LEGACY_MAGIC.length);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  return bytesRead === head.length && head.equals(LEGACY_MAGIC);
}

/** The `<archive>/` folder that holds `data.pkl`, `data/<key>`, `version` and maybe `byteorder`. */
function findArchive(file: string, entries: readonly ZipEntry[]): { prefix: string; pickle: ZipEntry } {
  const pickle = entries.find((entry) => /^[^/]+\/data\.pkl$/.test(entry.name));
  if (!pickle) {
    throw new CheckpointError(
      `${file} is a zip without <archive>/data.pkl: not a torch.save checkpoint (entries: ${entries
        .slice(0, 5)
        .map((entry) => entry.name)
        .join(', ')}${entries.length > 5 ? ', ...' : ''})`,
    );
  }
  return { prefix: pickle.name.slice(0, -'data.pkl'.length), pickle };
}

function checkStored(file: string, entry: ZipEntry): void {
  if (entry.method !== 0) {
    throw new CheckpointError(
      `${file}: zip entry ${entry.name} is compressed (method ${entry.method}); torch.save stores entries uncompressed, so this file was re-zipped: unzip it and save it again with torch.save`,
    );
  }
  if (entry.flags & 1) throw new CheckpointError(`${file}: zip entry ${entry.name} is encrypted`);
  if (entry.size !== entry.compressedSize) {
    throw new CheckpointError(
      `${file}: stored zip entry ${entry.name} claims ${entry.size} bytes in ${entry.compressedSize}: the zip is corrupt`,
    );
  }
}

async function readState(
  file: string,
  handle: FileHandle,
  byName: ReadonlyMap<string, ZipEntry>,
  prefix: string,
  pickle: ZipEntry,
): Promise<Map<unknown, unknown>> {
  const byteorder = byName.get(`${prefix}byteorder`);
  if (byteorder) {
    checkStored(file, byteorder);
    const order = (await readStoredZipEntry(handle, file, byteorder)).toString('latin1').trim();
    if (order !== 'little') {
      throw new CheckpointError(
        `${file} stores its tensors ${order}-endian; ortvision reads little-endian checkpoints only`,
      );
    }
  }
  checkStored(file, pickle);
  const bytes = await readStoredZipEntry(handle, file, pickle);
  const state = unpickle(bytes, `${file}: ${pickle.name}`, torchHooks(`${file}: ${pickle.name}`));
  if (!(state instanceof Map)) {
    throw new CheckpointError(
      `${file} holds a pickled ${describe(state)}, expected a state dict (a dict of tensors)`,
    );
  }
  return state;
}

/**
 * The index of a `torch.save` zip checkpoint (`pytorch_model.bin` since torch 1.6): the pickle in
 * `<archive>/data.pkl` is read by a restricted unpickler that knows only torch's tensor-rebuild functions, storage
 * classes and ordered dicts (never importing or calling anything the file names), and each tensor is located in
 * its `<archive>/data/<key>` record, which torch stores uncompressed. Tensors that are strided views of their
 * storage are kept with their strides and gathered on read. The legacy pre-1.6 format is refused with a
 * `CheckpointError` saying so.
 */
export async function readPytorchIndex(file: string): Promise<StoredWeight[]> {
  const handle = await openForReading(file);
  try {
    const { size } = await handle.stat();
    if (await isLegacyFormat(handle)) {
      throw new CheckpointError(
        `${file} was written in torch.save's legacy format (torch < 1.6), which ortvision does not read; load and save it again with torch >= 1.6, or convert it to safetensors`,
      );
    }
    const entries = await readZipDirectory(handle, file, size);
    const byName = new Map(entries.map((entry) => [entry.name, entry]));
    const { prefix, pickle } = findArchive(file, entries);
    const state = await readState(file, handle, byName, prefix, pickle);
    const tensors: [string, TensorRef][] = [];
    for (const [key, value] of state) {
      if (typeof key !== 'string')
        throw new CheckpointError(`${file}: a state-dict key is a ${describe(key)}, expected a string`);
      if (!(value instanceof TensorRef)) {
        throw new CheckpointError(
          `${file}: '${key}' is a ${describe(value)}, expected a tensor (a flat state dict)`,
        );
      }
      tensors.push([key, value]);
    }
    // One small read of a local header per storage: issued together, so the file system serves them in parallel
    // (one at a time, they took most of the indexing time of a checkpoint of hundreds of weights).
    const storageOffsets = new Map<string, Promise<number>>();
    for (const [key, { storage }] of tensors) {
      if (!storageOffsets.has(storage.key)) {
        const offset = locateStorage(file, handle, byName, prefix, key, storage);
        offset.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
        storageOffsets.set(storage.key, offset);
      }
    }
    const weights: StoredWeight[] = [];
    for (const [key, tensor] of tensors) {
      weights.push(weightOf(file, key, tensor, await storageOffsets.get(tensor.storage.key)!));
    }
    return weights;
  } finally {
    await handle.close();
  }
}

async function locateStorage(
  file: string,
  handle: FileHandle,
  byName: ReadonlyMap<string, ZipEntry>,
  prefix: string,
  key: string,
  storage: Storage,
): Promise<number> {
  const entry = byName.get(`${prefix}data/${storage.key}`);
  if (!entry) {
    throw new CheckpointError(
      `${file}: '${key}' lives in storage ${storage.key}, but the zip has no ${prefix}data/${storage.key}`,
    );
  }
  checkStored(file, entry);
  if (storage.dtype !== null) {
    const bytes = storage.numel * itemSize(storage.dtype);
    if (bytes > entry.size) {
      throw new CheckpointError(
        `${file}: storage ${storage.key} of '${key}' announces ${storage.numel} ${storage.dtype} elements (${bytes} bytes) but its record has ${entry.size}`,
      );
    }
  }
  return zipEntryDataOffset(handle, file, entry);
}

function weightOf(file: string, key: string, tensor: TensorRef, dataOffset: number): StoredWeight {
  const where = `${file}: '${key}'`;
  const { storage, shape, strides, offset } = tensor;
  if (tensor.dtype === null) {
    throw new CheckpointError(
      `${where} has dtype ${tensor.dtypeName}, which ortvision cannot read (expected one of ${Object.entries(
        STORAGE_CLASSES,
      )
        .filter(([, dtype]) => dtype)
        .map(([name]) => `torch.${name}`)
        .join(', ')})`,
    );
  }
  const size = itemSize(tensor.dtype);
  // Elements are addressed in the tensor's dtype; an untyped (byte) storage counts bytes.
  const storageElements =
    storage.dtype === 'uint8' && tensor.dtype !== 'uint8' ? Math.floor(storage.numel / size) : storage.numel;
  let last = offset;
  let empty = false;
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 0) empty = true;
    last += (shape[i]! - 1) * strides[i]!;
  }
  if (!empty && last >= storageElements) {
    throw new CheckpointError(
      `${where} [${shape.join(', ')}] at offset ${offset} with strides [${strides.join(', ')}] reaches element ${last} of storage ${storage.key}, which has ${storageElements}`,
    );
  }
  const weight: StoredWeight = { key, dtype: tensor.dtype, shape, file, offset: dataOffset + offset * size };
  if (isContiguous(shape, strides)) return weight;
  // A broadcast view (stride 0) could name far more elements than its file holds; reading it would allocate them.
  const elements = shape.reduce((a, b) => a * b, 1);
  if (elements > storageElements) {
    throw new CheckpointError(
      `${where} is a view of ${elements} elements over a storage of ${storageElements}; ortvision reads views no larger than their storage`,
    );
  }
  return { ...weight, strides };
}

/**
 * Opens a `torch.save` zip checkpoint (`pytorch_model.bin`).
 *
 * @example
 * const checkpoint = await openPytorchCheckpoint('levit/pytorch_model.bin');
 * const weight = await checkpoint.readFloat32('levit.patch_embeddings.embedding_layer_1.convolution.weight');
 * await checkpoint.close();
 */
export async function openPytorchCheckpoint(file: string): Promise<StoredCheckpoint> {
  return new StoredCheckpoint([file], await readPytorchIndex(file));
}

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from '../testing/fixtures.js';
import { readOnnxModel } from '../testing/onnx-reader.js';
import {
  PickleWriter,
  torchStateDictPickle,
  torchZipBytes,
  writeTorchCheckpoint,
} from '../testing/torch-checkpoint.js';
import { openPytorchCheckpoint } from './pytorch.js';

// Written by __fixtures__/pytorch-digests.py with Python's zipfile and pickle modules and numpy: an independent
// reading of the same files.
const digests = JSON.parse(
  await readFile(new URL('./__fixtures__/pytorch-digests.json', import.meta.url), 'utf8'),
) as Record<string, Record<string, { dtype: string; shape: number[]; sha256: string }>>;

function sha256(data: ArrayBufferView): string {
  return createHash('sha256')
    .update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
    .digest('hex');
}

function floats(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-pytorch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileOf(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('openPytorchCheckpoint on the fixtures', () => {
  it.each(Object.keys(digests))(
    '%s: every key, dtype, shape and value as Python reads them',
    async (fixture) => {
      const expected = digests[fixture]!;
      const checkpoint = await openPytorchCheckpoint(fixturePath(fixture, 'pytorch_model.bin'));
      try {
        expect(checkpoint.keys()).toEqual(Object.keys(expected));
        for (const [key, { dtype, shape, sha256: digest }] of Object.entries(expected)) {
          expect(checkpoint.info(key), key).toMatchObject({ dtype, shape });
          const tensor = await checkpoint.read(key);
          expect(tensor.dims, key).toEqual(shape);
          expect(sha256(tensor.data), key).toBe(digest);
        }
      } finally {
        await checkpoint.close();
      }
    },
  );

  // The weights must be the ones the fixture's graphs were exported from: each one is an initializer of the
  // exported graphs (as is, or transposed for a MatMul), except those the export folded or dropped.
  const notInGraphs: Record<string, RegExp> = {
    // BatchNorm folded into the preceding convolution by the export's constant folding; its step counter unused.
    'levit-cls':
      /patch_embeddings\.embedding_layer_\d\.(convolution\.weight|batch_norm\.)|num_batches_tracked$/,
    'levit-teacher':
      /patch_embeddings\.embedding_layer_\d\.(convolution\.weight|batch_norm\.)|num_batches_tracked$/,
    'perceiver-cls-conv': /input_preprocessor\.convnet\.(conv\.weight|batchnorm\.)/,
    // Not in CLIPSegForImageSegmentation's forward (logit_scale), or interpolated to the graph's image size.
    clipseg: /^clip\.(logit_scale|vision_model\.embeddings\.position_embedding\.weight)$/,
  };
  it.each(Object.keys(digests))("%s: the weights are the exported graphs' initializers", async (fixture) => {
    const graphs = (await readdir(fixturePath(fixture, 'onnx'))).filter((name) => name.endsWith('.onnx'));
    const initializerBytes = new Set<string>();
    for (const graph of graphs) {
      const model = await readOnnxModel(fixturePath(fixture, 'onnx', graph));
      for (const { name } of model.initializers) {
        const data = await model.readInitializer(name);
        initializerBytes.add(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'));
      }
    }
    const checkpoint = await openPytorchCheckpoint(fixturePath(fixture, 'pytorch_model.bin'));
    const unmatched: string[] = [];
    let matched = 0;
    for (const key of checkpoint.keys()) {
      const tensor = await checkpoint.read(key);
      const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
      let found = initializerBytes.has(bytes.toString('base64'));
      if (!found && tensor.dims.length === 2 && tensor.dtype === 'float32') {
        const [rows, cols] = tensor.dims as [number, number];
        const data = tensor.data as Float32Array;
        const transposed = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r++)
          for (let c = 0; c < cols; c++) transposed[c * rows + r] = data[r * cols + c]!;
        found = initializerBytes.has(Buffer.from(transposed.buffer).toString('base64'));
      }
      if (found) matched++;
      else unmatched.push(key);
    }
    await checkpoint.close();
    const explained = notInGraphs[fixture];
    expect(unmatched.filter((key) => !explained?.test(key))).toEqual([]);
    expect(matched).toBeGreaterThan(checkpoint.keys().length * 0.6);
  });
});

describe('openPytorchCheckpoint on crafted checkpoints', () => {
  it('reads views: an offset into a shared storage, a transposed (strided) tensor, and a Parameter', async () => {
    const bytes = await torchZipBytes(
      { s: { className: 'FloatStorage', bytes: floats([1, 2, 3, 4, 5, 6]) } },
      [
        ['transposed', { storage: 's', shape: [3, 2], strides: [1, 3], parameter: true }],
        ['tail', { storage: 's', shape: [2], offset: 4 }],
        ['every-other', { storage: 's', shape: [3], strides: [2], offset: 1 }],
        ['scalar', { storage: 's', shape: [], strides: [], offset: 2 }],
        ['broadcast', { storage: 's', shape: [2, 2], strides: [0, 1] }],
      ],
    );
    const checkpoint = await openPytorchCheckpoint(await fileOf('views.bin', bytes));
    expect([...(await checkpoint.readFloat32('transposed')).data]).toEqual([1, 4, 2, 5, 3, 6]);
    expect((await checkpoint.read('transposed')).dims).toEqual([3, 2]);
    expect([...(await checkpoint.readFloat32('tail')).data]).toEqual([5, 6]);
    expect([...(await checkpoint.readFloat32('every-other')).data]).toEqual([2, 4, 6]);
    expect([...(await checkpoint.readFloat32('scalar')).data]).toEqual([3]);
    expect([...(await checkpoint.readFloat32('broadcast')).data]).toEqual([1, 2, 1, 2]);
    await checkpoint.close();
  });

  it('reads every storage class ortvision has a dtype for, 8-byte elements strided too', async () => {
    const ints = new BigInt64Array([1n, -2n, 3n, -4n]);
    const bytes = await torchZipBytes(
      {
        half: { className: 'HalfStorage', bytes: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) },
        brain: {
          className: 'BFloat16Storage',
          bytes: new Uint8Array(new Uint16Array([0x3f80, 0xc040]).buffer),
        },
        double: { className: 'DoubleStorage', bytes: new Uint8Array(new Float64Array([0.1, 2]).buffer) },
        long: { className: 'LongStorage', bytes: new Uint8Array(ints.buffer) },
        short: { className: 'ShortStorage', bytes: new Uint8Array(new Int16Array([-7, 7]).buffer) },
        char: { className: 'CharStorage', bytes: new Uint8Array(new Int8Array([-1, 1]).buffer) },
        byte: { className: 'ByteStorage', bytes: new Uint8Array([200, 1]) },
        flag: { className: 'BoolStorage', bytes: new Uint8Array([1, 0]) },
      },
      [
        ['half', { storage: 'half', shape: [2] }],
        ['brain', { storage: 'brain', shape: [2] }],
        ['double', { storage: 'double', shape: [2] }],
        ['long-t', { storage: 'long', shape: [2, 2], strides: [1, 2] }],
        ['short', { storage: 'short', shape: [2] }],
        ['char', { storage: 'char', shape: [2] }],
        ['byte', { storage: 'byte', shape: [2] }],
        ['flag', { storage: 'flag', shape: [2] }],
      ],
    );
    const checkpoint = await openPytorchCheckpoint(await fileOf('dtypes.bin', bytes));
    expect(checkpoint.keys().map((key) => checkpoint.info(key).dtype)).toEqual([
      'float16',
      'bfloat16',
      'float64',
      'int64',
      'int16',
      'int8',
      'uint8',
      'bool',
    ]);
    expect([...(await checkpoint.readFloat32('half')).data]).toEqual([1, -2]);
    expect([...(await checkpoint.readFloat32('brain')).data]).toEqual([1, -3]);
    expect([...(await checkpoint.readFloat32('double')).data]).toEqual([Math.fround(0.1), 2]);
    expect([...((await checkpoint.read('long-t')).data as BigInt64Array)]).toEqual([1n, 3n, -2n, -4n]);
    expect(await checkpoint.read('short')).toMatchObject({ dtype: 'int32', data: new Int32Array([-7, 7]) });
    expect(await checkpoint.read('char')).toMatchObject({ dtype: 'int8', data: new Int8Array([-1, 1]) });
    expect(await checkpoint.read('byte')).toMatchObject({ dtype: 'uint8', data: new Uint8Array([200, 1]) });
    expect(await checkpoint.read('flag')).toMatchObject({ dtype: 'bool', data: new Uint8Array([1, 0]) });
    await checkpoint.close();
  });

  it('reads zip64 archives, another archive name, a byteorder record and an OrderedDict with _metadata', async () => {
    const w = new Tensor('float32', new Float32Array([1.5, -2.5]), [2]);
    const zip64 = join(dir, 'zip64.bin');
    await writeTorchCheckpoint(zip64, { w }, { zip64: true, archive: 'pytorch_model', byteorder: 'little' });
    const checkpoint = await openPytorchCheckpoint(zip64);
    expect([...(await checkpoint.readFloat32('w')).data]).toEqual([1.5, -2.5]);
    await checkpoint.close();

    // OrderedDict() REDUCE, SETITEMS, then BUILD with {'_metadata': OrderedDict()}, as a module's state_dict() pickles.
    const pickle = new PickleWriter()
      .proto()
      .global('collections', 'OrderedDict')
      .tuple(0)
      .reduce()
      .mark()
      .str('w')
      .global('torch._utils', '_rebuild_tensor_v2')
      .mark()
      .mark()
      .str('storage')
      .global('torch', 'FloatStorage')
      .str('0')
      .str('cpu')
      .int(2)
      .tuple()
      .persistentId()
      .int(0)
      .int(2)
      .tuple(1)
      .int(1)
      .tuple(1)
      .bool(false)
      .global('collections', 'OrderedDict')
      .tuple(0)
      .reduce()
      .tuple()
      .reduce()
      .setItems()
      .emptyDict()
      .str('_metadata')
      .global('collections', 'OrderedDict')
      .tuple(0)
      .reduce()
      .setItem()
      .build()
      .stop()
      .bytes();
    const ordered = await fileOf(
      'ordered.bin',
      await torchZipBytes({ '0': { className: 'FloatStorage', bytes: floats([7, 8]) } }, [], { pickle }),
    );
    const state = await openPytorchCheckpoint(ordered);
    expect(state.keys()).toEqual(['w']);
    expect([...(await state.readFloat32('w')).data]).toEqual([7, 8]);
    await state.close();
  });
});

describe('openPytorchCheckpoint refuses bad checkpoints with a CheckpointError naming file and key', () => {
  const storage = { '0': { className: 'FloatStorage', bytes: floats([1, 2]) } };
  const tensor = [['w', { storage: '0', shape: [2] }]] as const;

  it("a pickle naming a global outside torch's format, before anything could run", async () => {
    const pickle = new PickleWriter()
      .proto()
      .global('posix', 'system')
      .str('touch pwned')
      .tuple(1)
      .reduce()
      .stop()
      .bytes();
    const file = await fileOf('evil.bin', await torchZipBytes(storage, [], { pickle }));
    await expect(openPytorchCheckpoint(file)).rejects.toThrow(CheckpointError);
    await expect(openPytorchCheckpoint(file)).rejects.toThrow(
      `${file}: archive/data.pkl: the pickle names the global 'posix.system', which is not part of torch's checkpoint format`,
    );
    // A builtin that would run code through REDUCE is refused the same way.
    const evalPickle = new PickleWriter()
      .proto()
      .global('builtins', 'eval')
      .str('1')
      .tuple(1)
      .reduce()
      .stop()
      .bytes();
    const evalFile = await fileOf('eval.bin', await torchZipBytes(storage, [], { pickle: evalPickle }));
    await expect(openPytorchCheckpoint(evalFile)).rejects.toThrow(/names the global 'builtins\.eval'/);
  });

  it('a tensor kind torch can save but ortvision cannot read, and an unknown dtype by key', async () => {
    const quantized = new PickleWriter().proto().global('torch._utils', '_rebuild_qtensor').stop().bytes();
    const file = await fileOf('q.bin', await torchZipBytes(storage, [], { pickle: quantized }));
    await expect(openPytorchCheckpoint(file)).rejects.toThrow(
      /names torch\._utils\._rebuild_qtensor, a kind of tensor \(quantized, sparse, \.\.\.\) that ortvision cannot read/,
    );
    const complex = await fileOf(
      'complex.bin',
      await torchZipBytes(
        { '0': { className: 'ComplexFloatStorage', bytes: new Uint8Array(16), numel: 2 } },
        [['z', { storage: '0', shape: [2] }]],
      ),
    );
    await expect(openPytorchCheckpoint(complex)).rejects.toThrow(
      `${complex}: 'z' has dtype torch.ComplexFloatStorage, which ortvision cannot read (expected one of torch.FloatStorage,`,
    );
  });

  it('a truncated zip, a storage record shorter than its tensor, and a view past its storage', async () => {
    const full = await torchZipBytes(storage, tensor);
    const cut = await fileOf('cut.bin', full.subarray(0, full.length - 10));
    await expect(openPytorchCheckpoint(cut)).rejects.toThrow(
      `${cut} has no zip end-of-directory record: it is truncated, or not a torch.save zip checkpoint`,
    );
    const short = await fileOf(
      'short.bin',
      await torchZipBytes({ '0': { className: 'FloatStorage', bytes: floats([1, 2]), numel: 3 } }, tensor),
    );
    await expect(openPytorchCheckpoint(short)).rejects.toThrow(
      `${short}: storage 0 of 'w' announces 3 float32 elements (12 bytes) but its record has 8`,
    );
    const past = await fileOf(
      'past.bin',
      await torchZipBytes(storage, [['w', { storage: '0', shape: [2], offset: 1 }]]),
    );
    await expect(openPytorchCheckpoint(past)).rejects.toThrow(
      `${past}: 'w' [2] at offset 1 with strides [1] reaches element 2 of storage 0, which has 2`,
    );
    // A broadcast view naming far more elements than the file holds (reading it would allocate them all).
    const huge = await fileOf(
      'huge.bin',
      await torchZipBytes(storage, [['w', { storage: '0', shape: [1_000_000, 2], strides: [0, 1] }]]),
    );
    await expect(openPytorchCheckpoint(huge)).rejects.toThrow(
      `${huge}: 'w' is a view of 2000000 elements over a storage of 2; ortvision reads views no larger than their storage`,
    );
  });

  it('a legacy (pre-1.6) torch.save file, a compressed entry and a big-endian checkpoint', async () => {
    const legacy = new PickleWriter().proto().int(0x1950a86a20f9469cfc6cn).stop().bytes();
    const legacyFile = await fileOf('legacy.bin', legacy);
    await expect(openPytorchCheckpoint(legacyFile)).rejects.toThrow(
      `${legacyFile} was written in torch.save's legacy format (torch < 1.6), which ortvision does not read`,
    );
    const zip = await torchZipBytes(storage, tensor);
    // Mark every central-directory entry as deflated (method 8 at offset 10 of each entry).
    const deflated = Buffer.from(zip);
    for (
      let i = deflated.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
      i >= 0;
      i = deflated.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), i + 4)
    ) {
      deflated.writeUInt16LE(8, i + 10);
    }
    const deflatedFile = await fileOf('deflated.bin', deflated);
    await expect(openPytorchCheckpoint(deflatedFile)).rejects.toThrow(
      `${deflatedFile}: zip entry archive/data.pkl is compressed (method 8); torch.save stores entries uncompressed`,
    );
    const bigEndian = await fileOf('big.bin', await torchZipBytes(storage, tensor, { byteorder: 'big' }));
    await expect(openPytorchCheckpoint(bigEndian)).rejects.toThrow(
      `${bigEndian} stores its tensors big-endian`,
    );
  });

  it('a zip that is not a checkpoint, a missing storage record, and a value that is not a tensor', async () => {
    const notTorch = await fileOf('other.zip', await torchZipBytes({}, [], { archive: 'a/b' }));
    await expect(openPytorchCheckpoint(notTorch)).rejects.toThrow(
      `${notTorch} is a zip without <archive>/data.pkl`,
    );
    const missing = await fileOf(
      'missing.bin',
      await torchZipBytes({}, [], {
        pickle: torchStateDictPickle(tensor, { '0': { className: 'FloatStorage', numel: 2 } }),
      }),
    );
    await expect(openPytorchCheckpoint(missing)).rejects.toThrow(
      `${missing}: 'w' lives in storage 0, but the zip has no archive/data/0`,
    );
    const nested = new PickleWriter().proto().emptyDict().str('model').emptyDict().setItem().stop().bytes();
    const nestedFile = await fileOf('nested.bin', await torchZipBytes({}, [], { pickle: nested }));
    await expect(openPytorchCheckpoint(nestedFile)).rejects.toThrow(
      `${nestedFile}: 'model' is a dict, expected a tensor (a flat state dict)`,
    );
    await expect(openPytorchCheckpoint(join(dir, 'nope.bin'))).rejects.toThrow(/^cannot open .*nope\.bin/);
  });
});

import { describe, expect, it } from 'vitest';
import { FixtureFormatError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { fixturePath } from './fixtures.js';
import { encodeNpy, parseNpy, readNpy } from './npy.js';

/** Builds a version-1 .npy file the way numpy.save writes it (header padded so data starts at a multiple of 64). */
function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const bytes = new Uint8Array(10 + header.length + data.length);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  bytes.set(data, 10 + header.length);
  return bytes;
}

describe('parseNpy', () => {
  it('reads float32 with its shape', () => {
    const values = new Float32Array([1.5, -2, 3.25, 0, 7, 8]);
    const tensor = parseNpy(npy('<f4', [2, 3], new Uint8Array(values.buffer)));
    expect(tensor.dtype).toBe('float32');
    expect(tensor.dims).toEqual([2, 3]);
    expect(Array.from(tensor.data as Float32Array)).toEqual([1.5, -2, 3.25, 0, 7, 8]);
  });

  it('reads int64, int32, float64, uint8, int8 and bool', () => {
    const cases: [string, ArrayBufferView, string, number[]][] = [
      ['<i8', new BigInt64Array([1n, -5n, 2n ** 40n]), 'int64', [1, -5, 2 ** 40]],
      ['<i4', new Int32Array([7, -7, 0]), 'int32', [7, -7, 0]],
      ['<f8', new Float64Array([0.1, 1e300, -0]), 'float64', [0.1, 1e300, -0]],
      ['|u1', new Uint8Array([0, 255, 128]), 'uint8', [0, 255, 128]],
      ['|i1', new Int8Array([-1, 127, -128]), 'int8', [-1, 127, -128]],
      ['|b1', new Uint8Array([1, 0, 1]), 'bool', [1, 0, 1]],
    ];
    for (const [descr, view, dtype, expected] of cases) {
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      const tensor = parseNpy(npy(descr, [3], bytes));
      expect(tensor.dtype).toBe(dtype);
      expect(tensor.toNumbers()).toEqual(expected);
    }
  });

  it('reads 0-d arrays', () => {
    const tensor = parseNpy(npy('<f4', [], new Uint8Array(new Float32Array([4]).buffer)));
    expect(tensor.dims).toEqual([]);
    expect(tensor.toNumbers()).toEqual([4]);
  });

  it('refuses unsupported dtypes, Fortran order, bad magic and truncated data by name', () => {
    expect(() => parseNpy(npy('<f2', [2], new Uint8Array(4)), 'half.npy')).toThrowError(
      /half\.npy: unsupported \.npy dtype '<f2'/,
    );
    expect(() => parseNpy(npy('>f4', [1], new Uint8Array(4)))).toThrowError(FixtureFormatError);
    expect(() => parseNpy(npy('<f4', [2, 2], new Uint8Array(16), true))).toThrowError(/Fortran-order/);
    expect(() => parseNpy(new TextEncoder().encode('hello world, not numpy'), 'x.npy')).toThrowError(
      /x\.npy is not a \.npy file/,
    );
    expect(() => parseNpy(npy('<f4', [3], new Uint8Array(8)))).toThrowError(/expected 12 data bytes/);
  });

  it('reads a fixture tensor', async () => {
    const tensor = await readNpy(fixturePath('vit-cls', 'reference', 'model-batch2-in.pixel_values.npy'));
    expect(tensor.dtype).toBe('float32');
    expect(tensor.dims).toEqual([2, 3, 32, 32]);
  });
});

describe('encodeNpy', () => {
  it('round-trips every supported dtype through parseNpy', () => {
    const tensors = [
      new Tensor('float32', new Float32Array([1, 2.5, -3, 4]), [2, 2]),
      new Tensor('int64', new BigInt64Array([9n, -9n]), [2]),
      new Tensor('bool', new Uint8Array([1, 0, 0]), [1, 3]),
      new Tensor('int8', new Int8Array([-7]), []),
    ];
    for (const tensor of tensors) {
      const bytes = encodeNpy(tensor);
      const back = parseNpy(bytes);
      expect(back.dtype).toBe(tensor.dtype);
      expect(back.dims).toEqual(tensor.dims);
      expect(back.toNumbers()).toEqual(tensor.toNumbers());
    }
  });

  it('pads the header so the data starts at a multiple of 64 bytes, as numpy does', () => {
    const bytes = encodeNpy(new Tensor('float32', new Float32Array(3), [3]));
    const headerLength = new DataView(bytes.buffer).getUint16(8, true);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a);
  });
});

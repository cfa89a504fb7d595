/** One record of a zip to write: its bytes, or a function producing them when the writer reaches it. */
export interface ZipRecord {
  readonly name: string;
  readonly data: Uint8Array | (() => Uint8Array | Promise<Uint8Array>);
}

export interface ZipWriteOptions {
  /** Start every record's data at a multiple of this many bytes, as torch does (64). Default 64. */
  align?: number;
  /** Write zip64 records even when the archive is small (they are written anyway past 4 GiB). */
  zip64?: boolean;
}

let crcTables: Uint32Array[] | undefined;

/** CRC-32 (the zip polynomial), continued from `crc`; slicing by 8 bytes, several times faster than by 1 in V8. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  if (!crcTables) {
    const base = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      base[n] = c >>> 0;
    }
    crcTables = [base];
    for (let t = 1; t < 8; t++) {
      const previous = crcTables[t - 1]!;
      crcTables.push(previous.map((value) => (value >>> 8) ^ base[value & 0xff]!));
    }
  }
  const [t0, t1, t2, t3, t4, t5, t6, t7] = crcTables as [
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
    Uint32Array,
  ];
  let c = ~crc >>> 0;
  let i = 0;
  for (const end = bytes.length - 8; i <= end; i += 8) {
    const low =
      (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t7[low & 0xff]! ^
      t6[(low >>> 8) & 0xff]! ^
      t5[(low >>> 16) & 0xff]! ^
      t4[low >>> 24]! ^
      t3[bytes[i + 4]!]! ^
      t2[bytes[i + 5]!]! ^
      t1[bytes[i + 6]!]! ^
      t0[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = t0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const LIMIT = 0xffffffff;

interface Written {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
}

function zip64Extra(values: readonly number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  values.forEach((value, i) => extra.writeBigUInt64LE(BigInt(value), 4 + 8 * i));
  return extra;
}

/**
 * Writes an uncompressed zip through `write` (a sink of byte chunks), laid out as torch's `PyTorchStreamWriter`
 * lays out a checkpoint: each record stored, its data aligned by padding the local header's extra field (id
 * "FB"), then the central directory, with zip64 records when asked or needed. One record's bytes are held at a
 * time. For tests and benchmarks: it writes what ortvision's reader must read.
 *
 * @example
 * const chunks: Uint8Array[] = [];
 * await writeZip((chunk) => { chunks.push(chunk); }, [{ name: 'archive/version', data: Buffer.from('3\n') }]);
 */
export async function writeZip(
  write: (chunk: Uint8Array) => void | Promise<void>,
  records: Iterable<ZipRecord>,
  options: ZipWriteOptions = {},
): Promise<void> {
  const align = options.align ?? 64;
  let position = 0;
  const emit = async (chunk: Uint8Array) => {
    await write(chunk);
    position += chunk.byteLength;
  };
  const written: Written[] = [];
  for (const record of records) {
    const data = typeof record.data === 'function' ? await record.data() : record.data;
    const name = Buffer.from(record.name, 'utf8');
    const crc = crc32(data);
    const offset = position;
    const big = options.zip64 || data.byteLength >= LIMIT || offset >= LIMIT;
    const z64 = big ? zip64Extra([data.byteLength, data.byteLength]) : Buffer.alloc(0);
    const base = offset + 30 + name.length + z64.length + 4;
    const padding = Buffer.alloc(4 + ((align - (base % align)) % align), 'Z'.charCodeAt(0));
    padding.writeUInt16LE(0x4246, 0); // "FB"
    padding.writeUInt16LE(padding.length - 4, 2);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(big ? 45 : 20, 4);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(big ? LIMIT : data.byteLength, 18);
    header.writeUInt32LE(big ? LIMIT : data.byteLength, 22);
    header.writeUInt16LE(name.length, 26);
    header.writeUInt16LE(z64.length + padding.length, 28);
    await emit(Buffer.concat([header, name, z64, padding]));
    await emit(data);
    written.push({ name, crc, size: data.byteLength, offset });
  }
  const directoryOffset = position;
  for (const entry of written) {
    const big = options.zip64 || entry.size >= LIMIT || entry.offset >= LIMIT;
    const extra = big ? zip64Extra([entry.size, entry.size, entry.offset]) : Buffer.alloc(0);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(big ? 45 : 20, 4);
    header.writeUInt16LE(big ? 45 : 20, 6);
    header.writeUInt32LE(entry.crc, 16);
    header.writeUInt32LE(big ? LIMIT : entry.size, 20);
    header.writeUInt32LE(big ? LIMIT : entry.size, 24);
    header.writeUInt16LE(entry.name.length, 28);
    header.writeUInt16LE(extra.length, 30);
    header.writeUInt32LE(big ? LIMIT : entry.offset, 42);
    await emit(Buffer.concat([header, entry.name, extra]));
  }
  const directorySize = position - directoryOffset;
  const big = options.zip64 || written.length >= 0xffff || directoryOffset >= LIMIT || directorySize >= LIMIT;
  if (big) {
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(written.length), 24);
    record.writeBigUInt64LE(BigInt(written.length), 32);
    record.writeBigUInt64LE(BigInt(directorySize), 40);
    record.writeBigUInt64LE(BigInt(directoryOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(position), 8);
    locator.writeUInt32LE(1, 16);
    await emit(Buffer.concat([record, locator]));
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(big ? 0xffff : written.length, 8);
  end.writeUInt16LE(big ? 0xffff : written.length, 10);
  end.writeUInt32LE(big ? LIMIT : directorySize, 12);
  end.writeUInt32LE(big ? LIMIT : directoryOffset, 16);
  await emit(end);
}

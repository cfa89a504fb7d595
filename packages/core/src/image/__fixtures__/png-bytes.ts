import { crc32, deflateSync } from 'node:zlib';

// PNG files built byte by byte for tests of the loader: headers that lie about their size, profiles without a
// conversion, bodies that never end. Only what the tests need: RGB, 8 or 16 bits, filter 0.

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** One chunk: length, type, data, CRC. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** The signature and IHDR of an RGB PNG claiming width x height: what a decoder reads first. */
export function pngHead(width: number, height: number, depth: 8 | 16 = 8): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = depth;
  header[9] = 2; // RGB
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header)]);
}

/**
 * A whole RGB PNG: the head, `chunks` (e.g. an iCCP profile), one IDAT of `rows` (filtered scanlines: a filter byte
 * then the big-endian samples of each row, deflated here) and IEND. `rows` need not match the header's size.
 */
export function pngFile(
  width: number,
  height: number,
  rows: Buffer,
  { depth = 8, chunks = [] }: { depth?: 8 | 16; chunks?: Buffer[] } = {},
): Buffer {
  return Buffer.concat([
    pngHead(width, height, depth),
    ...chunks,
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

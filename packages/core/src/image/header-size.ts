/** Width and height as an image file's header states them (before EXIF orientation). */
export interface HeaderSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, prefix: readonly number[] | string, at = 0): boolean {
  const codes = typeof prefix === 'string' ? Array.from(prefix, (c) => c.charCodeAt(0)) : prefix;
  return bytes.length >= at + codes.length && codes.every((code, i) => bytes[at + i] === code);
}

const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
const u32be = (b: Uint8Array, at: number) => ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + u16be(b, at + 2);

/** Walks JPEG segments to the first SOFn (start of frame) marker, which holds height then width. */
function jpegSize(bytes: Uint8Array): HeaderSize | undefined {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    // Standalone markers (TEM, RSTn) carry no length.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(bytes, at + 5), width: u16be(bytes, at + 7) };
    }
    if (marker === 0xda) return undefined; // start of scan without a frame header: not a JPEG we can size
    at += 2 + u16be(bytes, at + 2);
  }
  return undefined;
}

/** WebP's three layouts: lossy (VP8), lossless (VP8L) and extended (VP8X, with the canvas size). */
function webpSize(bytes: Uint8Array): HeaderSize | undefined {
  if (bytes.length < 30) return undefined;
  if (startsWith(bytes, 'VP8 ', 12) && startsWith(bytes, [0x9d, 0x01, 0x2a], 23)) {
    return { width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff };
  }
  if (startsWith(bytes, 'VP8L', 12) && bytes[20] === 0x2f) {
    const [b0, b1, b2, b3] = [bytes[21]!, bytes[22]!, bytes[23]!, bytes[24]!];
    return {
      width: 1 + (((b1 & 0x3f) << 8) | b0),
      height: 1 + (((b3 & 0x0f) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)),
    };
  }
  if (startsWith(bytes, 'VP8X', 12)) {
    return { width: 1 + u24le(bytes, 24), height: 1 + u24le(bytes, 27) };
  }
  return undefined;
}

/**
 * The size a PNG, JPEG, GIF or WebP header claims, from the first bytes of the file (a download still in progress);
 * `undefined` when the prefix is too short, the format is another one (TIFF and AVIF may keep their size at the end
 * of the file), or the header is malformed. Used to refuse a decompression bomb before its body is buffered; the
 * decoder checks the size again on the complete file.
 */
export function imageHeaderSize(bytes: Uint8Array): HeaderSize | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) {
    return bytes.length >= 24 && startsWith(bytes, 'IHDR', 12)
      ? { width: u32be(bytes, 16), height: u32be(bytes, 20) }
      : undefined;
  }
  if (startsWith(bytes, [0xff, 0xd8])) return jpegSize(bytes);
  if (startsWith(bytes, 'GIF87a') || startsWith(bytes, 'GIF89a')) {
    return bytes.length >= 10 ? { width: u16le(bytes, 6), height: u16le(bytes, 8) } : undefined;
  }
  if (startsWith(bytes, 'RIFF') && startsWith(bytes, 'WEBP', 8)) return webpSize(bytes);
  return undefined;
}

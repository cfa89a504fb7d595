import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidImageError } from '../errors.js';
import { fixtureImagePath } from '../testing/fixtures.js';
import { pngFile } from './__fixtures__/png-bytes.js';
import type { Image } from './image.js';
import { DEFAULT_MAX_PIXELS, decodeImage, loadImage } from './load.js';

// Bad and unusual image inputs (issue #12): each gives InvalidImageError naming the input, or the pixels
// transformers' load_image (PIL 9.4: exif_transpose + convert("RGB")) gives. Inputs are generated here.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-img-rel-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fileWith(name: string, bytes: Uint8Array | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const pixel = (image: Image, x: number, y: number) => {
  const at = (y * image.width + x) * 3;
  return Array.from(image.data.subarray(at, at + 3));
};

/** A valid 8-bit RGB PNG header claiming width x height, with a few KiB of pixel data instead of gigabytes. */
function forgedPng(width: number, height: number): Buffer {
  return pngFile(width, height, Buffer.alloc(60_001));
}

/** A real 8x8 JPEG whose SOF marker is rewritten to claim width x height. */
async function forgedJpeg(width: number, height: number): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
    .jpeg()
    .toBuffer();
  for (let at = 2; at < jpeg.length; at += 2 + jpeg.readUInt16BE(at + 2)) {
    const marker = jpeg[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xc2) {
      jpeg.writeUInt16BE(height, at + 5);
      jpeg.writeUInt16BE(width, at + 7);
      return jpeg;
    }
  }
  throw new Error('no SOF marker in the JPEG sharp wrote');
}

describe('broken files give InvalidImageError naming the input', () => {
  it('an empty file or buffer', async () => {
    const path = await fileWith('empty.png', '');
    await expect(loadImage(path)).rejects.toThrowError(
      new InvalidImageError(`cannot decode "${path}": the input is empty (0 bytes)`),
    );
    await expect(loadImage(new Uint8Array(0))).rejects.toThrowError(
      new InvalidImageError('cannot decode "<0-byte buffer>": the input is empty (0 bytes)'),
    );
  });

  it.each([0.02, 0.3, 0.7, 0.99])('a PNG truncated to %d of its bytes', async (fraction) => {
    const png = readFileSync(fixtureImagePath('noise_37x53.png'));
    const path = await fileWith(`cut-${fraction}.png`, png.subarray(0, Math.floor(png.length * fraction)));
    const attempt = loadImage(path);
    await expect(attempt).rejects.toThrow(InvalidImageError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^cannot decode "${path}": .*(end of stream|corrupt header|unsupported format)`),
    );
  });

  it.each([0.02, 0.3, 0.7, 0.99])('a JPEG truncated to %d of its bytes', async (fraction) => {
    const jpeg = readFileSync(fixtureImagePath('chelsea_exif6.jpg'));
    const path = await fileWith(`cut-${fraction}.jpg`, jpeg.subarray(0, Math.floor(jpeg.length * fraction)));
    const attempt = loadImage(path);
    await expect(attempt).rejects.toThrow(InvalidImageError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`^cannot decode "${path}": .*(premature end of JPEG|corrupt header|unsupported format)`),
    );
  });

  it('a text file named .jpg', async () => {
    const path = await fileWith('notes.jpg', 'these are not pixels\n');
    await expect(loadImage(path)).rejects.toThrowError(
      new InvalidImageError(
        `cannot decode "${path}": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)`,
      ),
    );
  });

  it('a format sharp cannot decode (a BMP header)', async () => {
    // BITMAPFILEHEADER + BITMAPINFOHEADER of a 1x1 24-bit BMP, then one pixel: valid BMP, not a format we read.
    const bmp = Buffer.alloc(58);
    bmp.write('BM', 0, 'latin1');
    bmp.writeUInt32LE(58, 2);
    bmp.writeUInt32LE(54, 10);
    bmp.writeUInt32LE(40, 14);
    bmp.writeInt32LE(1, 18);
    bmp.writeInt32LE(1, 22);
    bmp.writeUInt16LE(1, 26);
    bmp.writeUInt16LE(24, 28);
    await expect(loadImage(bmp)).rejects.toThrowError(
      new InvalidImageError(
        'cannot decode "<58-byte buffer>": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)',
      ),
    );
  });
});

describe('decompression bombs are refused from the header, before any pixel is allocated', () => {
  const limit = (w: number, h: number, max: number) =>
    `${w}x${h} = ${w * h} pixels is more than the limit of ${max} (a guard against decompression bombs; pass { maxPixels } to change it)`;

  it('a 20000x20000 PNG header (138 bytes) is refused at the default limit', async () => {
    const bytes = forgedPng(20_000, 20_000);
    expect(bytes.length).toBeLessThan(200);
    const path = await fileWith('bomb.png', bytes);
    await expect(loadImage(path)).rejects.toThrowError(
      new InvalidImageError(`cannot decode "${path}": ${limit(20_000, 20_000, DEFAULT_MAX_PIXELS)}`),
    );
  });

  it('a 20000x20000 JPEG header is refused too', async () => {
    const bytes = await forgedJpeg(20_000, 20_000);
    await expect(loadImage(bytes)).rejects.toThrowError(
      new InvalidImageError(
        `cannot decode "<${bytes.length}-byte buffer>": ${limit(20_000, 20_000, DEFAULT_MAX_PIXELS)}`,
      ),
    );
  });

  it('the limit is configurable per call', async () => {
    const bytes = forgedPng(4000, 3000);
    await expect(decodeImage(bytes, 'small-limit', { maxPixels: 1_000_000 })).rejects.toThrow(
      limit(4000, 3000, 1_000_000),
    );
    // Under a raised limit the header passes and the (missing) pixel data is what fails, still typed.
    await expect(decodeImage(bytes, 'raised', { maxPixels: 12_000_000 })).rejects.toThrow(
      /^cannot decode "raised": (?!.*more than the limit)/,
    );
    await expect(decodeImage(bytes, 'raised', { maxPixels: 12_000_000 })).rejects.toThrow(InvalidImageError);
  });
});

describe('unusual but valid images decode as PIL does', () => {
  it('a 1x1 image (PNG and JPEG)', async () => {
    const one = sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 10, g: 200, b: 30 } } });
    const png = await loadImage(await one.clone().png().toBuffer());
    expect([png.width, png.height, Array.from(png.data)]).toEqual([1, 1, [10, 200, 30]]);
    const jpeg = await loadImage(await one.clone().jpeg({ quality: 100 }).toBuffer());
    expect([jpeg.width, jpeg.height]).toEqual([1, 1]);
    jpeg.data.forEach((v, c) => expect(Math.abs(v - [10, 200, 30][c]!)).toBeLessThanOrEqual(3));
  });

  it('a 16-bit RGB PNG keeps the high byte of each sample', async () => {
    const raw = [0x1234, 0xff00, 0x00ff, 0xabcd, 0x8080, 0x7fff];
    const row = Buffer.alloc(1 + raw.length * 2); // filter byte 0, then big-endian samples
    raw.forEach((v, i) => row.writeUInt16BE(v, 1 + i * 2));
    const png = pngFile(2, 1, row, { depth: 16 });
    expect((await sharp(png).metadata()).depth).toBe('ushort');
    const image = await loadImage(png);
    // PIL reads 16-bit RGB as 8-bit RGB by keeping the high byte (decode-rgb16 in load.test.ts holds PIL's values).
    expect(Array.from(image.data)).toEqual(Array.from(raw, (v) => v >> 8));
  });

  // PIL 9.4's values for these exact files (checked with Python: Image.open(f).convert('RGB')); sharp's ICC-managed
  // conversion gave 198,8,49 for the first, 17 levels off, before decodeImage switched to PIL's formula.
  it.each([
    { rgb: [200, 30, 60], icc: false, pil: [215, 2, 44] },
    { rgb: [200, 30, 60], icc: true, pil: [209, 6, 51] },
    { rgb: [20, 120, 240], icc: false, pil: [49, 170, 255] },
    { rgb: [20, 120, 240], icc: true, pil: [49, 151, 194] },
  ])(
    'a CMYK JPEG of $rgb (ICC profile: $icc) converts with PIL naive CMYK->RGB',
    async ({ rgb, icc, pil }) => {
      const [r, g, b] = rgb as [number, number, number];
      let pipeline = sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } });
      if (icc) pipeline = pipeline.withIccProfile('cmyk');
      const jpeg = await pipeline.toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer();
      expect((await sharp(jpeg).metadata()).space).toBe('cmyk');
      const image = await loadImage(jpeg);
      expect([image.width, image.height, image.channels]).toEqual([8, 8, 3]);
      for (let p = 0; p < 64; p++) expect(pixel(image, p % 8, p >> 3)).toEqual(pil);
    },
  );

  it('an animated GIF gives its first frame at the size of one frame', async () => {
    const colours = [
      [255, 0, 0],
      [0, 0, 255],
      [0, 255, 0],
    ];
    const frames = Buffer.concat(colours.map((c) => Buffer.alloc(5 * 4 * 3).map((_, i) => c[i % 3]!)));
    // Raw frames stacked vertically, with the page height, make sharp write an animated GIF.
    const gif = await sharp(frames, { raw: { width: 5, height: 12, channels: 3, pageHeight: 4 } })
      .gif()
      .toBuffer();
    const metadata = await sharp(gif).metadata();
    expect([metadata.pages, metadata.width, metadata.pageHeight ?? 4]).toEqual([3, 5, 4]);
    const image = await loadImage(gif);
    expect([image.width, image.height]).toEqual([5, 4]);
    for (let p = 0; p < 20; p++) expect(pixel(image, p % 5, Math.floor(p / 5))).toEqual([255, 0, 0]);
  });
});

/**
 * Where the pixel shown at (x, y) comes from in the stored w x h image, for each EXIF orientation, per the EXIF
 * spec and PIL's `exif_transpose` (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
 * 7 transverse, 8 rotate 90 counter-clockwise).
 */
function displayed(orientation: number, w: number, h: number) {
  const swap = orientation >= 5;
  const source = (x: number, y: number): [number, number] => {
    switch (orientation) {
      case 1:
        return [x, y];
      case 2:
        return [w - 1 - x, y];
      case 3:
        return [w - 1 - x, h - 1 - y];
      case 4:
        return [x, h - 1 - y];
      case 5:
        return [y, x];
      case 6:
        return [y, h - 1 - x];
      case 7:
        return [w - 1 - y, h - 1 - x];
      default:
        return [w - 1 - y, x];
    }
  };
  return { width: swap ? h : w, height: swap ? w : h, source };
}

describe('EXIF orientations 1-8 are applied as transformers load_image applies them', () => {
  // 3x2, every pixel different, so that each of the 8 layouts is distinguishable.
  const w = 3;
  const h = 2;
  const stored = Buffer.from(
    Array.from({ length: w * h }, (_, p) => [p * 40, 255 - p * 40, p % 2 ? 255 : 0]).flat(),
  );

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %d in a PNG: exact pixels', async (orientation) => {
    const png = await sharp(stored, { raw: { width: w, height: h, channels: 3 } })
      .withMetadata({ orientation })
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).orientation).toBe(orientation);
    const image = await loadImage(png);
    const view = displayed(orientation, w, h);
    expect([image.width, image.height]).toEqual([view.width, view.height]);
    for (let y = 0; y < view.height; y++) {
      for (let x = 0; x < view.width; x++) {
        const [sx, sy] = view.source(x, y);
        const at = (sy * w + sx) * 3;
        expect(pixel(image, x, y), `(${x}, ${y})`).toEqual(Array.from(stored.subarray(at, at + 3)));
      }
    }
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'orientation %d in a JPEG: each 16 px block lands where PIL puts it',
    async (orientation) => {
      const block = 16;
      const big = Buffer.alloc(w * block * h * block * 3);
      for (let y = 0; y < h * block; y++) {
        for (let x = 0; x < w * block; x++) {
          const from = (Math.floor(y / block) * w + Math.floor(x / block)) * 3;
          stored.copy(big, (y * w * block + x) * 3, from, from + 3);
        }
      }
      const jpeg = await sharp(big, { raw: { width: w * block, height: h * block, channels: 3 } })
        .withMetadata({ orientation })
        .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
        .toBuffer();
      const image = await loadImage(jpeg);
      const view = displayed(orientation, w, h);
      expect([image.width, image.height]).toEqual([view.width * block, view.height * block]);
      for (let y = 0; y < view.height; y++) {
        for (let x = 0; x < view.width; x++) {
          const [sx, sy] = view.source(x, y);
          const expected = Array.from(stored.subarray((sy * w + sx) * 3, (sy * w + sx) * 3 + 3));
          const actual = pixel(image, x * block + block / 2, y * block + block / 2);
          actual.forEach((v, c) =>
            expect(Math.abs(v - expected[c]!), `block (${x}, ${y})`).toBeLessThanOrEqual(4),
          );
        }
      }
    },
  );
});

describe('data: URLs, URL objects and other URL schemes (issue #17)', () => {
  const cats = readFileSync(fixtureImagePath('cats.png'));
  const dataUrl = `data:image/png;base64,${cats.toString('base64')}`;

  it('a base64 data: URL, as a string or a URL object, decodes like the file', async () => {
    const fromFile = await loadImage(cats);
    for (const input of [dataUrl, new URL(dataUrl)]) {
      const image = await loadImage(input);
      expect(Buffer.from(image.data).equals(Buffer.from(fromFile.data))).toBe(true);
    }
  });

  it('a percent-encoded data: URL and a base64 one with line breaks decode too', async () => {
    const png = await sharp({
      create: { width: 2, height: 1, channels: 3, background: { r: 7, g: 8, b: 9 } },
    })
      .png()
      .toBuffer();
    const encoded = Array.from(png, (b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    expect(Array.from((await loadImage(`data:image/png,${encoded}`)).data)).toEqual([7, 8, 9, 7, 8, 9]);
    const wrapped = png.toString('base64').replace(/(.{20})/g, '$1\n');
    expect(Array.from((await loadImage(`data:;base64,${wrapped}`)).data)).toEqual([7, 8, 9, 7, 8, 9]);
  });

  it('a 2.3-million-character data: URL that is not an image: a short message, not the whole URL', async () => {
    const huge = `data:image/png;base64,${'QUFB'.repeat(575_000)}`;
    expect(huge.length).toBe(2_300_022);
    const error = await loadImage(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidImageError);
    const { message } = error as Error;
    expect(message.length).toBeLessThan(300);
    expect(message).toBe(
      `cannot decode "${huge.slice(0, 80)}... (2300022 characters)": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)`,
    );
  });

  it('a data: URL over maxBytes is refused before its payload is decoded', async () => {
    await expect(loadImage(dataUrl, { maxBytes: 1000 })).rejects.toThrow(
      /: the data: URL carries about \d+ bytes, more than the limit of 1000 bytes \(pass \{ maxBytes \} to change it\)$/,
    );
  });

  it('a malformed data: URL names what is wrong', async () => {
    await expect(loadImage('data:image/png;base64')).rejects.toThrowError(
      new InvalidImageError(
        'cannot load image "data:image/png;base64": a data: URL needs a comma before its payload (data:[<media type>][;base64],<data>)',
      ),
    );
    await expect(loadImage('data:image/png;base64,iVBO%%%*')).rejects.toThrowError(
      new InvalidImageError(
        `cannot load image "data:image/png;base64,iVBO%%%*": the data: URL's payload is not valid base64`,
      ),
    );
  });

  it.each([
    'ftp://example.com/cat.png',
    's3://bucket/cat.png',
    new URL('ftp://example.com/cat.png'),
    new URL('blob:nodedata:1234'),
  ])('an unsupported URL scheme (%s) says so instead of "no such file"', async (input) => {
    const scheme = String(input).split(':')[0];
    await expect(loadImage(input)).rejects.toThrowError(
      new InvalidImageError(
        `cannot load image "${String(input)}": unsupported URL scheme "${scheme}:" (expected http:, https:, data: or file: URLs, or a file path)`,
      ),
    );
  });

  it('a path too long for the file system gives a short message', async () => {
    const path = `/tmp/${'x'.repeat(5000)}.png`;
    const error = await loadImage(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect((error as Error).message).toBe(
      `cannot read image "${path.slice(0, 80)}... (5009 characters)": the path is longer than the file system allows`,
    );
  });

  it('a directory and an array say what they are', async () => {
    await expect(loadImage(dir)).rejects.toThrow(`cannot read image "${dir}": it is a directory, not a file`);
    await expect(loadImage([fixtureImagePath('cats.png')] as never)).rejects.toThrowError(
      new InvalidImageError('loadImage takes one image, got an array of 1: use loadImages for a list'),
    );
    await expect(loadImage(undefined as never)).rejects.toThrow(
      'cannot load image from undefined: expected a path, a URL (http:, https:, data:, file:), a Buffer, Uint8Array or ArrayBuffer, raw pixels or an Image',
    );
  });
});

describe('raw pixels must be uint8, one byte per channel (issue #17)', () => {
  const expected =
    'expected a Uint8Array or Uint8ClampedArray of 0-255 values, one byte per channel (scale floats in [0, 1] with Uint8ClampedArray.from(data, (v) => v * 255))';

  it.each([
    ['a Float32Array of 12 values', new Float32Array(12).fill(0.5)],
    ['a Uint16Array of 12 values', new Uint16Array(12).fill(300)],
    ['a Float64Array of 12 values', new Float64Array(12)],
    ['a plain array of 12 values', Array.from({ length: 12 }, () => 128)],
    ['null', null],
  ])('%s is an InvalidImageError', async (what, data) => {
    await expect(loadImage({ data, width: 2, height: 2, channels: 3 } as never)).rejects.toThrowError(
      new InvalidImageError(`image data is ${what}: ${expected}`),
    );
  });

  it('a wrong length, size or channel count names what was given', async () => {
    await expect(
      loadImage({ data: new Uint8Array(11), width: 2, height: 2, channels: 3 }),
    ).rejects.toThrowError(new InvalidImageError('image data has 11 bytes but 2x2x3 needs 12'));
    await expect(loadImage({ data: new Uint8Array(12), width: 2, height: 2 } as never)).rejects.toThrowError(
      new InvalidImageError(
        'invalid channel count undefined: expected 1, 2, 3 or 4 (gray, gray + alpha, RGB, RGBA)',
      ),
    );
    await expect(
      loadImage({ data: new Uint8Array(12), width: '2', height: 2, channels: 3 } as never),
    ).rejects.toThrowError(
      new InvalidImageError('invalid image size "2" (string)x2: expected integers >= 1'),
    );
  });

  it('Uint8ClampedArray (a canvas ImageData) is read as is', async () => {
    const data = new Uint8ClampedArray([10, 20, 30, 255, 40, 50, 60, 0]);
    const image = await loadImage({ data, width: 2, height: 1, channels: 4 });
    expect(Array.from(image.data)).toEqual([10, 20, 30, 40, 50, 60]);
  });
});

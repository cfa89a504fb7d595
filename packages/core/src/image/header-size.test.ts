import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fixtureImagePath } from '../testing/fixtures.js';
import { imageHeaderSize } from './header-size.js';

describe('imageHeaderSize reads the size from the first bytes, as the decoder will see it', () => {
  const source = sharp({
    create: { width: 37, height: 53, channels: 3, background: { r: 9, g: 99, b: 199 } },
  });

  it.each([
    ['png', {}],
    ['jpeg', {}],
    ['gif', {}],
    ['webp', {}],
    ['webp', { lossless: true }],
  ] as const)('%s %o', async (format, options) => {
    const bytes = await source.clone().toFormat(format, options).toBuffer();
    expect(imageHeaderSize(bytes)).toEqual({ width: 37, height: 53 });
  });

  it('an extended WebP (VP8X: alpha), and a JPEG whose frame header follows EXIF and ICC segments', async () => {
    const alpha = await sharp({
      create: { width: 300, height: 2, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } },
    })
      .webp()
      .toBuffer();
    expect(alpha.toString('latin1', 12, 16)).toBe('VP8X');
    expect(imageHeaderSize(alpha)).toEqual({ width: 300, height: 2 });
    const exif = readFileSync(fixtureImagePath('chelsea_exif6.jpg'));
    expect(imageHeaderSize(exif)).toEqual({ width: 451, height: 300 }); // stored size; orientation 6 turns it
    expect(imageHeaderSize(readFileSync(fixtureImagePath('cats_p3.jpg')))).toEqual({
      width: 640,
      height: 480,
    });
  });

  it('a prefix too short, another format, or garbage gives undefined', async () => {
    const png = readFileSync(fixtureImagePath('cats.png'));
    expect(imageHeaderSize(png.subarray(0, 23))).toBeUndefined();
    expect(imageHeaderSize(png.subarray(0, 24))).toEqual({ width: 640, height: 480 });
    const jpeg = readFileSync(fixtureImagePath('chelsea_exif6.jpg'));
    expect(imageHeaderSize(jpeg.subarray(0, 200))).toBeUndefined();
    const tiff = await source.clone().tiff().toBuffer();
    expect(imageHeaderSize(tiff)).toBeUndefined();
    expect(imageHeaderSize(Buffer.from('<html>not an image</html>'))).toBeUndefined();
    expect(imageHeaderSize(new Uint8Array(0))).toBeUndefined();
  });
});

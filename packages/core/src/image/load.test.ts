import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError } from '../errors.js';
import { fixtureImagePath } from '../testing/fixtures.js';
import { Image } from './image.js';
import { DEFAULT_MAX_PIXELS, loadImage, loadImages } from './load.js';

const here = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__');
// PIL's load_image result for each small image (Pillow 9.4.0; see __fixtures__/make_decode_refs.py).
const decodeRefs = JSON.parse(readFileSync(join(here, 'decode-refs.json'), 'utf8')) as Record<
  string,
  { file: string; mode: string; width: number; height: number; rgb: number[] }
>;

describe('loadImage matches PIL load_image (exif_transpose + convert("RGB"))', () => {
  it.each(Object.entries(decodeRefs))('%s', async (_name, ref) => {
    const image = await loadImage(join(here, ref.file));
    expect([image.width, image.height, image.channels]).toEqual([ref.width, ref.height, 3]);
    expect(Array.from(image.data)).toEqual(ref.rgb);
  });

  it('drops alpha (logo.png is RGBA) and replicates gray (camera.png)', async () => {
    const logo = await loadImage(fixtureImagePath('logo.png'));
    const raw = await sharp(fixtureImagePath('logo.png')).raw().toBuffer({ resolveWithObject: true });
    expect(raw.info.channels).toBe(4);
    expect([logo.width, logo.height, logo.channels]).toEqual([500, 500, 3]);
    for (let i = 0; i < 500 * 500; i += 997) {
      expect([logo.data[i * 3], logo.data[i * 3 + 1], logo.data[i * 3 + 2]]).toEqual([
        raw.data[i * 4],
        raw.data[i * 4 + 1],
        raw.data[i * 4 + 2],
      ]);
    }
    const camera = await loadImage(fixtureImagePath('camera.png'));
    expect(camera.channels).toBe(3);
    expect(camera.data[300]).toBe(camera.data[301]);
  });

  it('applies EXIF orientation 6 (chelsea_exif6.jpg is stored 451x300)', async () => {
    const image = await loadImage(fixtureImagePath('chelsea_exif6.jpg'));
    expect([image.width, image.height]).toEqual([300, 451]);
  });
});

describe('loadImage inputs', () => {
  it('accepts a path, a file URL, a Buffer, an ArrayBuffer, raw pixels and an Image', async () => {
    const path = fixtureImagePath('palette_color.png');
    const bytes = await readFile(path);
    const fromPath = await loadImage(path);
    const inputs = [
      pathToFileURL(path),
      bytes,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      { data: fromPath.data, width: 10, height: 10, channels: 3 as const },
      fromPath,
    ];
    for (const image of await loadImages(inputs)) {
      expect(Array.from(image.data)).toEqual(Array.from(fromPath.data));
    }
  });

  it('converts raw RGBA pixels to RGB by dropping alpha', async () => {
    const image = await loadImage({
      data: new Uint8Array([1, 2, 3, 0, 4, 5, 6, 255]),
      width: 2,
      height: 1,
      channels: 4,
    });
    expect(Array.from(image.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('names the input when it cannot be read or decoded', async () => {
    await expect(loadImage('/nonexistent/x.png')).rejects.toThrow(
      'cannot read image "/nonexistent/x.png": no such file',
    );
    const dir = await mkdtemp(join(tmpdir(), 'ortvision-img-'));
    const svg = join(dir, 'x.svg');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: 'red' } })
      .png()
      .toFile(join(dir, 'ok.png'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>');
    await expect(loadImage(svg)).rejects.toThrow(
      `cannot decode "${svg}": unsupported format svg (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)`,
    );
    await expect(loadImage(Buffer.from('not an image'))).rejects.toThrow(
      'cannot decode "<12-byte buffer>": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)',
    );
    await expect(loadImage(42 as never)).rejects.toThrow(InvalidImageError);
  });

  it('refuses images above the pixel limit before decoding them', async () => {
    expect(DEFAULT_MAX_PIXELS).toBe(178_956_970);
    const path = fixtureImagePath('cats.png');
    await expect(loadImage(path, { maxPixels: 640 * 480 - 1 })).rejects.toThrow(
      /640x480 = 307200 pixels is more than the limit of 307199/,
    );
    expect((await loadImage(path, { maxPixels: 640 * 480 })).width).toBe(640);
  });

  it('decodes the other formats sharp writes (WebP lossless, GIF first frame, TIFF, AVIF)', async () => {
    const source = new Image(
      new Uint8Array(4 * 3 * 3).map((_, i) => (i * 37) % 256),
      4,
      3,
      3,
    );
    for (const format of ['webp', 'tiff', 'gif', 'avif'] as const) {
      // sharp's TIFF default is JPEG compression; LZW keeps it lossless
      const options = format === 'tiff' ? { compression: 'lzw' } : format === 'gif' ? {} : { lossless: true };
      const bytes = await source.toSharp().toFormat(format, options).toBuffer();
      const image = await loadImage(bytes);
      expect([image.width, image.height, image.channels], format).toEqual([4, 3, 3]);
      if (format === 'tiff') expect(Array.from(image.data)).toEqual(Array.from(source.data));
    }
  });
});

describe('Image', () => {
  it('validates its pixel buffer', () => {
    expect(() => new Image(new Uint8Array(5), 2, 1, 3)).toThrow('image data has 5 bytes but 2x1x3 needs 6');
    expect(() => new Image(new Uint8Array(0), 0, 1, 3)).toThrow(InvalidImageError);
  });

  it('saves and reloads losslessly as PNG', async () => {
    const image = new Image(
      new Uint8Array(6 * 5 * 3).map((_, i) => (i * 11) % 256),
      6,
      5,
      3,
    );
    const path = join(await mkdtemp(join(tmpdir(), 'ortvision-img-')), 'out.png');
    await image.save(path);
    expect(Array.from((await loadImage(path)).data)).toEqual(Array.from(image.data));
    const viaSharp = await Image.fromSharp(image.toSharp());
    expect(Array.from(viaSharp.data)).toEqual(Array.from(image.data));
  });

  it('crops with zero fill outside the image', () => {
    const image = new Image(new Uint8Array([1, 2, 3, 4]), 2, 2, 1);
    expect(Array.from(image.crop(-1, 0, 3, 2).data)).toEqual([0, 1, 2, 0, 3, 4]);
    expect(Array.from(image.crop(1, 1, 1, 1).data)).toEqual([4]);
  });
});

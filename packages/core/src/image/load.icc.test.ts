import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureImagePath } from '../testing/fixtures.js';
import { pngChunk, pngFile } from './__fixtures__/png-bytes.js';
import { loadImage } from './load.js';

// Images with an embedded ICC profile decode to their stored values, as PIL's Image.open(f).convert("RGB") gives
// them (PIL never colour-manages on load: fixture case vit-cls `icc-p3` holds PIL's pixels for a Display P3 JPEG).
// The expected values here are the pixels each file was written from, or the same file without its profile.

const P3_JPEG = fixtureImagePath('cats_p3.jpg');

/** The JPEG without its APP2 "ICC_PROFILE" segments: the same entropy-coded data, nothing to convert from. */
function withoutIccSegments(jpeg: Buffer): Buffer {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let at = 2;
  while (at < jpeg.length && jpeg[at] === 0xff && jpeg[at + 1] !== 0xda) {
    const end = at + 2 + jpeg.readUInt16BE(at + 2);
    const isIcc = jpeg[at + 1] === 0xe2 && jpeg.toString('latin1', at + 4, at + 16) === 'ICC_PROFILE\0';
    if (!isIcc) kept.push(jpeg.subarray(at, end));
    at = end;
  }
  kept.push(jpeg.subarray(at));
  return Buffer.concat(kept);
}

/** An RGB PNG of `samples` (8 or 16 bits, big-endian) with the profile in an iCCP chunk. */
function pngWithProfile(
  width: number,
  height: number,
  samples: number[],
  depth: 8 | 16,
  icc: Buffer,
): Buffer {
  const bytesPerSample = depth / 8;
  const rowBytes = width * 3 * bytesPerSample;
  const rows = Buffer.alloc(height * (1 + rowBytes));
  samples.forEach((v, i) => {
    const row = Math.floor(i / (width * 3));
    const at = row * (1 + rowBytes) + 1 + (i % (width * 3)) * bytesPerSample;
    if (depth === 16) rows.writeUInt16BE(v, at);
    else rows[at] = v;
  });
  const iccp = pngChunk('iCCP', Buffer.concat([Buffer.from('Display P3\0\0', 'latin1'), deflateSync(icc)]));
  return pngFile(width, height, rows, { depth, chunks: [iccp] });
}

// Saturated colours, where a P3 -> sRGB conversion moves values the most.
const W = 6;
const H = 4;
const PIXELS = Array.from(
  { length: W * H * 3 },
  (_, i) => [255, 0, 30, 20, 240, 10, 128, 64, 200][i % 9]! ^ i,
);

let p3: Buffer;
let png: Buffer;
beforeAll(async () => {
  p3 = (await sharp(P3_JPEG).metadata()).icc!;
  png = pngWithProfile(W, H, PIXELS, 8, p3);
});

describe('an embedded ICC profile is ignored by default, as PIL ignores it', () => {
  it('the fixture photo carries a Display P3 profile that sharp would convert from', async () => {
    expect(p3.toString('latin1', 36, 40)).toBe('acsp');
    expect(p3.toString('latin1', 16, 20)).toBe('RGB '); // an RGB profile (its description is "P3", in UTF-16)
    const converted = await sharp(P3_JPEG).raw().toBuffer();
    const image = await loadImage(P3_JPEG);
    let worst = 0;
    for (let i = 0; i < converted.length; i++)
      worst = Math.max(worst, Math.abs(converted[i]! - image.data[i]!));
    expect(worst).toBeGreaterThan(10);
  });

  it('a JPEG: the same pixels as the file without its profile', async () => {
    const bytes = readFileSync(P3_JPEG);
    const stripped = withoutIccSegments(bytes);
    expect((await sharp(stripped).metadata()).icc).toBeUndefined();
    expect(stripped.length).toBeLessThan(bytes.length);
    const [withProfile, without] = await Promise.all([loadImage(bytes), loadImage(stripped)]);
    expect(Buffer.from(withProfile.data).equals(Buffer.from(without.data))).toBe(true);
  });

  it('a PNG (iCCP chunk): exactly the stored values', async () => {
    expect((await sharp(png).metadata()).icc).toBeDefined();
    expect(Array.from((await loadImage(png)).data)).toEqual(PIXELS);
  });

  it('a 16-bit PNG with a profile: the high byte of each stored sample', async () => {
    const samples = PIXELS.map((v, i) => v * 256 + ((i * 37) % 256));
    const png16 = pngWithProfile(W, H, samples, 16, p3);
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    expect(Array.from((await loadImage(png16)).data)).toEqual(PIXELS);
  });

  it.each(['webp', 'tiff'] as const)(
    'a lossless %s with the profile: exactly the stored values',
    async (format) => {
      // keepIccProfile copies the PNG's profile without converting the pixels.
      const options = format === 'tiff' ? { compression: 'lzw' as const } : { lossless: true };
      const bytes = await sharp(png).keepIccProfile().toFormat(format, options).toBuffer();
      const metadata = await sharp(bytes).metadata();
      expect([metadata.format, metadata.icc?.length]).toEqual([format, p3.length]);
      expect(Array.from((await loadImage(bytes)).data)).toEqual(PIXELS);
    },
  );
});

describe('colorManagement: true converts from the embedded profile to sRGB', () => {
  it('gives sharp/libvips sRGB pixels for the P3 JPEG', async () => {
    const converted = await sharp(P3_JPEG).toColourspace('srgb').raw().toBuffer();
    const image = await loadImage(P3_JPEG, { colorManagement: true });
    expect(Buffer.from(image.data).equals(converted)).toBe(true);
  });

  it('changes saturated PNG pixels and leaves a profile-less PNG as stored', async () => {
    const managed = await loadImage(png, { colorManagement: true });
    expect(Array.from(managed.data)).not.toEqual(PIXELS);
    const plain = await sharp(Buffer.from(PIXELS), { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toBuffer();
    expect(Array.from((await loadImage(plain, { colorManagement: true })).data)).toEqual(PIXELS);
  });

  it('is checked: a non-boolean is an InvalidArgumentError', async () => {
    await expect(loadImage(png, { colorManagement: 'yes' as never })).rejects.toThrow(
      'colorManagement must be true or false, got "yes" (string)',
    );
  });
});

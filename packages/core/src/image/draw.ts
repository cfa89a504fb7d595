import sharp from 'sharp';
import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { layoutBoxes } from './box-layout.js';

/** Raw interleaved 8-bit pixels; `Image` satisfies this. */
export interface RawPixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** A box in pixels of the image it is drawn on. */
export interface LabelledBox {
  box: { xmin: number; ymin: number; xmax: number; ymax: number };
  label: string;
  score?: number;
}

/** A soft or binary mask, row-major [height, width], values in 0..1 (or 0/255 for Uint8Array). */
export interface LabelledMask {
  mask: Float32Array | Uint8Array;
  label: string;
  score?: number | null;
}

export interface Annotations {
  /** Lines written in a band under the image (e.g. top-k labels). */
  captions?: string[];
  boxes?: LabelledBox[];
  /** Masks overlaid in distinct colours, with a legend under the image. */
  masks?: LabelledMask[];
  /** Mask opacity where the mask is 1 (default 0.5). */
  maskOpacity?: number;
}

/** How the picture is returned. */
export interface PictureOptions {
  /**
   * The longest side of the picture, in pixels: a larger image is scaled down to fit before boxes, labels and the
   * legend are drawn, so text stays legible and a 10000x10000 upload does not become a 300 MB PNG. Boxes stay in
   * the input image's pixels. Default: no limit.
   */
  maxSide?: number;
  /** Encoding of the returned bytes (default 'png'). */
  format?: 'png' | 'jpeg' | 'webp';
}

const FORMATS = ['png', 'jpeg', 'webp'] as const;

/** Distinct, colour-blind-friendly colours (Okabe-Ito, then Tableau), cycled. */
export const palette: readonly (readonly [number, number, number])[] = [
  [230, 159, 0],
  [86, 180, 233],
  [0, 158, 115],
  [240, 228, 66],
  [0, 114, 178],
  [213, 94, 0],
  [204, 121, 167],
  [78, 121, 167],
  [242, 142, 43],
  [225, 87, 89],
  [118, 183, 178],
  [89, 161, 79],
];

function colorOf(index: number): readonly [number, number, number] {
  return palette[index % palette.length]!;
}

function cssColor(index: number): string {
  const [r, g, b] = colorOf(index);
  return `rgb(${r},${g},${b})`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function withScore(label: string, score: number | null | undefined): string {
  return typeof score === 'number' ? `${label} ${score.toFixed(3)}` : label;
}

/** Blends each mask's colour into a copy of the RGB pixels, in order (later masks on top). */
function blendMasks(pixels: RawPixels, masks: LabelledMask[], opacity: number): Uint8Array {
  const { width, height, channels, data } = pixels;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p++, q += channels) {
    out[p * 3] = data[q]!;
    out[p * 3 + 1] = data[q + (channels > 2 ? 1 : 0)]!;
    out[p * 3 + 2] = data[q + (channels > 2 ? 2 : 0)]!;
  }
  masks.forEach(({ mask, label }, index) => {
    if (mask.length !== width * height) {
      throw new InputShapeError(
        `mask "${label}" has ${mask.length} values, expected ${height}x${width} = ${width * height} (the image size)`,
      );
    }
    const scale = mask instanceof Uint8Array ? 1 / 255 : 1;
    const [r, g, b] = colorOf(index);
    for (let p = 0; p < mask.length; p++) {
      const alpha = Math.min(1, Math.max(0, mask[p]! * scale)) * opacity;
      if (alpha === 0) continue;
      out[p * 3] = Math.round(out[p * 3]! * (1 - alpha) + r * alpha);
      out[p * 3 + 1] = Math.round(out[p * 3 + 1]! * (1 - alpha) + g * alpha);
      out[p * 3 + 2] = Math.round(out[p * 3 + 2]! * (1 - alpha) + b * alpha);
    }
  });
  return out;
}

function checkPictureOptions({ maxSide, format = 'png' }: PictureOptions): Required<PictureOptions> {
  if (maxSide !== undefined && !(Number.isInteger(maxSide) && maxSide >= 1)) {
    throw new InvalidArgumentError(`maxSide must be an integer >= 1, got ${String(maxSide)}`);
  }
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new InvalidArgumentError(
      `format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  }
  return { maxSide: maxSide ?? Number.POSITIVE_INFINITY, format };
}

/** The blended pixels, scaled down to fit `maxSide` (sharp's Lanczos: this picture is for people, not models). */
async function fitted(
  rgb: Uint8Array,
  width: number,
  height: number,
  maxSide: number,
): Promise<{ rgb: Uint8Array; width: number; height: number; scale: number }> {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  if (scale === 1) return { rgb, width, height, scale };
  const outWidth = Math.max(1, Math.round(width * scale));
  const outHeight = Math.max(1, Math.round(height * scale));
  const data = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(outWidth, outHeight, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { rgb: data, width: outWidth, height: outHeight, scale };
}

/**
 * Draws results onto an image for people to look at: masks blended in distinct colours, labelled boxes, and a
 * white band underneath with caption lines and a colour legend. Boxes are clipped to the image, a box entirely
 * outside it is drawn as a strip on the nearest edge, and such labels say `(clipped)` / `(outside the image)`;
 * labels of boxes that share a corner are placed apart (see `layoutBoxes`). Returns PNG bytes (or `format`), scaled
 * down to `maxSide` when given. The original pixels are not modified.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * import { annotateImage, loadImage } from '@ortvision/core';
 *
 * const image = await loadImage('cats.png');
 * const picture = await annotateImage(
 *   image,
 *   { boxes: [{ box: { xmin: 10, ymin: 50, xmax: 310, ymax: 470 }, label: 'a cat', score: 0.91 }] },
 *   { maxSide: 1280, format: 'jpeg' },
 * );
 * await writeFile('cats-annotated.jpg', picture);
 * ```
 */
export async function annotateImage(
  pixels: RawPixels,
  annotations: Annotations,
  options: PictureOptions = {},
): Promise<Buffer> {
  if (
    !(pixels.width > 0 && pixels.height > 0) ||
    pixels.data.length !== pixels.width * pixels.height * pixels.channels
  ) {
    throw new InputShapeError(
      `cannot draw on a ${pixels.width}x${pixels.height}x${pixels.channels} image of ${pixels.data.length} bytes`,
    );
  }
  const { maxSide, format } = checkPictureOptions(options);
  const opacity = annotations.maskOpacity ?? 0.5;
  if (!(opacity >= 0 && opacity <= 1))
    throw new InvalidArgumentError(`maskOpacity must be in [0, 1], got ${opacity}`);
  const masks = annotations.masks ?? [];
  const boxes = annotations.boxes ?? [];
  const captions = annotations.captions ?? [];
  const { rgb, width, height, scale } = await fitted(
    blendMasks(pixels, masks, opacity),
    pixels.width,
    pixels.height,
    maxSide,
  );

  // Text is sized from the picture so that captions stay legible on thumbnails and on photos alike.
  const fontSize = Math.max(11, Math.round(Math.min(width, 1600) / 40));
  const lineHeight = Math.round(fontSize * 1.4);
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const legend = masks.map((m, i) => ({ text: withScore(m.label, m.score), color: i }));
  const bandLines = captions.length + legend.length;
  const band = bandLines > 0 ? bandLines * lineHeight + Math.round(lineHeight / 2) : 0;
  const totalHeight = height + band;

  const parts: string[] = [];
  const scaled = boxes.map(({ box, label, score }) => ({
    box: { xmin: box.xmin * scale, ymin: box.ymin * scale, xmax: box.xmax * scale, ymax: box.ymax * scale },
    label: withScore(label, score),
  }));
  layoutBoxes(scaled, { width, height, fontSize, stroke }).forEach(({ rect, text, label }, index) => {
    const color = cssColor(index);
    // Centred on the edge, as before clipping: at the image border half the stroke still shows.
    parts.push(
      `<rect x="${rect.x}" y="${rect.y}" width="${rect.width}" height="${rect.height}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
      `<text x="${label.x + 2}" y="${label.y + fontSize}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="${color}" stroke="black" stroke-width="0.6" paint-order="stroke">${escapeXml(text)}</text>`,
    );
  });
  if (band > 0) {
    parts.push(`<rect x="0" y="${height}" width="${width}" height="${band}" fill="white"/>`);
    let y = height + lineHeight;
    for (const line of captions) {
      parts.push(
        `<text x="6" y="${y - Math.round(lineHeight * 0.25)}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="black">${escapeXml(line)}</text>`,
      );
      y += lineHeight;
    }
    for (const { text, color } of legend) {
      const top = y - lineHeight + Math.round(lineHeight * 0.2);
      parts.push(
        `<rect x="6" y="${top}" width="${fontSize}" height="${fontSize}" fill="${cssColor(color)}"/>`,
        `<text x="${12 + fontSize}" y="${y - Math.round(lineHeight * 0.25)}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="black">${escapeXml(text)}</text>`,
      );
      y += lineHeight;
    }
  }

  let canvas = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (band > 0) canvas = canvas.extend({ bottom: band, background: { r: 255, g: 255, b: 255 } });
  if (parts.length > 0) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${totalHeight}">${parts.join('')}</svg>`;
    // extend() and composite() are applied in one pipeline; materialise the extended canvas first so the
    // overlay covers the band too.
    const extended = await canvas.raw().toBuffer({ resolveWithObject: true });
    canvas = sharp(extended.data, { raw: extended.info }).composite([
      { input: Buffer.from(svg), top: 0, left: 0 },
    ]);
  }
  // The SVG overlay brings an alpha channel; the picture is opaque.
  return canvas.removeAlpha().toFormat(format).toBuffer();
}

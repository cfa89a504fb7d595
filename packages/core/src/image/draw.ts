import sharp from 'sharp';
import { InputShapeError, InvalidArgumentError } from '../errors.js';

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

/**
 * Draws results onto an image for people to look at: masks blended in distinct colours, labelled boxes, and a
 * white band underneath with caption lines and a colour legend. Returns PNG bytes. The original pixels are not
 * modified.
 */
export async function annotateImage(pixels: RawPixels, annotations: Annotations): Promise<Buffer> {
  const { width, height } = pixels;
  if (!(width > 0 && height > 0) || pixels.data.length !== width * height * pixels.channels) {
    throw new InputShapeError(
      `cannot draw on a ${width}x${height}x${pixels.channels} image of ${pixels.data.length} bytes`,
    );
  }
  const opacity = annotations.maskOpacity ?? 0.5;
  if (!(opacity >= 0 && opacity <= 1))
    throw new InvalidArgumentError(`maskOpacity must be in [0, 1], got ${opacity}`);
  const masks = annotations.masks ?? [];
  const boxes = annotations.boxes ?? [];
  const captions = annotations.captions ?? [];
  const rgb = blendMasks(pixels, masks, opacity);

  // Text is sized from the image so that captions stay legible on thumbnails and on photos alike.
  const fontSize = Math.max(11, Math.round(Math.min(width, 1600) / 40));
  const lineHeight = Math.round(fontSize * 1.4);
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const legend = masks.map((m, i) => ({ text: withScore(m.label, m.score), color: i }));
  const bandLines = captions.length + legend.length;
  const band = bandLines > 0 ? bandLines * lineHeight + Math.round(lineHeight / 2) : 0;
  const svgWidth = Math.max(width, 1);
  const totalHeight = height + band;

  const parts: string[] = [];
  boxes.forEach(({ box, label, score }, index) => {
    const x = Math.max(0, Math.min(box.xmin, box.xmax));
    const y = Math.max(0, Math.min(box.ymin, box.ymax));
    const w = Math.abs(box.xmax - box.xmin);
    const h = Math.abs(box.ymax - box.ymin);
    const color = cssColor(index);
    const text = escapeXml(withScore(label, score));
    const labelY = y >= fontSize + 4 ? y - 4 : y + fontSize + 2;
    parts.push(
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${color}" stroke-width="${stroke}"/>`,
      `<text x="${x + 2}" y="${labelY}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="${color}" stroke="black" stroke-width="0.6" paint-order="stroke">${text}</text>`,
    );
  });
  if (band > 0) {
    parts.push(`<rect x="0" y="${height}" width="${svgWidth}" height="${band}" fill="white"/>`);
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
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${totalHeight}">${parts.join('')}</svg>`;
    // extend() and composite() are applied in one pipeline; materialise the extended canvas first so the
    // overlay covers the band too.
    const extended = await canvas.raw().toBuffer({ resolveWithObject: true });
    canvas = sharp(extended.data, { raw: extended.info }).composite([
      { input: Buffer.from(svg), top: 0, left: 0 },
    ]);
  }
  return canvas.png().toBuffer();
}

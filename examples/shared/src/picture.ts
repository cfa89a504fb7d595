import { type Image, type LabelScore, type PictureOptions, annotateImage } from '@ortvision/core';

/**
 * Small images are enlarged (nearest neighbour, whole factors) for the picture only, so that captions drawn under
 * them stay readable; a 64 px digit becomes 320 px.
 */
export function enlargedForDisplay(image: Image, minSide = 320): Image {
  const scale = Math.max(1, Math.floor(minSide / Math.max(image.width, image.height)));
  return scale > 1 ? image.resize(image.width * scale, image.height * scale, 'nearest') : image;
}

/** One caption line per label: `cat  31.6%`. */
export function labelCaptions(labels: readonly LabelScore[]): string[] {
  return labels.map((l) => `${l.label}  ${(l.score * 100).toFixed(1)}%`);
}

/** The (enlarged) image with its ranked labels captioned underneath: PNG bytes, or as `picture` asks. */
export async function captionedPicture(
  image: Image,
  labels: readonly LabelScore[],
  picture: PictureOptions = {},
): Promise<Buffer> {
  return annotateImage(enlargedForDisplay(image), { captions: labelCaptions(labels) }, picture);
}

export { Image } from './image.js';
export type { ChannelCount, RawPixels } from './image.js';
export {
  DEFAULT_IMAGE_TIMEOUT_MS,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_MAX_PIXELS,
  decodeImage,
  loadImage,
  loadImages,
} from './load.js';
export type { ImageInput, LoadImageOptions } from './load.js';
export { PIL_RESAMPLE_CODES, resizePixels, toResampleFilter } from './resample.js';
export type { PixelBuffer, ResampleFilter, ResampleInput } from './resample.js';
export { configSizeDict, resizeOutputSize, shortestEdgeSize, toSizeDict } from './size.js';
export type { SizeDict, SizeInput } from './size.js';
export { centerCrop, padImage, pixelLookup, stackPlanar, toPlanar, writePlanar } from './transforms.js';
export type { ImageSize, ImagePadding, PixelScaling, PlanarImage } from './transforms.js';
export { ImageProcessor, PREPROCESS_OPTIONS, readPreprocessorConfig } from './image-processor.js';
export { CLIPImageProcessor } from './clip-image-processor.js';
export { ViTImageProcessor } from './vit-image-processor.js';
export type {
  ImageProcessorConfig,
  ImageProcessorOutput,
  PreprocessOptions,
  ResolvedPreprocessOptions,
} from './image-processor.js';
export { preprocessKwargNames, preprocessOptionsFromKwargs } from './kwargs.js';
export { annotateImage, palette } from './draw.js';
export type { Annotations, LabelledBox, LabelledMask, PictureOptions } from './draw.js';
export { layoutBoxes } from './box-layout.js';
export type { BoxFit, PixelRect, PlacedBox } from './box-layout.js';
export { checkOutputPixels } from './limits.js';

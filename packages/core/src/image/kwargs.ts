import { optionsFromKwargs } from '../validation/kwargs.js';
import type { PreprocessOptions } from './image-processor.js';

/** Python image-processor keyword arguments and the `preprocess` override each one is. */
export const preprocessKwargNames: Readonly<Record<string, keyof PreprocessOptions & string>> = {
  do_resize: 'doResize',
  size: 'size',
  resample: 'resample',
  do_center_crop: 'doCenterCrop',
  crop_size: 'cropSize',
  do_rescale: 'doRescale',
  rescale_factor: 'rescaleFactor',
  do_normalize: 'doNormalize',
  image_mean: 'imageMean',
  image_std: 'imageStd',
  do_convert_rgb: 'doConvertRgb',
  do_pad: 'doPad',
};

/**
 * Python image-processor keyword arguments (`{"do_normalize": false, "resample": 3}`, as a fixture manifest or
 * a Python snippet writes them) as `preprocess` overrides. Unknown names throw, so nothing is silently ignored.
 */
export function preprocessOptionsFromKwargs(kwargs: Readonly<Record<string, unknown>>): PreprocessOptions {
  return optionsFromKwargs<PreprocessOptions>(kwargs, preprocessKwargNames, 'image processor');
}

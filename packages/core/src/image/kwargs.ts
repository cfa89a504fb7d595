import { InvalidArgumentError } from '../errors.js';
import type { PreprocessOptions } from './image-processor.js';

const NAMES: Record<string, keyof PreprocessOptions> = {
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
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const name = NAMES[key];
    if (!name) {
      throw new InvalidArgumentError(
        `unknown image processor argument "${key}" (known: ${Object.keys(NAMES).join(', ')})`,
      );
    }
    if (value !== null && value !== undefined) options[name] = value;
  }
  return options as PreprocessOptions;
}
